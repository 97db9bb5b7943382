"""Embeddings kept by a hash of the text and the embedding model, so an index update embeds only new text.

A :class:`VectorCache` starts from the vectors of the previous index (its passages and sentences) and embeds
only the texts it has not seen; an update that adds one document embeds that document's passages and sentences
(and any sentence of another document whose text changed, e.g. by the corpus' truecasing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

import numpy as np

ProgressCallback = Callable[[str, float], None]
PROGRESS_SLICE = 256  # texts embedded between two progress reports


class VectorCache:
    """``cache.rows(texts)``: the normalized embedding of each text, embedding (with ``embed``) only unseen texts.

    ``model`` names the embedding model and backend: a vector is reused only for the same text and model.
    ``embedded`` counts the texts embedded so far.
    """

    def __init__(self, model: str, embed: Callable[[list[str]], np.ndarray],
                 on_progress: ProgressCallback | None = None) -> None:
        self.model = model
        self._embed = embed
        self._on_progress = on_progress
        self._vectors: dict[str, np.ndarray] = {}
        self.embedded = 0

    def key(self, text: str) -> str:
        """The hash that names ``text``'s vector under this model."""
        return hashlib.sha256(f"{self.model}\0{text}".encode()).hexdigest()

    def keep(self, texts: Iterable[str], vectors: np.ndarray) -> None:
        """Remember the vectors of ``texts`` (rows of ``vectors``, in order), e.g. those of the previous index."""
        for text, vector in zip(texts, vectors):
            self._vectors[self.key(text)] = vector

    def rows(self, texts: list[str], stage: str = "embedding") -> np.ndarray:
        """A float32 row per text; the unseen distinct texts are embedded (progress reported as ``stage``)."""
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in self._vectors))
        for start in range(0, len(missing), PROGRESS_SLICE):
            if self._on_progress:
                self._on_progress(stage, start / len(missing))
            batch = missing[start:start + PROGRESS_SLICE]
            self.keep(batch, np.asarray(self._embed(batch), dtype=np.float32))
            self.embedded += len(batch)
        if self._on_progress and missing:
            self._on_progress(stage, 1.0)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32, copy=False)
