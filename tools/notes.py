"""Agent tools over the notes: ``search_notes`` and ``read_document``.

Both number the passages they return through a shared :class:`PassageLog`, so a ``[n]`` an agent writes
in its answer maps back to exactly one chunk of the index.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from smolagents import Tool

from coursemate.errors import CoursemateError
from retrieval.types import Chunk, Hit
from tools.summarize import Summary
from tools.text_agent_tools import SummarizeTool

READ_LIMIT_CHARS = 4000
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Passage:
    """A chunk shown to the model under the number ``n`` (with its hit, when it came from a search)."""

    n: int
    chunk: Chunk
    hit: Hit | None = None


class PassageLog:
    """The passages shown during one answer, numbered from 1 in the order they were first shown."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_chunk: dict[str, Passage] = {}

    def add(self, chunk: Chunk, hit: Hit | None = None) -> Passage:
        """The passage for ``chunk``, numbered on first sight (a chunk shown twice keeps its number)."""
        with self._lock:
            passage = self._by_chunk.get(chunk.chunk_id)
            if passage is None:
                passage = Passage(len(self._by_chunk) + 1, chunk, hit)
                self._by_chunk[chunk.chunk_id] = passage
            return passage

    def passages(self) -> list[Passage]:
        """Every passage shown so far, by number."""
        with self._lock:
            return sorted(self._by_chunk.values(), key=lambda p: p.n)

    def get(self, n: int) -> Passage | None:
        """The passage numbered ``n``, if one was shown."""
        return next((p for p in self.passages() if p.n == n), None)

    def reset(self) -> None:
        with self._lock:
            self._by_chunk.clear()


def passage_heading(passage: Passage) -> str:
    """``[n] Title > Section (doc_id: ...)``."""
    c = passage.chunk
    where = " > ".join(p for p in (c.title, c.section) if p)
    return f"[{passage.n}] {where} (doc_id: {c.doc_id})"


def format_passage(passage: Passage, limit: int | None = None) -> str:
    """The passage heading and its text (cut at ``limit`` characters)."""
    text = passage.chunk.text.strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip() + " ..."
    return f"{passage_heading(passage)}\n{text}"


class SearchNotesTool(Tool):
    """Hybrid search of the notes; returns numbered passages to cite as [n]."""

    name = "search_notes"
    description = (
        "Searches the course notes and returns the most relevant passages, each numbered like [3] with its "
        "document title, section and doc_id. Cite a passage in the answer by its number, e.g. [3]."
    )
    inputs = {
        "query": {"type": "string", "description": "What to look for: a question or keywords."},
        "k": {"type": "integer", "description": "How many passages to return (default 4, at most 10).", "nullable": True},
    }
    output_type = "string"

    def __init__(self, index, log: PassageLog) -> None:
        super().__init__()
        self.index = index
        self.log = log
        self.last_hits: list[Hit] = []

    def forward(self, query: str, k: int | None = None) -> str:
        k = max(1, min(int(k or 4), 10))
        self.last_hits = self.index.search(query, k=k)  # spelling-corrected, like every search
        if not self.last_hits:
            return "No passages found."
        return "\n\n".join(format_passage(self.log.add(h.chunk, h)) for h in self.last_hits)


class ReadDocumentTool(Tool):
    """Reads a document (or one section of it) as numbered passages."""

    name = "read_document"
    description = (
        "Reads a document of the notes by its doc_id (as shown by search_notes), optionally only one section. "
        "Returns its passages numbered like [3] (long documents are cut; ask for a section to read further)."
    )
    inputs = {
        "doc_id": {"type": "string", "description": "The document id, e.g. 'session-05-batch-normalization-regularization'."},
        "section": {"type": "string", "description": "A section title of that document (optional).", "nullable": True},
    }
    output_type = "string"

    def __init__(self, index, log: PassageLog, limit_chars: int = READ_LIMIT_CHARS) -> None:
        super().__init__()
        self.index = index
        self.log = log
        self.limit_chars = limit_chars

    def forward(self, doc_id: str, section: str | None = None) -> str:
        document = self.index.document(doc_id)
        chunks = [c for c in self.index.chunks if c.doc_id == doc_id]
        titles = list(dict.fromkeys(s.title for s in document.sections if s.title))
        if section:
            wanted = [c for c in chunks if c.section.lower() == section.strip().lower()]
            if not wanted:
                raise CoursemateError(f"document {doc_id!r} has no section {section!r}; its sections: {'; '.join(titles)}")
            chunks = wanted
        parts, used = [], 0
        for i, chunk in enumerate(chunks):
            if used + len(chunk.text) > self.limit_chars and parts:
                rest = len(chunks) - i
                parts.append(f"... cut: {rest} more passage(s). Sections of this document: {'; '.join(titles)}")
                break
            parts.append(format_passage(self.log.add(chunk)))
            used += len(chunk.text)
        return "\n\n".join(parts) if parts else f"Document {doc_id!r} is empty."


class SummarizeNotesTool(SummarizeTool):
    """summarize_notes whose [n] markers are renumbered into the answer's shared passage log."""

    def __init__(self, index, log: PassageLog, model=None) -> None:
        super().__init__(index, model)
        self.log = log
        self._chunks = {c.chunk_id: c for c in index.chunks}

    def render(self, summary: Summary) -> str:
        numbers = {c.n: self.log.add(self._chunks[c.chunk_id]) for c in summary.citations if c.chunk_id in self._chunks}
        text = _MARKER.sub(lambda m: f"[{numbers[int(m.group(1))].n}]" if int(m.group(1)) in numbers else "", summary.text)
        sources = [passage_heading(p) for p in dict.fromkeys(numbers.values())]
        return text + "\n\nSources:\n" + "\n".join(sources)