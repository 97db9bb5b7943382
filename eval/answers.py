"""The answer benchmark: every answer mode over the same questions of one split, one row of metrics per mode.

- ``cite_recall``: for an answerable question, a cited chunk holds the gold evidence (a citation carries its own n);
- ``answer_recall``: the answer text itself states the evidence;
- ``supported``: the share of the answer's claim sentences that one of its cited passages supports
  (:func:`tools.grounding.verify.verify_citations`);
- ``false_refusals``; ``near_refused`` / ``off_refused``: out-of-scope questions (near-topic, off-topic) refused;
- ``follow_up_accuracy``: a follow-up is resolved against the previous turn and a standalone question is not;
- latency p50 / p95;
- the readability checks a machine can make (:data:`READABILITY_CHECKS`), each the share of answers with at least
  one such sentence: one ending in ":", a "shown below" / "as follows" pointer, a code or table line, a lowercase
  sentence start, a sentence over 60 words, a heading glued to a sentence.

``--dump FILE`` writes {id, question, reference_evidence, answer, cited_passages} per answerable question (and
out-of-scope question) for a blind grader (``../shared/benchmarks/course-external/RUBRIC.md``).

A mode is ``extractive``, ``passages``, ``smollm2`` or any ``--llm`` value such as an OpenAI-compatible URL, so
the same command measures vLLM on a GPU machine.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from coursemate.config import Settings
from coursemate.eval.datasets import COURSE_QUESTIONS, EvalQuery, load_dataset
from coursemate.eval.runner import open_index
from coursemate.io import atomic_write_jsonl, read_jsonl
from coursemate.retrieval.notetext import (
    MAX_STANDALONE_WORDS,
    line_kind,
    sentence_issue,
    strip_glued_heading,
    word_count,
)
from coursemate.retrieval.sentences import segmenter
from coursemate.retrieval.types import Chunk
from coursemate.tools.grounding.citations import Citation, Passage, says_not_in_notes, strip_markers
from coursemate.tools.grounding.verify import verify_citations


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
    """Whether the answer text itself states the gold evidence: its words in order (markers removed; case, spaces
    and punctuation ignored, so "MobileNetV3-Small prioritizes ..." states "MobileNetV3-Small: Prioritizes ...")."""
    text = _words(strip_markers(answer))
    return any(_words(e) in text for _, e in query.evidence)


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


READABILITY_CHECKS = ("ends_colon", "pointer", "code_or_table", "lowercase_start", "over_60_words", "glued_heading")
_POINTER = re.compile(r"\b(?:shown below|shown above|as follows|the following:|below:|look at this|see below)\b", re.I)
_LIST_LINE = re.compile(r"^\s*[-*•]\s+")


def answer_sentences(answer: str) -> list[str]:
    """The sentences of an answer as a student reads them (markers removed; a list item is one sentence)."""
    sentences = []
    for line in strip_markers(answer).splitlines():
        line = _LIST_LINE.sub("", line).strip()
        sentences += [s.strip() for s in segmenter().segment(line) if s.strip()] if line else []
    return sentences


def readability_failures(answer: str) -> set[str]:
    """Which of :data:`READABILITY_CHECKS` an answer fails (the refusal and a tool's output are not checked)."""
    failed = set()
    for sentence in answer_sentences(answer):
        kind, _ = sentence_issue(sentence, sentence, line_kind(sentence))
        checks = {
            "ends_colon": sentence.rstrip().endswith(":"),
            "pointer": bool(_POINTER.search(sentence)),
            "code_or_table": kind in ("code", "table"),
            "lowercase_start": sentence[:1].islower(),
            "over_60_words": word_count(sentence) > MAX_STANDALONE_WORDS,
            "glued_heading": strip_glued_heading(sentence) != sentence,
        }
        failed |= {name for name, failed_check in checks.items() if failed_check}
    return failed


def supported_ratio(index, answer) -> float | None:
    """The share of the answer's claim sentences that one of its cited passages supports (None: no claims)."""
    chunks = {c.chunk_id: c for c in index.chunks}
    passages = [Passage(c.n, chunks[c.chunk_id]) for c in answer.citations if c.chunk_id in chunks]
    checked = verify_citations(index, answer.answer, passages)
    return checked.supported_ratio if checked.sentences else None


def benchmark(settings: Settings, modes: list[str], split: str = "test", limit: int | None = None,
              index=None, dataset: str = "course", dump: Path | None = None) -> dict[str, Any]:
    """Every mode over the same questions of ``split``: one row of metrics per mode (see eval/README.md).

    ``dataset``: "course" (with the shipped out-of-scope and follow-up sets) or a course-style questions file;
    ``dump``: where to write the first mode's answers for a blind grader."""
    from coursemate.agents import CourseAssistant

    loaded = load_dataset(dataset, split)
    index = index or open_index(settings, loaded, progress=False)  # the shipped notes, whatever the home serves
    questions = loaded.queries
    course = [q for q in questions if not q.out_of_scope][:limit]
    if dataset == "course":
        scope = [r for r in read_jsonl(OUT_OF_SCOPE) if r["split"] == split][:limit]
        follow = [r for r in read_jsonl(FOLLOW_UPS) if r["split"] == split][:limit]
    else:  # a questions file's own out-of-scope questions count as near-topic ones
        scope = [{"id": q.qid, "question": q.text, "kind": "near"} for q in questions if q.out_of_scope][:limit]
        follow = []
    rows = []
    for n, mode in enumerate(modes):
        overrides = MODE_SETTINGS.get(mode, {"llm": mode})
        assistant = CourseAssistant(settings.replace(**overrides), index=index)
        assistant.ask("warm up", conversation_id="warm-up")
        records: list[dict[str, Any]] | None = [] if dump is not None and n == 0 else None
        rows.append(_measure(mode, assistant, index, course, scope, follow, records))
        if records is not None:
            atomic_write_jsonl(Path(dump), records)
    return {"split": split, "dataset": dataset, "limit": limit, "questions": len(course), "out_of_scope": len(scope),
            "follow_ups": len(follow), "rows": rows}


def dump_record(qid: str, question: str, evidence: list[str], answer) -> dict[str, Any]:
    """One record for a blind grader: the question, the evidence a correct answer conveys, the answer, and the
    passages it cites."""
    return {"id": qid, "question": question, "reference_evidence": evidence, "answer": answer.answer,
            "cited_passages": [{"n": c.n, "title": c.title, "section": c.section, "text": c.text}
                               for c in answer.citations]}


def _measure(mode: str, assistant, index, course, scope, follow, records: list | None = None) -> dict[str, Any]:
    cite, states, refused, seconds, ratios = [], [], [], [], []
    failures = {name: [] for name in READABILITY_CHECKS}
    for query in course:
        started = time.perf_counter()
        answer = assistant.ask(query.text, conversation_id=f"q-{query.qid}")
        seconds.append(time.perf_counter() - started)
        cite.append(cites_gold(query, answer.citations))
        states.append(answer_states_evidence(query, answer.answer))
        is_refusal = answer.mode == "not_in_notes" or says_not_in_notes(answer.answer)
        refused.append(is_refusal)
        if not is_refusal:
            failed = readability_failures(answer.answer)
            for name in READABILITY_CHECKS:
                failures[name].append(name in failed)
        ratio = supported_ratio(index, answer)
        if ratio is not None:
            ratios.append(ratio)
        if records is not None:
            records.append(dump_record(query.qid, query.text, [e for _, e in query.evidence], answer))
    scope_refused = {"near": [], "off": []}
    for row in scope:
        answer = assistant.ask(row["question"], conversation_id=f"s-{row['id']}")
        scope_refused[row["kind"]].append(answer.mode == "not_in_notes" or says_not_in_notes(answer.answer))
        if records is not None:
            records.append(dump_record(row["id"], row["question"], ["(not in the notes: the answer should say so)"],
                                       answer))
    follow_ok = []
    for row in follow:
        conversation = f"f-{row['id']}"
        first = assistant.ask(row["first"], conversation_id=conversation)
        answer = assistant.ask(row["second"], conversation_id=conversation)
        if records is not None and row["follow_up"]:
            records.append(dump_record(row["id"], f'(earlier question: "{row["first"]}", answered: "{first.answer}") '
                                       f'{row["second"]}', ["(a follow-up: judge it against what the earlier "
                                                            "question makes it mean)"], answer))
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
        "readability": {name: _mean(values) for name, values in failures.items()},
    }


