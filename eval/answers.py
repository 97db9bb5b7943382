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
from eval.datasets import EvalDataset, EvalQuery
from retrieval.types import Chunk
from tools.citations import Citation, cited_numbers, says_not_in_notes, strip_markers
from tools.verify import split_generated

JUDGE_PROMPT = (
    "Does the passage support the sentence? Answer with one word, yes or no.\n\n"
    "Passage:\n{passage}\n\nSentence:\n{sentence}\n\nAnswer:"
)


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
                {"sentence": sentence, "citation": citation.n, "supported": _judge(judge, sentence, citation.text)}
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


def _judge(model, sentence: str, passage: str) -> bool:
    from smolagents.models import ChatMessage, MessageRole

    prompt = JUDGE_PROMPT.format(passage=passage, sentence=sentence)
    reply = model.generate([ChatMessage(role=MessageRole.USER, content=[{"type": "text", "text": prompt}])])
    return str(reply.content or "").strip().lower().startswith("yes")


def _as_chunk(citation: Citation) -> Chunk:
    return Chunk(chunk_id=citation.chunk_id, doc_id=citation.doc_id, title=citation.title,
                 section=citation.section or "", source="", text=citation.text, start=0, end=0)


def _mean(values: list) -> float:
    return float(sum(values) / len(values)) if values else 0.0
