"""Dense retrieval: normalized embeddings in a FAISS inner-product index (flat, HNSW or IVF; GPU when present)."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)
FILE = "dense.faiss"


def choose_kind(setting: str, n_vectors: int, hnsw_min_vectors: int) -> str:
    """The index kind for ``setting``: ``auto`` is exact (flat) below ``hnsw_min_vectors`` vectors, then HNSW."""
    if setting != "auto":
        return setting
    return "hnsw" if n_vectors >= hnsw_min_vectors else "flat"


class DenseIndex:
    """A FAISS index over L2-normalized vectors: inner product is cosine similarity."""

    def __init__(self, index: faiss.Index, kind: str) -> None:
        self.kind = kind
        self.index = _to_gpu_if_available(index)
        self._cpu_index = index

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat") -> DenseIndex:
        """``flat`` is exact; ``hnsw`` and ``ivf`` are approximate, for large corpora (see :func:`choose_kind`)."""
        n, dim = vectors.shape
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 64
        elif kind == "ivf" and n >= 1000:
            nlist = int(4 * math.sqrt(n))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
            index.nprobe = max(8, nlist // 16)
        else:
            if kind == "ivf":
                log.info("IVF needs at least 1000 vectors to train; using an exact flat index for %d", n)
            index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return cls(index, kind)

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Indices and cosine similarities of the ``k`` nearest chunks, best first."""
        k = min(k, self.index.ntotal)
        if k <= 0:
            return []
        scores, ids = self.index.search(query_vector.reshape(1, -1), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def save(self, folder: Path) -> None:
        faiss.write_index(self._cpu_index, str(folder / FILE))

    @classmethod
    def load(cls, folder: Path, kind: str) -> DenseIndex:
        return cls(faiss.read_index(str(folder / FILE)), kind)


def _to_gpu_if_available(index: faiss.Index) -> faiss.Index:
    """Move the index to the GPU with faiss-gpu when CUDA is there; unchanged otherwise."""
    if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
        return index
    try:
        return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
    except Exception as exc:  # noqa: BLE001 - e.g. HNSW has no GPU version: stay on CPU
        log.info("keeping the FAISS index on CPU: %s", exc)
        return index
