"""Hybrid retrieval over course notes: BM25 (rank-bm25 / bm25s) + dense FAISS, fused by reciprocal rank fusion.

>>> from retrieval import NotesIndex
>>> hits = NotesIndex.load_or_build().search("what do LSTM gates do?", k=5)
"""

from coursemate.retrieval.index import NotesIndex
from coursemate.retrieval.types import Chunk, Document, Hit, Section

__all__ = ["NotesIndex", "Chunk", "Document", "Hit", "Section"]
