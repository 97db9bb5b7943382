"""BM25 over chunk tokens: rank-bm25 (the reference) or bm25s (same ranking, sparse-matrix fast).

Both use Okapi BM25 with k1=1.5, b=0.75 and Robertson's idf clamped at zero for terms in more than half
of the chunks (rank-bm25 with ``epsilon=0`` equals bm25s' ``robertson`` method), so they score and rank identically.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Protocol

import numpy as np

K1 = 1.5
B = 0.75


class SparseIndex(Protocol):
    """What the hybrid index needs from a BM25 backend."""

    name: str

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the query."""

    def save(self, folder: Path) -> None:
        """Write the backend's files into ``folder``."""


class RankBM25Index:
    """rank-bm25's ``BM25Okapi``: scans every chunk per query; the design's reference backend."""

    name = "rank-bm25"
    _FILE = "bm25_rank.pkl"

    def __init__(self, model) -> None:
        self.model = model

    @classmethod
    def build(cls, corpus_tokens: list[list[str]]) -> RankBM25Index:
        from rank_bm25 import BM25Okapi

        # rank-bm25 divides by the mean document length; a corpus of empty documents has none.
        return cls(BM25Okapi(corpus_tokens or [[]], k1=K1, b=B, epsilon=0.0))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        return np.asarray(self.model.get_scores(query_tokens), dtype=np.float32)

    def save(self, folder: Path) -> None:
        with open(folder / self._FILE, "wb") as f:
            pickle.dump(self.model, f, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, folder: Path) -> RankBM25Index:
        with open(folder / cls._FILE, "rb") as f:
            return cls(pickle.load(f))


class BM25sIndex:
    """bm25s: scores precomputed into a sparse matrix, a query sums a few columns."""

    name = "bm25s"
    _DIR = "bm25s"

    def __init__(self, model) -> None:
        self.model = model

    @classmethod
    def build(cls, corpus_tokens: list[list[str]]) -> BM25sIndex:
        import bm25s

        model = bm25s.BM25(k1=K1, b=B, method="robertson")
        model.index(corpus_tokens, show_progress=False)
        return cls(model)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        vocab = self.model.vocab_dict
        known = [t for t in query_tokens if t in vocab]
        if not known:
            return np.zeros(self.model.scores["num_docs"], dtype=np.float32)
        # bm25s' "robertson" term weight leaves out BM25's constant (k1 + 1) numerator factor.
        return self.model.get_scores(known).astype(np.float32) * np.float32(K1 + 1)

    def save(self, folder: Path) -> None:
        self.model.save(str(folder / self._DIR))

    @classmethod
    def load(cls, folder: Path) -> BM25sIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder / cls._DIR)))


BACKENDS = {RankBM25Index.name: RankBM25Index, BM25sIndex.name: BM25sIndex}


def choose_backend(setting: str, n_chunks: int, bm25s_min_chunks: int) -> str:
    """The backend for ``setting``: ``auto`` takes bm25s from ``bm25s_min_chunks`` chunks on."""
    if setting != "auto":
        return setting
    return BM25sIndex.name if n_chunks >= bm25s_min_chunks else RankBM25Index.name


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Indices and scores of the ``k`` best positive scores, best first."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]
