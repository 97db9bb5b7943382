"""Extractive selection of sentences, shared by summaries and answers.

Sentences come split and embedded from the index (:meth:`retrieval.NotesIndex.chunk_sentences`), so choosing
them costs a few matrix products, never a model call per sentence. :func:`mmr_within_budget` picks relevant,
non-redundant sentences within a word budget; :func:`extractive_answer` uses it to answer a question with
sentences of the retrieved passages, each followed by its passage's ``[n]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from retrieval.types import Chunk
from tools.citations import Citation, Passage

if TYPE_CHECKING:
    from retrieval import NotesIndex

MMR_LAMBDA = 0.7  # weight of relevance against redundancy with sentences already chosen
ANSWER_MIN_WORDS = 40
ANSWER_MAX_WORDS = 120
TERM_WEIGHT = 0.5  # weight of query-term overlap beside the embedding cosine (dev split)
KEEP_RELATIVE = 0.7  # past the minimum length, add a sentence only this close to the best one (dev split)
PAD_RELATIVE = 0.6  # below the minimum length, still only sentences this close to the best one
REDUNDANT = 0.85  # a sentence this similar to a chosen one says the same thing
_BACK_REFERENCES = ("it ", "this ", "these ", "they ", "that ", "such ", "those ", "its ", "their ", "here ",
                    "however", "therefore", "thus", "hence", "so ", "also", "instead", "similarly")


@dataclass(frozen=True)
class Candidate:
    """Sentence ``position`` of source ``source`` (a chunk or passage position), its text and embedding row."""

    source: int
    position: int
    text: str


def candidates_of(chunks: list[Chunk], sentences_of) -> tuple[list[Candidate], np.ndarray]:
    """Every distinct sentence of ``chunks`` (``sentences_of(chunk) -> (texts, vectors)``) and its vectors."""
    candidates: list[Candidate] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    for source, chunk in enumerate(chunks):
        texts, vectors = sentences_of(chunk)
        for position, (text, vector) in enumerate(zip(texts, vectors)):
            if text not in seen:  # overlapping chunks repeat sentences
                seen.add(text)
                candidates.append(Candidate(source, position, text))
                rows.append(vector)
    matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 1), dtype=np.float32)
    return candidates, matrix


def mmr_within_budget(
    vectors: np.ndarray,
    relevance: np.ndarray,
    lengths: list[int],
    budget: int,
    *,
    min_words: int = 0,
    relative: tuple[float, float] = (0.0, 0.0),
) -> list[int]:
    """Maximal marginal relevance selection of sentences whose lengths add up to at most ``budget`` words.

    A sentence is only added while its relevance is at least ``relative[0]`` times the best one's, and
    ``relative[1]`` times once ``min_words`` are chosen; the first is always chosen, even when over the budget.
    """
    chosen: list[int] = []
    remaining = set(range(len(lengths)))
    used = 0
    top = float(relevance.max()) if len(relevance) else 0.0
    while remaining:
        floor = relative[1] if used >= min_words else relative[0]
        fitting = [i for i in remaining if (used + lengths[i] <= budget and relevance[i] >= floor * top) or not chosen]
        if not fitting:
            break
        redundancy = (vectors[fitting] @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(len(fitting))
        scores = MMR_LAMBDA * relevance[fitting] - (1 - MMR_LAMBDA) * redundancy
        best = fitting[int(np.argmax(scores))]
        remaining.discard(best)
        if chosen and redundancy[fitting.index(best)] >= REDUNDANT:
            continue
        chosen.append(best)
        used += lengths[best]
    return chosen


def term_overlap(index: NotesIndex, query: str, texts: list[str]) -> np.ndarray:
    """For each text, the share of the query's content terms (stemmed, IDF-weighted) it contains."""
    terms = list(dict.fromkeys(index.tokenizer(query)))
    if not terms or not texts:
        return np.zeros(len(texts), dtype=np.float32)
    weights = index.idf(terms)
    weights = weights / (weights.sum() or 1.0)
    found = np.array([[t in set(index.tokenizer(text)) for t in terms] for text in texts], dtype=np.float32)
    return found @ weights


def extractive_answer(index: NotesIndex, question: str, passages: list[Passage],
                      query_vector: np.ndarray | None = None) -> tuple[str, list[Citation]]:
    """An answer made of the passages' sentences that answer ``question``, each followed by its ``[n]``."""
    candidates, vectors = candidates_of([p.chunk for p in passages], index.chunk_sentences)
    if not candidates:
        return "", []
    query = index.embed([question])[0] if query_vector is None else query_vector
    texts = [c.text for c in candidates]
    relevance = vectors @ query + TERM_WEIGHT * term_overlap(index, question, texts)
    chosen = mmr_within_budget(vectors, relevance, [len(t.split()) for t in texts], ANSWER_MAX_WORDS,
                               min_words=ANSWER_MIN_WORDS, relative=(PAD_RELATIVE, KEEP_RELATIVE))
    chosen = _without_repeats(_with_antecedents(chosen, candidates), texts, index.tokenizer)
    order = {}
    for i in chosen:  # passages in the order of their best sentence, sentences in reading order
        order.setdefault(candidates[i].source, len(order))
    chosen.sort(key=lambda i: (order[candidates[i].source], candidates[i].position))
    parts = [with_marker(candidates[i].text, passages[candidates[i].source].n) for i in chosen]
    cited = sorted({candidates[i].source for i in chosen}, key=lambda source: passages[source].n)
    return " ".join(parts), [passages[source].citation() for source in cited]


def with_marker(sentence: str, n: int) -> str:
    """``sentence`` with its ``[n]`` before the closing punctuation, which a list item without one gets: "... [2]."."""
    body, end = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?" else (sentence, ".")
    return f"{body} [{n}]{end}"


def _without_repeats(chosen: list[int], texts: list[str], tokenizer) -> list[int]:
    """``chosen`` without the sentences whose terms another chosen sentence already holds ("forget gate - reset
    some cells to zero" beside "f - sigma gate - forget gate - reset some cells to zero")."""
    terms = {i: set(tokenizer(texts[i])) for i in chosen}
    return [i for i in chosen if not any(j != i and terms[i] <= terms[j] and (terms[i] < terms[j] or j < i)
                                         for j in chosen)]


def _with_antecedents(chosen: list[int], candidates: list[Candidate]) -> list[int]:
    """``chosen`` plus the sentence before each chosen one that points back ("It ...", "This ...")."""
    position = {(c.source, c.position): i for i, c in enumerate(candidates)}
    out = list(chosen)
    for i in chosen:
        c = candidates[i]
        previous = position.get((c.source, c.position - 1))
        if c.text.lower().startswith(_BACK_REFERENCES) and previous is not None and previous not in out:
            out.append(previous)
    return out


def points_back(sentence: str) -> bool:
    """Whether ``sentence`` opens by pointing back at an earlier one ("It ...", "This ...", "However ...")."""
    return sentence.lower().startswith(_BACK_REFERENCES)
