"""Structure-aware chunking: each section is split on its own, so no chunk straddles two headings."""

from __future__ import annotations

import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from coursemate.retrieval.types import Chunk, Document

# Markdown heading lines (and blank lines) opening a section: they are the chunk's ``section`` already.
_LEADING_HEADINGS = re.compile(r"(?:[ \t]*#{1,6}[ \t][^\n]*(?:\n|\Z)|[ \t]*\n)+")


def chunk_documents(documents: list[Document], chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Split every section of every document; chunks keep doc id, title, section and character offsets.

    A section's own heading lines are left out of its chunks (``indexed_text`` puts the title and
    section in front of every chunk instead), so no chunk is a bare heading.
    """
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True
    )
    chunks: list[Chunk] = []
    for doc in documents:
        n = 0
        for section in doc.sections:
            heading = _LEADING_HEADINGS.match(doc.text, section.start, section.end)
            body_start = heading.end() if heading else section.start
            body = doc.text[body_start : section.end]
            for piece in splitter.create_documents([body]):
                start = body_start + piece.metadata["start_index"]
                chunks.append(
                    Chunk(
                        chunk_id=f"{doc.doc_id}#{n}",
                        doc_id=doc.doc_id,
                        title=doc.title,
                        section=section.title,
                        source=doc.source,
                        text=piece.page_content,
                        start=start,
                        end=start + len(piece.page_content),
                    )
                )
                n += 1
    return chunks


def indexed_text(chunk: Chunk) -> str:
    """What BM25 and the embedder see: the chunk with its document title and section as context."""
    heading = " - ".join(part for part in (chunk.title, chunk.section) if part)
    return f"{heading}\n{chunk.text}" if heading else chunk.text
