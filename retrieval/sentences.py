"""Sentences of the chunks, split once and embedded at index time for extractive answers and summaries.

One splitter for the whole project: each line (the notes keep a paragraph or a list item per line) is split with
pySBD, which knows abbreviations, decimals and initials ("e.g.", "3.5%", "Fig. 2"), so a student never reads a
fragment.
Headings, code fences, front matter and pieces shorter than :data:`MIN_SENTENCE_WORDS` words are skipped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coursemate.io import atomic_write_jsonl, read_jsonl
from retrieval.store import DamagedIndex

MIN_SENTENCE_WORDS = 4
SENTENCES_FILE = "sentences.jsonl"
VECTORS_FILE = "sentence_vectors.npy"

_LEAD = re.compile(r"^(?:[-*•]\s+|\d+[.)]\s+)")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_SKIP = re.compile(r"^(?:#|```|---|\||[a-z_]+:\s*['\"]?\d)")
_WORD = re.compile(r"[A-Za-z0-9]")


@functools.lru_cache(maxsize=1)
def segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def clean_sentence(text: str) -> str:
    """Light clean-up of a sentence: list markers, bold/code marks and runs of white space removed."""
    text = _LEAD.sub("", text.strip())
    text = _EMPHASIS.sub("", text)
    return " ".join(text.split()).strip("* ")


def split_sentences(text: str) -> list[str]:
    """The sentences (and list items) of ``text`` with at least ``MIN_SENTENCE_WORDS`` words, in order."""
    sentences: list[str] = []
    for line in (text or "").splitlines():
        if not line.strip() or _SKIP.match(line.strip()):
            continue
        for piece in segmenter().segment(line.strip()):
            sentence = clean_sentence(piece)
            if _word_count(sentence) >= MIN_SENTENCE_WORDS and not _is_title(sentence):
                sentences.append(sentence)
    return sentences


def _word_count(text: str) -> int:
    return sum(1 for word in text.split() if _WORD.search(word))


def _is_title(text: str) -> bool:
    """A heading-like line ("Average Pooling and Max Pooling"): no closing punctuation, mostly capitalized."""
    words = [w for w in text.split() if w[:1].isalpha()]
    return not text.endswith((".", "!", "?", ":", ")")) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


@dataclass
class SentenceIndex:
    """Every sentence of every chunk (``chunk_of[i]`` is the chunk position of sentence ``i``) and its embedding.

    ``by_chunk[c]`` lists the sentence positions of chunk ``c`` in reading order; ``vectors`` are normalized rows.
    """

    texts: list[str]
    chunk_of: list[int]
    vectors: np.ndarray

    def __post_init__(self) -> None:
        self.by_chunk: dict[int, list[int]] = {}
        for i, c in enumerate(self.chunk_of):
            self.by_chunk.setdefault(c, []).append(i)

    @classmethod
    def build(cls, chunk_texts: list[str], embed) -> SentenceIndex:
        """Split every chunk and embed each distinct sentence once (overlapping chunks repeat sentences)."""
        texts, chunk_of = [], []
        for c, text in enumerate(chunk_texts):
            for sentence in split_sentences(text):
                texts.append(sentence)
                chunk_of.append(c)
        distinct = list(dict.fromkeys(texts))
        if not distinct:
            return cls([], [], np.zeros((0, 1), dtype=np.float32))
        rows = np.asarray(embed(distinct), dtype=np.float32)
        position = {s: i for i, s in enumerate(distinct)}
        return cls(texts, chunk_of, rows[[position[s] for s in texts]])

    def rank_by_best_sentence(self, query_vector: np.ndarray, chunks: Iterable[int]) -> list[int]:
        """``chunks`` (positions) ordered by their best sentence's similarity to ``query_vector``, best first.

        Only the candidates' own sentences are scored, so the cost does not grow with the corpus. Chunks without
        sentences (a table, a heading) are left out.
        """
        candidates = [c for c in dict.fromkeys(chunks) if c in self.by_chunk]
        if not candidates:
            return []
        rows = np.concatenate([self.by_chunk[c] for c in candidates])
        starts = np.cumsum([0] + [len(self.by_chunk[c]) for c in candidates[:-1]])
        best = np.maximum.reduceat(self.vectors[rows] @ query_vector, starts)
        return [candidates[i] for i in np.argsort(-best, kind="stable")]

    def save(self, folder: Path) -> None:
        rows = ({"chunk": c, "text": t} for t, c in zip(self.texts, self.chunk_of))
        atomic_write_jsonl(folder / SENTENCES_FILE, rows)
        with open(folder / VECTORS_FILE, "wb") as handle:  # inside the index's atomic folder
            np.save(handle, self.vectors)

    @classmethod
    def load(cls, folder: Path) -> SentenceIndex:
        rows = read_jsonl(folder / SENTENCES_FILE)
        vectors = np.load(folder / VECTORS_FILE)
        if len(rows) != len(vectors):
            raise DamagedIndex(f"{folder}: sentence counts disagree")
        return cls([row["text"] for row in rows], [row["chunk"] for row in rows], vectors)
