"""The records retrieval works with: documents, their chunks, and search hits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Section:
    """A titled span ``text[start:end]`` of a document (a heading and what follows it)."""

    title: str
    start: int
    end: int


@dataclass
class Document:
    """One document of the corpus: a blog post, a course session, a notes file.

    ``sections`` are character spans of ``text``; a document without recovered structure has one
    untitled section covering all of it. ``metadata`` holds extras such as ``{"session": 4}``.
    """

    doc_id: str
    title: str
    text: str
    source: str
    sections: list[Section] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sections:
            self.sections = [Section("", 0, len(self.text))]

    def section_text(self, title: str) -> str:
        """The text of the first section whose title matches ``title`` (case-insensitive)."""
        for section in self.sections:
            if section.title.lower() == title.lower():
                return self.text[section.start : section.end]
        raise KeyError(title)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        sections = [Section(**s) for s in data.get("sections", [])]
        return cls(**{**data, "sections": sections})


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: ``document.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    source: str
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Hit:
    """A search result with its provenance: the rank and score each method gave it (None if it missed)."""

    rank: int
    chunk: Chunk
    score: float
    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    dense_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The flat JSON shape of ``coursemate search --json``."""
        c = self.chunk
        return {
            "rank": self.rank,
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "title": c.title,
            "section": c.section,
            "source": c.source,
            "text": c.text,
            "start": c.start,
            "end": c.end,
            "score": self.score,
            "bm25_rank": self.bm25_rank,
            "bm25_score": self.bm25_score,
            "dense_rank": self.dense_rank,
            "dense_score": self.dense_score,
        }
