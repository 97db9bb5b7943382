"""Sentences of the chunks, split once, typed and embedded at index time for extractive answers and summaries.

One splitter for the whole project: each line (the notes keep a paragraph or a list item per line) is split with
pySBD, which knows abbreviations, decimals and initials ("e.g.", "3.5%", "Fig. 2"), so a student never reads a
fragment. Each sentence is tidied and typed by :mod:`retrieval.notetext` (prose, lead-in, list item, table, code,
figure; standalone or not). Headings, code fences, front matter and pieces shorter than :data:`MIN_SENTENCE_WORDS`
words are skipped; every other sentence is kept, so the sentence ranking of a search still sees all the text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coursemate.io import atomic_write_jsonl, read_jsonl
from coursemate.retrieval.notetext import (
    CaseModel,
    NoteSentence,
    line_kind,
    sentence_issue,
    split_run_together,
    tidy,
    word_count,
)
from coursemate.retrieval.store import DamagedIndex

MIN_SENTENCE_WORDS = 4
SENTENCES_FILE = "sentences.jsonl"
VECTORS_FILE = "sentence_vectors.npy"

_CREDITED = re.compile(r"\w\.?\s*\(?\[?source\]?\)?\s*$", re.IGNORECASE)  # a caption ends with its image's credit
_SKIP = re.compile(r"^(?:#|```|---|[a-z_]+:\s*['\"]?\d)")


@functools.lru_cache(maxsize=1)
def segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def note_sentences(text: str, case: CaseModel | None = None) -> list[NoteSentence]:
    """The typed sentences (and list items) of ``text`` with at least ``MIN_SENTENCE_WORDS`` words, in order."""
    sentences: list[NoteSentence] = []
    lines = [line for line in (text or "").splitlines() if line.strip()]
    in_code = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            continue
        if _SKIP.match(stripped):
            continue
        kind = "code" if in_code else line_kind(stripped, lines[i + 1] if i + 1 < len(lines) else "")
        caption = kind == "prose" and _CREDITED.search(stripped)  # "... with multiple panels.source": a caption
        for piece in (part for segment in segmenter().segment(stripped) for part in split_run_together(segment)):
            clean = tidy(piece, case)
            if word_count(clean) < MIN_SENTENCE_WORDS or _is_title(clean):
                continue
            sentence_kind, issue = ("figure", "caption") if caption else sentence_issue(piece, clean, kind)
            sentences.append(NoteSentence(clean, sentence_kind, issue))
    return sentences


def split_sentences(text: str) -> list[str]:
    """The sentence texts of ``text`` (see :func:`note_sentences`)."""
    return [s.text for s in note_sentences(text)]


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
    kinds: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.kinds = self.kinds or ["prose"] * len(self.texts)
        self.issues = self.issues or [""] * len(self.texts)
        self.by_chunk: dict[int, list[int]] = {}
        for i, c in enumerate(self.chunk_of):
            self.by_chunk.setdefault(c, []).append(i)
        # made once: every answer reads the sentences of its passages
        self._records = [NoteSentence(*fields) for fields in zip(self.texts, self.kinds, self.issues)]

    @classmethod
    def build(cls, chunk_texts: list[str], embed, case: CaseModel | None = None) -> SentenceIndex:
        """Split and type every chunk and embed each distinct sentence once (overlapping chunks repeat sentences)."""
        records, chunk_of = [], []
        for c, text in enumerate(chunk_texts):
            for sentence in note_sentences(text, case):
                records.append(sentence)
                chunk_of.append(c)
        texts = [r.text for r in records]
        distinct = list(dict.fromkeys(texts))
        if not distinct:
            return cls([], [], np.zeros((0, 1), dtype=np.float32))
        rows = np.asarray(embed(distinct), dtype=np.float32)
        position = {s: i for i, s in enumerate(distinct)}
        return cls(texts, chunk_of, rows[[position[s] for s in texts]], [r.kind for r in records],
                   [r.issue for r in records])

    def records(self, rows: Iterable[int]) -> list[NoteSentence]:
        """The typed sentences at positions ``rows``."""
        return [self._records[i] for i in rows]

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
        rows = ({"chunk": c, "text": t, "kind": k, "issue": i}
                for t, c, k, i in zip(self.texts, self.chunk_of, self.kinds, self.issues))
        atomic_write_jsonl(folder / SENTENCES_FILE, rows)
        with open(folder / VECTORS_FILE, "wb") as handle:  # inside the index's atomic folder
            np.save(handle, self.vectors)

    @classmethod
    def load(cls, folder: Path) -> SentenceIndex:
        rows = read_jsonl(folder / SENTENCES_FILE)
        vectors = np.load(folder / VECTORS_FILE)
        if len(rows) != len(vectors):
            raise DamagedIndex(f"{folder}: sentence counts disagree")
        return cls([row["text"] for row in rows], [row["chunk"] for row in rows], vectors,
                   [row["kind"] for row in rows], [row["issue"] for row in rows])
