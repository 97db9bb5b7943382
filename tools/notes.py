"""Agent tools over the notes: ``search_notes`` and ``read_document``.

Both number the passages they return through a shared :class:`PassageLog`, so a ``[n]`` an agent writes
in its answer maps back to exactly one chunk of the index.
"""

from __future__ import annotations

from pathlib import Path

from smolagents import Tool

from coursemate.errors import CoursemateError
from coursemate.retrieval.types import Hit
from coursemate.tools.grounding.citations import PassageLog, renumber_markers
from coursemate.tools.grounding.render import format_passage, text_with_sources
from coursemate.tools.summarize import Summary
from coursemate.tools.text_agent_tools import SummarizeTool

READ_LIMIT_CHARS = 4000


class SearchNotesTool(Tool):
    """Hybrid search of the notes; returns numbered passages to cite as [n]."""

    name = "search_notes"
    description = (
        "Searches the course notes and returns the most relevant passages, each numbered like [3] with its "
        "document title, section and doc_id. Cite a passage in the answer by its number, e.g. [3]."
    )
    inputs = {
        "query": {"type": "string", "description": "What to look for: a question or keywords."},
        "k": {"type": "integer", "description": "How many passages to return (default 4, at most 10).",
              "nullable": True},
    }
    output_type = "string"

    def __init__(self, index, log: PassageLog) -> None:
        super().__init__()
        self.index = index
        self.log = log
        self.last_hits: list[Hit] = []

    def forward(self, query: str, k: int | None = None) -> str:
        k = max(1, min(int(k or 4), 10))
        self.last_hits = self.index.search(query, k=k).hits  # spelling-corrected, like every search
        if not self.last_hits:
            return "No passages found."
        return "\n\n".join(format_passage(self.log.add(h.chunk, h), text=self.index.clean_text(h.chunk))
                             for h in self.last_hits)


class ReadDocumentTool(Tool):
    """Reads a document (or one section of it) as numbered passages."""

    name = "read_document"
    description = (
        "Reads a document of the notes by its doc_id (as shown by search_notes), optionally only one section. "
        "Returns its passages numbered like [3] (long documents are cut; ask for a section to read further)."
    )
    inputs = {
        "doc_id": {"type": "string",
                   "description": "The document id, e.g. 'session-05-batch-normalization-regularization'."},
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
                raise CoursemateError(
                    f"document {doc_id!r} has no section {section!r}; its sections: {'; '.join(titles)}")
            chunks = wanted
        parts, used = [], 0
        for i, chunk in enumerate(chunks):
            if used + len(chunk.text) > self.limit_chars and parts:
                rest = len(chunks) - i
                parts.append(f"... cut: {rest} more passage(s). Sections of this document: {'; '.join(titles)}")
                break
            parts.append(format_passage(self.log.add(chunk), text=self.index.clean_text(chunk)))
            used += len(chunk.text)
        return "\n\n".join(parts) if parts else f"Document {doc_id!r} is empty."


class SummarizeNotesTool(SummarizeTool):
    """summarize_notes whose [n] markers are renumbered into the answer's shared passage log."""

    def __init__(self, index, log: PassageLog, model=None, prompts_path: Path | None = None) -> None:
        super().__init__(index, model, prompts_path)
        self.log = log
        self._chunks = {c.chunk_id: c for c in index.chunks}

    def render(self, summary: Summary) -> str:
        numbers = {c.n: self.log.add(self._chunks[c.chunk_id]) for c in summary.citations if c.chunk_id in self._chunks}
        text = renumber_markers(summary.text, lambda n: numbers[n].n if n in numbers else None)
        return text_with_sources(text, [p.citation() for p in dict.fromkeys(numbers.values())])
