"""The LangChain tutorial's hybrid retriever, as a peer row of ``coursemate eval retrieval`` and as the baseline
``bench/retrieval.py`` times.

The tutorial ensemble: ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=100)`` over each document's
text, ``BM25Retriever`` (rank-bm25 with its default whitespace tokens) and ``FAISS`` over the same MiniLM model our
index uses (wrapped as LangChain ``Embeddings``), fused by ``EnsembleRetriever(weights=[0.5, 0.5])`` (weighted RRF,
LangChain's constant c=60), each retriever returning ``k`` hits. A hit becomes a :class:`retrieval.types.Chunk`
with its document id, section and text, so the course gold (``EvalQuery.item_id``) and the metrics score it exactly
as they score ours, through :func:`eval.runner.evaluate`. It gets no spelling correction: it has none.

Embedding the chunks takes minutes on a loaded CPU, so their vectors are cached under
``settings.home / "eval-index" / "langchain-<fingerprint>"`` (model, backend, splitter and every chunk's text).
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coursemate.errors import CoursemateError
from coursemate.eval.datasets import EvalDataset
from coursemate.eval.runner import RunResult, evaluate
from coursemate.io import atomic_write_with
from coursemate.retrieval.index import SearchResults
from coursemate.retrieval.types import Chunk, Document, Hit

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.retrievers import BaseRetriever

    from coursemate.retrieval import NotesIndex

LABEL = "langchain"
SPLITTER_CHUNK_SIZE = 1000
SPLITTER_CHUNK_OVERLAP = 100
ENSEMBLE_WEIGHTS = [0.5, 0.5]
ENSEMBLE_C = 60  # EnsembleRetriever's default RRF constant, the tutorial's


def shared_embeddings(embed: Callable[[list[str]], np.ndarray]) -> Embeddings:
    """LangChain ``Embeddings`` over ``embed`` (normalized rows), e.g. ``NotesIndex.embed``: the model ours uses."""
    from langchain_core.embeddings import Embeddings

    class SharedEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embed(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embed([text])[0].tolist()

    return SharedEmbeddings()


def build_ensemble(
    texts: Sequence[str],
    vectors: np.ndarray,
    embeddings: Embeddings,
    metadatas: Sequence[dict[str, Any]],
    ids: Sequence[str],
    k: int,
    c: int = ENSEMBLE_C,
) -> tuple[dict[str, BaseRetriever], dict[str, float]]:
    """LangChain's retrievers over ``texts`` and their precomputed ``vectors``: ``bm25`` (``BM25Retriever``),
    ``dense`` (``FAISS``, inner product) and ``hybrid`` (``EnsembleRetriever`` over both, equal weights, RRF
    constant ``c``), each returning ``k`` hits; with each one's build seconds (hybrid: both plus the ensemble)."""
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy

    started = time.perf_counter()
    bm25 = BM25Retriever.from_texts(list(texts), metadatas=list(metadatas), ids=list(ids), k=k)
    bm25_s = time.perf_counter() - started
    started = time.perf_counter()
    store = FAISS.from_embeddings(
        zip(texts, vectors), embeddings, metadatas=list(metadatas), ids=list(ids),
        distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT,
    )
    dense = store.as_retriever(search_kwargs={"k": k})
    dense_s = time.perf_counter() - started
    started = time.perf_counter()
    hybrid = EnsembleRetriever(retrievers=[bm25, dense], weights=ENSEMBLE_WEIGHTS, c=c)
    hybrid_s = bm25_s + dense_s + time.perf_counter() - started
    return {"bm25": bm25, "dense": dense, "hybrid": hybrid}, {"bm25": bm25_s, "dense": dense_s, "hybrid": hybrid_s}


