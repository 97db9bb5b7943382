"""Ranking metrics with their standard definitions, over ranked item ids and graded relevance judgments.

``ranked`` is a list of distinct item ids, best first; ``qrels`` maps relevant ids to a positive grade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

RECALL_CUTOFFS = (1, 3, 5, 10)
METRIC_NAMES = tuple(f"recall@{k}" for k in RECALL_CUTOFFS) + ("mrr@10", "ndcg@10", "latency_p50_ms", "latency_p95_ms")
QUALITY_METRICS = METRIC_NAMES[:-2]


def recall_at(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """The share of the relevant items found in the top ``k`` (BEIR's recall)."""
    relevant = {doc for doc, grade in qrels.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """The reciprocal rank of the first relevant item in the top ``k``, 0 when there is none."""
    for rank, doc in enumerate(ranked[:k], start=1):
        if qrels.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Normalized discounted cumulative gain with gain = grade and discount log2(rank + 1)."""
    dcg = sum(qrels.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], start=1))
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def query_metrics(ranked: Sequence[str], qrels: Mapping[str, int]) -> dict[str, float]:
    """Every quality metric of one query."""
    scores = {f"recall@{k}": recall_at(ranked, qrels, k) for k in RECALL_CUTOFFS}
    scores["mrr@10"] = mrr_at(ranked, qrels, 10)
    scores["ndcg@10"] = ndcg_at(ranked, qrels, 10)
    return scores


def aggregate(per_query: Sequence[Mapping[str, float]], latencies_ms: Sequence[float]) -> dict[str, float]:
    """Mean of every quality metric over queries, plus latency p50 and p95 (milliseconds)."""
    if not per_query:
        raise ValueError("no queries to aggregate")
    summary = {name: float(np.mean([q[name] for q in per_query])) for name in QUALITY_METRICS}
    summary["latency_p50_ms"] = float(np.percentile(latencies_ms, 50))
    summary["latency_p95_ms"] = float(np.percentile(latencies_ms, 95))
    return summary


def dedupe(ids: Sequence[str]) -> list[str]:
    """``ids`` with repeats removed, each kept at its first (best) rank."""
    return list(dict.fromkeys(ids))
