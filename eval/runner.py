"""Run a dataset's queries against an index and score them.

Indexes for evaluation are cached under ``settings.home / "eval-index" / <dataset>-<params hash>``: built
once per dataset and indexing parameters, then reused. Query-time settings (fusion weights, RRF k) and
tokenizer options are applied to an opened index without re-embedding anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursemate.config import DEFAULT_CORPUS_DIR, Settings
from coursemate.errors import CoursemateError
from coursemate.eval.datasets import EvalDataset, EvalQuery
from coursemate.eval.metrics import aggregate, dedupe, query_metrics

if TYPE_CHECKING:
    from coursemate.retrieval import NotesIndex

INDEX_PARAMS = ("chunk_size", "chunk_overlap", "topic_sections", "embedding_model", "embedding_backend",
                "sparse_backend", "dense_index", "hnsw_min_chunks")
TOKENIZER_PARAMS = ("bm25_stemming", "bm25_stopwords")
QUERY_PARAMS = ("rrf_k", "bm25_weight", "dense_weight", "sentence_weight", "candidates")
DEPTH_FACTOR = 3  # chunks retrieved per wanted item, so that k distinct documents remain after deduplication


@dataclass
class RunResult:
    """One configuration's scores: the mean metrics and every query's ranking for error analysis."""

    label: str
    config: dict[str, Any]
    metrics: dict[str, float]
    per_query: list[dict[str, Any]] = field(default_factory=list)


def course_notes(settings: Settings) -> Settings:
    """``settings`` over the shipped course notes: the course question sets ask about them, whatever notes the home
    serves (an instructor's own notes would make every figure meaningless)."""
    return settings.replace(corpus_paths=[DEFAULT_CORPUS_DIR])


def open_index(settings: Settings, dataset: EvalDataset, progress: bool = True) -> NotesIndex:
    """The cached evaluation index of ``dataset`` for the indexing parameters in ``settings``; a dataset without
    documents of its own is evaluated over the shipped course notes (:func:`course_notes`)."""
    from coursemate.retrieval import NotesIndex

    if dataset.documents is None:  # the home's index, when it is of the shipped notes and up to date, is the one
        settings = course_notes(settings)
        fresh = NotesIndex.load_if_fresh(settings)
        if fresh is not None:
            return fresh
    index_settings = settings.replace(index_dir=eval_index_dir(settings, dataset))
    return NotesIndex.load_or_build(index_settings, documents=dataset.documents, progress=progress)


def eval_index_dir(settings: Settings, dataset: EvalDataset) -> Path:
    """Where :func:`open_index` keeps the index of ``dataset`` for the indexing parameters in ``settings``."""
    from coursemate.retrieval.store import fingerprint_json

    params = {name: getattr(settings, name) for name in INDEX_PARAMS}
    if dataset.documents is None:
        params["corpus_paths"] = [str(p) for p in settings.corpus_paths]
    return settings.home / "eval-index" / f"{dataset.corpus or dataset.name}-{fingerprint_json(params)[:12]}"


def configure(index: NotesIndex, settings: Settings) -> NotesIndex:
    """``index`` searching with the query-time and tokenizer settings of ``settings`` (chunks and vectors shared)."""
    from coursemate.retrieval import NotesIndex
    from coursemate.retrieval.chunking import indexed_text
    from coursemate.retrieval.sparse import BACKENDS
    from coursemate.retrieval.tokenize import Tokenizer

    changed = {name for name in INDEX_PARAMS if getattr(settings, name) != getattr(index.settings, name)}
    if changed:
        raise CoursemateError(f"these settings need another index: {', '.join(sorted(changed))}")
    merged = index.settings.replace(**{name: getattr(settings, name) for name in QUERY_PARAMS + TOKENIZER_PARAMS})
    sparse = index.sparse
    if any(getattr(merged, name) != getattr(index.settings, name) for name in TOKENIZER_PARAMS):
        tokenizer = Tokenizer(merged.bm25_stemming, merged.bm25_stopwords)
        sparse = BACKENDS[index.manifest["sparse_backend"]].build(tokenizer.many(indexed_text(c) for c in index.chunks))
    return NotesIndex(merged, list(index.documents.values()), index.chunks, sparse, index.dense, index.manifest,
                      index.sentences)


SPELLING = ("off", "fuse", "replace")


def evaluate(
    index: NotesIndex,
    dataset: EvalDataset,
    mode: str,
    *,
    k: int = 10,
    label: str | None = None,
    misspelled: bool = False,
    spelling: str = "off",
    config: dict[str, Any] | None = None,
) -> RunResult:
    """Search every answerable query (its misspelled variant with ``misspelled``) and score the rankings of
    distinct items. ``spelling``: "fuse" searches through ``NotesIndex.search`` (the corrected query with the typed
    one fused in at a low weight: what every search does), "replace" searches the corrected query alone, "off"
    the typed query alone."""
    if spelling not in SPELLING:
        raise CoursemateError(f"spelling must be one of {', '.join(SPELLING)}; got {spelling!r}")
    queries = dataset.answerable
    if misspelled and not all(q.misspelled for q in queries):
        raise CoursemateError(f"dataset {dataset.name!r} has no misspelled variants")
    per_query, latencies = [], []
    for query in queries:
        text = query.misspelled if misspelled else query.text
        started = time.perf_counter()
        results = index.search(text, k=k * DEPTH_FACTOR, mode=mode, correct=spelling != "off")
        if spelling == "replace" and results.did_you_mean:
            results.hits = index.search(results.did_you_mean, k=k * DEPTH_FACTOR, mode=mode, correct=False).hits
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = dedupe([query.item_id(h.chunk) for h in results.hits])[:k]
        per_query.append(_query_record(query, text, results.did_you_mean, ranked, results.hits, latencies[-1]))
    metrics = aggregate([q["metrics"] for q in per_query], latencies)
    return RunResult(label or mode, {"mode": mode, "misspelled": misspelled, "spelling": spelling, **(config or {})},
                     metrics, per_query)


def _query_record(query: EvalQuery, text: str, corrected: str | None, ranked: list[str], hits,
                  latency_ms: float) -> dict[str, Any]:
    gold_rank = next((r for r, item in enumerate(ranked, start=1) if query.qrels.get(item, 0) > 0), None)
    return {
        "qid": query.qid,
        "query": text,
        "corrected": corrected,
        "gold": query.evidence or query.section or sorted(query.qrels),
        "gold_doc": query.doc_id or None,
        "first_relevant_rank": gold_rank,
        "ranked": ranked,
        "top_chunks": [h.chunk.chunk_id for h in hits[:5]],
        "metrics": query_metrics(ranked, query.qrels),
        "latency_ms": round(latency_ms, 2),
    }
