"""Grounding: decide whether the notes cover a question, prompt a model with numbered passages,
and keep only the ``[n]`` citations that point at passages the model was actually given."""

from __future__ import annotations

import re

from retrieval.types import Hit
from tools.citations import Citation
from tools.notes import Passage, format_passage

NOT_IN_NOTES = "This is not in the notes: the course notes do not cover it, so I will not guess."
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NOT_IN_NOTES = re.compile(r"\bnot (?:in|covered (?:in|by)|mentioned in|found in) the (?:course )?notes\b", re.I)
PROMPT_PASSAGE_CHARS = 700

SYSTEM_PROMPT = (
    "You are a teaching assistant for a deep learning course. Answer the question using only the numbered "
    "passages from the course notes. Cite the passages you use inline with their numbers, like [1] or [2]. "
    "If the passages do not answer the question, reply exactly: not in the notes. Be brief: two to four sentences."
)


def best_similarity(hits: list[Hit]) -> float:
    """The highest dense (cosine) score among ``hits``; 0 when none has one."""
    return max((h.dense_score for h in hits if h.dense_score is not None), default=0.0)


def covered(hits: list[Hit], min_similarity: float) -> bool:
    """Whether the notes cover the question: the closest passage is similar enough in meaning.

    BM25 scores do not separate in- from out-of-scope questions on the course notes (common words match);
    the dense cosine does (threshold calibrated by ``bench/agents.py --calibrate``).
    """
    return best_similarity(hits) >= min_similarity


def says_not_in_notes(text: str) -> bool:
    """Whether a model's answer declares that the notes do not cover the question."""
    return bool(_NOT_IN_NOTES.search(text or ""))


def grounded_prompt(question: str, passages: list[Passage]) -> str:
    """The user message of a grounded answer: the numbered passages, then the question."""
    context = "\n\n".join(format_passage(p, limit=PROMPT_PASSAGE_CHARS) for p in passages)
    return f"Passages from the course notes:\n\n{context}\n\nQuestion: {question}\nAnswer (cite passages like [1]):"


def cited_numbers(text: str) -> list[int]:
    """The passage numbers cited in ``text``, in order of first appearance."""
    found = [int(n) for group in _MARKER.findall(text or "") for n in re.split(r"\s*,\s*", group)]
    return list(dict.fromkeys(found))


def keep_valid_citations(text: str, passages: list[Passage]) -> tuple[str, list[Citation]]:
    """``text`` without the markers that cite no given passage, and the citations of the ones kept."""
    by_number = {p.n: p for p in passages}

    def rewrite(match: re.Match) -> str:
        valid = [n for n in (int(x) for x in re.split(r"\s*,\s*", match.group(1))) if n in by_number]
        return "".join(f"[{n}]" for n in valid)

    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", _MARKER.sub(rewrite, text or "")).strip()
    citations = [Citation.of(n, by_number[n].chunk, by_number[n].hit) for n in cited_numbers(cleaned)]
    return cleaned, citations


def passages_answer(passages: list[Passage], preview_chars: int = 400) -> tuple[str, list[Citation]]:
    """An answer made only of the best passages (when no model can write one), each cited."""
    lines = ["The most relevant passages from the notes:"]
    for p in passages:
        text = " ".join(p.chunk.text.split())
        if len(text) > preview_chars:
            text = text[:preview_chars].rsplit(" ", 1)[0] + " ..."
        where = " > ".join(x for x in (p.chunk.title, p.chunk.section) if x)
        lines.append(f"[{p.n}] {where}: {text}")
    return "\n".join(lines), [Citation.of(p.n, p.chunk, p.hit) for p in passages]
