"""A LangChain retriever over a NotesIndex, so hybrid retrieval drops into any LangChain chain."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever

from coursemate.retrieval.index import NotesIndex


class NotesRetriever(BaseRetriever):
    """``NotesRetriever(index=NotesIndex.load_or_build(), k=5, mode="hybrid").invoke("question")``.

    Each LangChain document's metadata carries the hit's provenance (doc id, section, ranks, scores).
    """

    index: Any
    k: int = 5
    mode: str = "hybrid"
    correct: bool = True  # spelling-correct the query, like every search of the notes

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        index: NotesIndex = self.index
        return [
            LCDocument(page_content=hit.chunk.text, metadata={k: v for k, v in hit.to_dict().items() if k != "text"})
            for hit in index.search(query, k=self.k, mode=self.mode, correct=self.correct)
        ]
