"""The citation record shared by answers and summaries: the chunk behind an ``[n]`` marker."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from retrieval.types import Chunk, Hit


@dataclass(frozen=True)
class Citation:
    """The chunk behind the marker ``[n]``, with its search provenance when it came from a search."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    bm25_rank: int | None = None
    dense_rank: int | None = None
    score: float | None = None

    @classmethod
    def of(cls, n: int, chunk: Chunk, hit: Hit | None = None) -> "Citation":
        """The citation numbered ``n`` of ``chunk`` (and of the search hit that found it, if any)."""
        provenance = (hit.bm25_rank, hit.dense_rank, hit.score) if hit else (None, None, None)
        return cls(n, chunk.chunk_id, chunk.doc_id, chunk.title, chunk.section, chunk.text, *provenance)

    def to_dict(self) -> dict:
        return asdict(self)
