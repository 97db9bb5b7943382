"""The embedding backends: int8 ONNX, the CPU-feature ``auto`` backend and its portable fallback, on the real model."""

from __future__ import annotations

import numpy as np
import pytest

TEXTS = ["What do the LSTM gates do?", "x", "global average pooling " * 80, "Batch norm, dropout & L2.",
         "why do RNNs suffer from vanishing gradients", "softmax and cross entropy loss"]


@pytest.fixture(scope="module")
def torch_vectors(course_settings):
    from coursemate.retrieval.embeddings import embed, embedder_for

    return embed(embedder_for(course_settings.replace(embedding_backend="torch")), TEXTS)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_int8_export_is_cached_and_close_to_torch(course_settings, torch_vectors):
    from coursemate.retrieval.embeddings import OnnxEmbedder, embed, embedder_for, load_embedder

    int8 = embedder_for(course_settings.replace(embedding_backend="onnx-int8"))
    assert isinstance(int8, OnnxEmbedder) and "-int8-" in int8.onnx_path.name
    assert int8.onnx_path.parent == course_settings.models_dir
    written = int8.onnx_path.stat().st_mtime_ns
    vectors = embed(int8, TEXTS, batch_size=4)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert _cosines(vectors, torch_vectors).min() > 0.95
    # A second process-level load reuses the cached file instead of exporting again.
    again = load_embedder.__wrapped__(course_settings.embedding_model, course_settings.device,
                                      course_settings.torch_threads, "onnx-int8", str(course_settings.models_dir))
    assert again.onnx_path == int8.onnx_path and int8.onnx_path.stat().st_mtime_ns == written


def test_auto_backend_sends_queries_to_onnx_and_batches_to_torch(course_settings, torch_vectors):
    from coursemate.retrieval.embeddings import QUERY_TEXTS, AutoEmbedder, embed, embedder_for

    auto = embedder_for(course_settings.replace(embedding_backend="auto"))
    assert isinstance(auto, AutoEmbedder)
    batch = embed(auto, TEXTS)
    assert len(TEXTS) > QUERY_TEXTS and _cosines(batch, torch_vectors).min() > 0.999
    single = np.vstack([embed(auto, [t]) for t in TEXTS])
    assert np.array_equal(single, np.vstack([embed(auto.query, [t]) for t in TEXTS]))
    assert _cosines(single, torch_vectors).min() > 0.95


def test_auto_backend_without_vnni_or_bf16_keeps_fp32_vectors(course_settings, torch_vectors, monkeypatch):
    """A laptop CPU without VNNI or bf16 gets the fp32 ONNX graph for queries and fp32 torch for batches."""
    from coursemate.retrieval import embeddings

    monkeypatch.setattr(embeddings, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    auto = embeddings.load_embedder.__wrapped__(course_settings.embedding_model, "cpu", 1, "auto",
                                                str(course_settings.models_dir))
    assert auto.query.onnx_path.name.endswith("-fused.onnx") and not auto.bf16
    single = np.vstack([embeddings.embed(auto, [t]) for t in TEXTS])
    assert _cosines(single, torch_vectors).min() > 0.9999
    assert _cosines(embeddings.embed(auto, TEXTS), torch_vectors).min() > 0.9999


def test_cpu_flags_are_read_from_the_machine():
    from coursemate.retrieval.embeddings import cpu_flags

    flags = cpu_flags()
    assert isinstance(flags, frozenset)
    if flags:  # Linux on x86 (ARM's /proc/cpuinfo names them "Features": the portable choices)
        assert "sse2" in flags
