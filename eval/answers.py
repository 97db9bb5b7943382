"""Answer evaluation: ask the assistant the course questions and check what it says.

- citation recall: for an in-scope question, is the gold evidence inside one of the cited chunks?
- citation support: does each cited passage support the sentence that cites it (``[n]`` markers), as judged
  by the language model?
- refusals: does the answer to an out-of-scope question say that the notes do not cover it?
"""

from __future__ import annotations

import time
from typing import Any

from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.io import read_jsonl
from coursemate.prompts import Prompts, load_prompts
from eval.datasets import COURSE_QUESTIONS, EvalDataset, EvalQuery, load_dataset, normalize
from retrieval.types import Chunk
from tools.citations import Citation, Passage, cited_numbers, says_not_in_notes, strip_markers
from tools.verify import split_generated, verify_citations

def cited_sentences(answer: str, citations: list[Citation]) -> list[tuple[str, Citation]]:
    """``(sentence, citation)`` for every ``[n]`` marker that names one of ``citations`` (by its own ``n``)."""
    by_number = {c.n: c for c in citations}
    return [(strip_markers(sentence), by_number[n]) for sentence in split_generated(answer)
            for n in cited_numbers(sentence) if n in by_number]


def cites_gold(query: EvalQuery, citations: list[Citation]) -> bool:
    """Whether a cited chunk holds the question's gold evidence."""
    return any(query.is_gold(_as_chunk(c)) for c in citations)


def evaluate_answers(settings: Settings, dataset: EvalDataset, limit: int | None = None) -> tuple[dict, list[dict]]:
    """Ask every question (or the first ``limit`` in-scope and out-of-scope ones); return summary and rows."""
    from agents import CourseAssistant
    from agents.llm import resolve_llm

    judge, info = resolve_llm(settings)
    if judge is None:
        raise CoursemateError(f"answer evaluation needs a language model: {info.detail}")
    assistant = CourseAssistant(settings)
    prompts = load_prompts(settings.prompts_path)
    in_scope = [q for q in dataset.queries if not q.out_of_scope][:limit]
    out_of_scope = [q for q in dataset.queries if q.out_of_scope][:limit]
    rows = []
    for query in in_scope + out_of_scope:
        started = time.perf_counter()
        answer = assistant.ask(query.text)
        seconds = time.perf_counter() - started
        citations = list(answer.citations)
        row = {"qid": query.qid, "question": query.text, "out_of_scope": query.out_of_scope, "answer": answer.answer,
               "model": answer.model, "cited": [c.chunk_id for c in citations], "seconds": round(seconds, 2),
               "says_not_in_notes": says_not_in_notes(answer.answer)}
        if not query.out_of_scope:
            row["cites_gold"] = cites_gold(query, citations)
            row["support"] = [
                {"sentence": sentence, "citation": citation.n, "supported": _judge(judge, prompts, sentence, citation.text)}
                for sentence, citation in cited_sentences(answer.answer, citations)
            ]
        rows.append(row)
    return _summary(rows, info.model), rows


def _summary(rows: list[dict], model: str | None) -> dict[str, Any]:
    answerable = [r for r in rows if not r["out_of_scope"]]
    refused = [r for r in rows if r["out_of_scope"]]
    judged = [s["supported"] for r in answerable for s in r["support"]]
    return {
        "judge_model": model or "",
        "questions": len(answerable),
        "out_of_scope_questions": len(refused),
        "citation_recall": _mean([r["cites_gold"] for r in answerable]),
        "citation_support": _mean(judged),
        "cited_sentences_judged": len(judged),
        "in_scope_wrongly_refused": _mean([r["says_not_in_notes"] for r in answerable]),
        "out_of_scope_refusal_rate": _mean([r["says_not_in_notes"] for r in refused]),
        "answer_seconds_mean": _mean([r["seconds"] for r in rows]),
    }


def _judge(model, prompts: Prompts, sentence: str, passage: str) -> bool:
    from smolagents.models import ChatMessage, MessageRole

    prompt = prompts.format("judge", passage=passage, sentence=sentence)
    reply = model.generate([ChatMessage(role=MessageRole.USER, content=[{"type": "text", "text": prompt}])])
    return str(reply.content or "").strip().lower().startswith("yes")


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


def course_split(query: EvalQuery, split: str) -> bool:
    """Whether a course question belongs to ``split`` (provisional: odd ids dev, even ids test)."""
    digits = "".join(ch for ch in query.qid if ch.isdigit())
    return (int(digits or 0) % 2 == 1) == (split == "dev")


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
    course = [q for q in load_dataset("course").queries if not q.out_of_scope and course_split(q, split)][:limit]
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