def split_documents(documents: Iterable[Document]) -> list[Chunk]:
    """The tutorial's chunks of each document's text, as :class:`Chunk` rows (``document.text[start:end] == text``;
    the section is the one the chunk starts in)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=SPLITTER_CHUNK_SIZE, chunk_overlap=SPLITTER_CHUNK_OVERLAP, add_start_index=True
    )
    chunks = []
    for document in documents:
        for n, piece in enumerate(splitter.create_documents([document.text])):
            start = piece.metadata["start_index"]
            section = next((s.title for s in reversed(document.sections) if s.start <= start), "")
            chunks.append(Chunk(f"{document.doc_id}::langchain-{n}", document.doc_id, document.title, section,
                                document.source, piece.page_content, start, start + len(piece.page_content)))
    return chunks


class LangChainBaseline:
    """The tutorial ensemble over an index's documents, searched like a ``NotesIndex`` (``search``) so that
    :func:`eval.runner.evaluate` scores it. ``embedded``: how many chunks this build had to embed (0 when cached)."""

    def __init__(self, index: NotesIndex, k: int = 10, progress: bool = False) -> None:
        if k < 1:
            raise CoursemateError(f"the LangChain baseline needs k >= 1; got {k}")
        self.chunks = split_documents(index.documents.values())
        if not self.chunks:
            raise CoursemateError("the LangChain baseline has no text to index")
        self.cache_path = vectors_path(index, self.chunks)
        vectors, self.embedded = _cached_vectors(index, self.chunks, self.cache_path, progress)
        self.retrievers, self.build_seconds = build_ensemble(
            [c.text for c in self.chunks], vectors, shared_embeddings(index.embed),
            metadatas=[{"position": i} for i in range(len(self.chunks))], ids=[c.chunk_id for c in self.chunks], k=k,
        )

    def search(self, query: str, k: int = 5, mode: str = "hybrid", *, correct: bool = False) -> SearchResults:
        """The first ``k`` chunks LangChain's ``mode`` retriever returns for ``query``, as typed (``correct`` must
        stay False: the peer has no spelling correction). The ensemble exposes no scores: ``Hit.score`` is NaN."""
        if correct:
            raise CoursemateError("the LangChain baseline has no spelling correction")
        if mode not in self.retrievers:
            raise CoursemateError(f"unknown mode {mode!r}; choose from {', '.join(self.retrievers)}")
        found = self.retrievers[mode].invoke(query)[:k]
        hits = [Hit(rank, self.chunks[d.metadata["position"]], float("nan")) for rank, d in enumerate(found, start=1)]
        return SearchResults(query=query, hits=hits, corrected=query)


def evaluate_langchain(
    index: NotesIndex, dataset: EvalDataset, *, k: int = 10, misspelled: bool = False, progress: bool = False
) -> RunResult:
    """The ``langchain`` row: the tutorial ensemble (retrievers returning ``k`` hits each) over ``index``'s documents,
    scored on ``dataset`` like our runs (the misspelled variants searched as typed with ``misspelled``)."""
    baseline = LangChainBaseline(index, k=k, progress=progress)
    config = {"system": "LangChain EnsembleRetriever(BM25Retriever, FAISS)", "chunk_size": SPLITTER_CHUNK_SIZE,
              "chunk_overlap": SPLITTER_CHUNK_OVERLAP, "weights": ENSEMBLE_WEIGHTS, "c": ENSEMBLE_C,
              "retriever_k": k, "chunks": len(baseline.chunks), "embedded_chunks": baseline.embedded}
    return evaluate(baseline, dataset, "hybrid", k=k, label=LABEL, misspelled=misspelled, spelling="off",
                    config=config)


def vectors_path(index: NotesIndex, chunks: Sequence[Chunk]) -> Path:
    """Where the vectors of ``chunks`` embedded by ``index``'s model are cached."""
    settings = index.settings
    digest = hashlib.sha256()
    for part in (settings.embedding_model, settings.embedding_backend, str(SPLITTER_CHUNK_SIZE),
                 str(SPLITTER_CHUNK_OVERLAP), *(f"{c.doc_id}\x01{c.text}" for c in chunks)):
        digest.update(part.encode() + b"\x00")
    return settings.home / "eval-index" / f"langchain-{digest.hexdigest()[:12]}" / "vectors.npy"


def _cached_vectors(index: NotesIndex, chunks: Sequence[Chunk], path: Path, progress: bool) -> tuple[np.ndarray, int]:
    """The chunk vectors from ``path`` when they are there and whole, else embedded and saved; with the number of
    chunks embedded."""
    if path.is_file():
        try:
            vectors = np.load(path)
        except (OSError, ValueError):
            vectors = None
        if vectors is not None and vectors.shape[0] == len(chunks):
            return vectors, 0
    if progress:
        print(f"embedding {len(chunks):,} LangChain chunks (cached afterwards in {path.parent}) ...", file=sys.stderr)
    vectors = index.embed([c.text for c in chunks])
    atomic_write_with(path, lambda tmp: _save(tmp, vectors))
    return vectors, len(chunks)


def _save(path: Path, vectors: np.ndarray) -> None:
    with path.open("wb") as f:  # a file object: np.save adds no ".npy" to the temporary name
        np.save(f, vectors)