def format_benchmark(report: dict[str, Any]) -> str:
    """The benchmark as two tables, a row per mode: the answer metrics, then the readability checks (the share
    of answers failing each)."""
    columns = ("cite_recall", "answer_recall", "supported", "false_refusals", "near_refused", "off_refused",
               "follow_up_accuracy", "p50_ms", "p95_ms")
    lines = [f"{report.get('dataset', 'course')} split {report['split']}: {report['questions']} course questions, "
             f"{report['out_of_scope']} out of scope, {report['follow_ups']} follow-up pairs"
             + (f" (--limit {report['limit']})" if report["limit"] else ""),
             "| mode | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row in report["rows"]:
        cells = [f"{row[c]:.0f}" if c.endswith("_ms") else f"{row[c]:.3f}" for c in columns]
        lines.append(f"| {row['mode']} | " + " | ".join(cells) + " |")
    lines += ["", "readability (share of answers failing each check):",
              "| mode | " + " | ".join(READABILITY_CHECKS) + " |", "|---" * (len(READABILITY_CHECKS) + 1) + "|"]
    for row in report["rows"]:
        lines.append(f"| {row['mode']} | " + " | ".join(f"{row['readability'][c]:.3f}" for c in READABILITY_CHECKS)
                     + " |")
    return "\n".join(lines)
