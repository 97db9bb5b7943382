"""The citation model of answers and summaries, in one place.

- :class:`Citation`: the chunk behind an ``[n]`` marker; :class:`Passage` and :class:`PassageLog`: the chunks
  shown while one answer is made, numbered from 1;
- the marker syntax (``[n]``, also ``[1, 2]`` as models write it): :data:`MARKER`, :func:`marker_numbers`,
  :func:`cited_numbers`, :func:`strip_markers`, :func:`renumber_markers`;
- the refusal: :data:`NOT_IN_NOTES` and :func:`says_not_in_notes`, used by the product and the evaluation alike.

How citations are shown (text, HTML, what a model reads) is :mod:`coursemate.tools.grounding.render`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass

from coursemate.retrieval.types import Chunk, Hit

MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([.,;:!?])")
NOT_IN_NOTES = "This is not in the notes: the course notes do not cover it, so I will not guess."
_REFUSAL = re.compile(
    r"not (?:in|covered (?:in|by)|found in|mentioned in|part of|discussed in) "
    r"(?:the |your |these |my )?(?:course )?notes"
    r"|notes (?:do not|don't|does not|doesn't) (?:cover|mention|contain|discuss|say|explain)"
    r"|(?:no|not find any|couldn't find any|could not find any) (?:relevant )?(?:information|passages?) "
    r"(?:about|on|in)",
    re.IGNORECASE,
)


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
    def of(cls, n: int, chunk: Chunk, hit: Hit | None = None) -> Citation:
        """The citation numbered ``n`` of ``chunk`` (and of the search hit that found it, if any)."""
        provenance = (hit.bm25_rank, hit.dense_rank, hit.score) if hit else (None, None, None)
        return cls(n, chunk.chunk_id, chunk.doc_id, chunk.title, chunk.section, chunk.text, *provenance)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A chunk shown to the model under the number ``n`` (with its hit, when it came from a search)."""

    n: int
    chunk: Chunk
    hit: Hit | None = None

    def citation(self) -> Citation:
        return Citation.of(self.n, self.chunk, self.hit)


class PassageLog:
    """The passages shown during one answer, numbered from 1 in the order they were first shown, and every showing
    in order (what each agent step was shown: :meth:`shown`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_chunk: dict[str, Passage] = {}
        self._shown: list[Passage] = []

    def add(self, chunk: Chunk, hit: Hit | None = None) -> Passage:
        """The passage for ``chunk``, numbered on first sight (a chunk shown twice keeps its number)."""
        with self._lock:
            passage = self._by_chunk.get(chunk.chunk_id)
            if passage is None:
                passage = Passage(len(self._by_chunk) + 1, chunk, hit)
                self._by_chunk[chunk.chunk_id] = passage
            self._shown.append(passage)
            return passage

    def passages(self) -> list[Passage]:
        """Every passage shown so far, by number."""
        with self._lock:
            return sorted(self._by_chunk.values(), key=lambda p: p.n)

    def shown(self, start: int = 0) -> list[Passage]:
        """The passages shown from the ``start``-th showing on, in the order shown (a chunk shown twice, twice)."""
        with self._lock:
            return self._shown[start:]


def marker_numbers(group: str) -> list[int]:
    """The numbers of one marker's group ("1, 2" of ``[1, 2]``)."""
    return [int(x) for x in re.split(r"\s*,\s*", group)]


def cited_numbers(text: str) -> list[int]:
    """The passage numbers cited in ``text``, in order of first appearance."""
    return list(dict.fromkeys(n for m in MARKER.finditer(text or "") for n in marker_numbers(m.group(1))))


def renumber_markers(text: str, mapping: Callable[[int], int | None]) -> str:
    """``text`` with each cited number ``n`` replaced by ``mapping(n)`` (dropped when None), one ``[n]`` each."""

    def rewrite(match: re.Match) -> str:
        kept = [m for m in (mapping(n) for n in marker_numbers(match.group(1))) if m is not None]
        return "".join(f"[{n}]" for n in dict.fromkeys(kept))

    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", MARKER.sub(rewrite, text or "")).strip()


def strip_markers(text: str) -> str:
    """``text`` without its citation markers."""
    return " ".join(renumber_markers(text, lambda n: None).split())


def says_not_in_notes(text: str) -> bool:
    """Whether ``text`` states that the notes do not cover the question (the one refusal detector)."""
    return bool(_REFUSAL.search(text or ""))
