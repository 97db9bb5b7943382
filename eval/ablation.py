"""Ablation grids: retrieval mode, fusion weights and RRF k, spelling correction, chunk size, tokenizer options.

Variants that share indexing parameters share one cached index; query-time and tokenizer options are
applied to it without re-embedding (see :func:`eval.runner.configure`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.eval.datasets import EvalDataset
from coursemate.eval.runner import INDEX_PARAMS, RunResult, configure, evaluate, open_index

GRIDS = ("default", "modes", "fusion", "chunking")
FUSION_RRF_K = (5, 10, 20, 40, 60)
FUSION_SENTENCE_WEIGHTS = (0.0, 0.5, 0.75, 1.0)
# (chunk size, overlap) pairs in characters: the chunkings compared on the dev split
CHUNKINGS = ((400, 60), (600, 90), (800, 0), (800, 120), (800, 240), (1200, 180), (1600, 240))


@dataclass(frozen=True)
class Variant:
    """One row of an ablation: a search mode, setting overrides and the query variant it runs on."""

    label: str
    mode: str = "hybrid"
    overrides: dict[str, Any] = field(default_factory=dict)
    spelling: str = "off"  # off | fuse (corrected query as an extra phrasing) | replace (search the correction)
    misspelled: bool = False


def build_grid(name: str, base: Settings, dataset: EvalDataset) -> list[Variant]:
    """The variants of grid ``name`` around the ``base`` settings."""
    if name not in GRIDS:
        raise CoursemateError(f"unknown grid {name!r}; choose one of {', '.join(GRIDS)}")
    variants = [Variant("bm25", "bm25"), Variant("dense", "dense"), Variant("hybrid", "hybrid")]
    if name == "modes":
        return variants
    if name == "fusion":  # query-time only: one index for every variant
        return variants[:2] + [
            Variant(f"hybrid rrf_k={k} sentence_weight={w}", overrides={"rrf_k": k, "sentence_weight": w})
            for k in FUSION_RRF_K for w in FUSION_SENTENCE_WEIGHTS]
    if name == "chunking":
        return [Variant(f"hybrid chunk {size}/{overlap}", overrides={"chunk_size": size, "chunk_overlap": overlap})
                for size, overlap in CHUNKINGS] + [Variant("hybrid chunk 800/120 no topics",
                                                           overrides={"topic_sections": False})]
    variants += [
        Variant(f"hybrid rrf_k={k}", overrides={"rrf_k": k}) for k in (10, 30, 100) if k != base.rrf_k
    ]
    variants += [
        Variant("hybrid bm25 weight 2", overrides={"bm25_weight": 2 * base.bm25_weight}),
        Variant("hybrid dense weight 2", overrides={"dense_weight": 2 * base.dense_weight}),
        Variant("bm25 no stemming", "bm25", {"bm25_stemming": False}),
        Variant("bm25 no stop words", "bm25", {"bm25_stopwords": False}),
        Variant("bm25 plain tokens", "bm25", {"bm25_stemming": False, "bm25_stopwords": False}),
    ]
    for size in (base.chunk_size // 2, base.chunk_size * 2):
        overlap = min(base.chunk_overlap, size // 4)
        variants.append(Variant(f"hybrid chunk {size}", overrides={"chunk_size": size, "chunk_overlap": overlap}))
    if all(q.misspelled for q in dataset.answerable):
        variants += [
            Variant("hybrid misspelled", misspelled=True),
            Variant("hybrid misspelled +spelling fused", spelling="fuse", misspelled=True),
            Variant("hybrid misspelled +spelling replaced", spelling="replace", misspelled=True),
        ]
    variants += [Variant("hybrid +spelling fused", spelling="fuse"),
                 Variant("hybrid +spelling replaced", spelling="replace")]
    return variants


def run_grid(
    variants: list[Variant],
    base: Settings,
    dataset: EvalDataset,
    k: int = 10,
    progress: Callable[[str], None] | None = None,
) -> list[RunResult]:
    """Evaluate every variant, opening (or building) each distinct index once."""
    indexes: dict[tuple, Any] = {}
    results = []
    for variant in variants:
        settings = base.replace(**variant.overrides)
        key = tuple(getattr(settings, name) for name in INDEX_PARAMS)
        if key not in indexes:
            indexes[key] = open_index(settings, dataset, progress=False)
        index = configure(indexes[key], settings)
        result = evaluate(
            index, dataset, variant.mode, k=k, label=variant.label, misspelled=variant.misspelled,
            spelling=variant.spelling, config=variant.overrides,
        )
        if progress:
            progress(f"{variant.label}: ndcg@10 {result.metrics['ndcg@10']:.3f}")
        results.append(result)
    return results
