"""Weighted reciprocal rank fusion (Cormack et al., 2009) of ranked lists."""

from __future__ import annotations

from collections.abc import Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[tuple[Sequence[int], float]], k: int = 60
) -> dict[int, float]:
    """Fuse ``(ranked ids, weight)`` lists: each id scores ``sum(weight / (k + rank))`` with ranks from 1."""
    fused: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, item in enumerate(ids, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused
