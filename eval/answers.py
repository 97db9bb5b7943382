"""The answer benchmark: every answer mode over the same questions of one split, one row of metrics per mode.

- ``cite_recall``: for an answerable question, a cited chunk holds the gold evidence (a citation carries its own n);
- ``answer_recall``: the answer text itself states the evidence;
- ``supported``: the share of the answer's claim sentences that one of its cited passages supports
  (:func:`tools.verify.verify_citations`);
- ``false_refusals``; ``near_refused`` / ``off_refused``: out-of-scope questions (near-topic, off-topic) refused;
- ``follow_up_accuracy``: a follow-up is resolved against the previous turn and a standalone question is not;
- latency p50 / p95.

A mode is ``extractive``, ``passages``, ``smollm2`` or any ``--llm`` value such as an OpenAI-compatible URL, so
the same command measures vLLM on a GPU machine.
"""

from __future__ import annotations

import time
from typing import Any

from coursemate.config import Settings
from coursemate.io import read_jsonl
from eval.datasets import COURSE_QUESTIONS, EvalQuery, load_dataset, normalize
from retrieval.types import Chunk
from tools.citations import Citation, Passage, says_not_in_notes, strip_markers
from tools.verify import verify_citations


def cites_gold(query: EvalQuery, citations: list[Citation]) -> bool:
    """Whether a cited chunk holds the question's gold evidence."""
    return any(query.is_gold(_as_chunk(c)) for c in citations)


def _as_chunk(citation: Citation) -> Chunk:
    return Chunk(chunk_id=citation.chunk_id, doc_id=citation.doc_id, title=citation.title,
                 section=citation.section or "", source="", text=citation.text, start=0, end=0)


def _mean(values: list) -> float:
    return float(sum(values) / len(values)) if values else 0.0


# ----------------------------------------------------------------------------- the answer benchmark
OUT_OF_SCOPE = COURSE_QUESTIONS.parent / "out_of_scope.jsonl"
FOLLOW_UPS = COURSE_QUESTIONS.parent / "follow_ups.jsonl"
MODE_SETTINGS = {"extractive": {"llm": "extractive"}, "passages": {"llm": "none"},
                 "smollm2": {"llm": "smollm2", "agent_mode": "grounded"}}


def answer_states_evidence(query: EvalQuery, answer: str) -> bool:
    """Whether the answer text itself states the gold evidence (markers removed, case and spaces ignored)."""
    text = normalize(strip_markers(answer))
    return any(normalize(e) in text for _, e in query.evidence)


def supported_ratio(index, answer) -> float | None:
    """The share of the answer's claim sentences that one of its cited passages supports (None: no claims)."""
    chunks = {c.chunk_id: c for c in index.chunks}
    passages = [Passage(c.n, chunks[c.chunk_id]) for c in answer.citations if c.chunk_id in chunks]
    checked = verify_citations(index, answer.answer, passages)
    return checked.supported_ratio if checked.sentences else None


def benchmark(settings: Settings, modes: list[str], split: str = "test", limit: int | None = None,
              index=None) -> dict[str, Any]:
    """Every mode over the same questions of ``split``: one row of metrics per mode (see eval/README.md)."""
    from agents import CourseAssistant
    from retrieval import NotesIndex

    index = index or NotesIndex.load_or_build(settings, progress=False)
    course = [q for q in load_dataset("course", split).queries if not q.out_of_scope][:limit]
    scope = [r for r in read_jsonl(OUT_OF_SCOPE) if r["split"] == split][:limit]
    follow = [r for r in read_jsonl(FOLLOW_UPS) if r["split"] == split][:limit]
    rows = []
    for mode in modes:
        overrides = MODE_SETTINGS.get(mode, {"llm": mode})
        assistant = CourseAssistant(settings.replace(**overrides), index=index)
        assistant.ask("warm up", conversation_id="warm-up")
        rows.append(_measure(mode, assistant, index, course, scope, follow))
    return {"split": split, "limit": limit, "questions": len(course), "out_of_scope": len(scope),
            "follow_ups": len(follow), "rows": rows}


def _measure(mode: str, assistant, index, course, scope, follow) -> dict[str, Any]:
    cite, states, refused, seconds, ratios = [], [], [], [], []
    for query in course:
        started = time.perf_counter()
        answer = assistant.ask(query.text, conversation_id=f"q-{query.qid}")
        seconds.append(time.perf_counter() - started)
        cite.append(cites_gold(query, answer.citations))
        states.append(answer_states_evidence(query, answer.answer))
        refused.append(answer.mode == "not_in_notes" or says_not_in_notes(answer.answer))
        ratio = supported_ratio(index, answer)
        if ratio is not None:
            ratios.append(ratio)
    scope_refused = {"near": [], "off": []}
    for row in scope:
        answer = assistant.ask(row["question"], conversation_id=f"s-{row['id']}")
        scope_refused[row["kind"]].append(answer.mode == "not_in_notes" or says_not_in_notes(answer.answer))
    follow_ok = []
    for row in follow:
        conversation = f"f-{row['id']}"
        assistant.ask(row["first"], conversation_id=conversation)
        answer = assistant.ask(row["second"], conversation_id=conversation)
        merged = answer.trace.resolved_question != row["second"]
        right_doc = any(c.doc_id in row["docs"] for c in answer.citations)
        follow_ok.append(right_doc and (row["follow_up"] or not merged))
    ordered = sorted(seconds)
    return {
        "mode": mode, "cite_recall": _mean(cite), "answer_recall": _mean(states), "supported": _mean(ratios),
        "false_refusals": _mean(refused), "near_refused": _mean(scope_refused["near"]),
        "off_refused": _mean(scope_refused["off"]), "follow_up_accuracy": _mean(follow_ok),
        "p50_ms": 1000 * ordered[len(ordered) // 2] if ordered else 0.0,
        "p95_ms": 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0,
    }


def format_benchmark(report: dict[str, Any]) -> str:
    """The benchmark as one table, a row per mode."""
    columns = ("cite_recall", "answer_recall", "supported", "false_refusals", "near_refused", "off_refused",
               "follow_up_accuracy", "p50_ms", "p95_ms")
    lines = [f"split {report['split']}: {report['questions']} course questions, {report['out_of_scope']} out of scope, "
             f"{report['follow_ups']} follow-up pairs" + (f" (--limit {report['limit']})" if report["limit"] else ""),
             "| mode | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row in report["rows"]:
        cells = [f"{row[c]:.0f}" if c.endswith("_ms") else f"{row[c]:.3f}" for c in columns]
        lines.append(f"| {row['mode']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

