"""Embedding backends side by side: torch (sentence-transformers) against ONNX Runtime, fp32 and int8.

    python bench/embedding.py [--backends torch,onnx,onnx-int8] [--threads 1] [--sample 256]
                              [--dataset course] [--scifact ../shared/benchmarks/scifact] [--json OUT]

For each backend, in one run: the query embedding p50/p95 (one question at a time, as a search does), the
throughput of index building (chunks/s over a sample of the real course chunks, batched like the index build),
the largest cosine gap to the torch vectors on that sample, and hybrid nDCG@10 on the course questions (and on
SciFact's test queries with ``--scifact``: about 5 minutes per backend on 2 CPU cores). Each backend gets its own
evaluation index, cached under ``COURSEMATE_HOME/eval-index``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coursemate.config import EMBEDDING_BACKENDS, Settings  # noqa: E402
from coursemate.errors import CoursemateError  # noqa: E402
from coursemate.io import atomic_write_json  # noqa: E402

QUERIES = 60
NDCG_TOLERANCE = 0.005


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def measure_backend(settings: Settings, texts: list[str], questions: list[str], reference: np.ndarray | None,
                    datasets: list) -> dict:
    """Timings and quality of one backend (``settings.embedding_backend``)."""
    from eval.runner import evaluate, open_index
    from retrieval.embeddings import embed, embedder_for

    embedder = embedder_for(settings)
    embed(embedder, questions[:3])  # warm up
    latencies = []
    for question in questions:
        started = time.perf_counter()
        embed(embedder, [question])
        latencies.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    vectors = embed(embedder, texts, settings.embedding_batch_size)
    chunks_per_s = len(texts) / (time.perf_counter() - started)
    row = {
        "backend": settings.embedding_backend,
        "query_p50_ms": percentile(latencies, 50),
        "query_p95_ms": percentile(latencies, 95),
        "chunks_per_s": chunks_per_s,
        "min_cosine_to_torch": float((vectors * reference).sum(axis=1).min()) if reference is not None else 1.0,
        "vectors": vectors,
    }
    for dataset in datasets:
        index = open_index(settings, dataset, progress=False)
        row[f"ndcg@10 {dataset.name}"] = evaluate(index, dataset, "hybrid").metrics["ndcg@10"]
    return row


def markdown_table(rows: list[dict], dataset_names: list[str]) -> str:
    base = rows[0]
    header = ("| backend | query p50 ms | query p95 ms | index chunks/s | speed-up (build) | min cosine to torch | "
              + " | ".join(f"nDCG@10 {n} (delta)" for n in dataset_names) + " |")
    lines = [header, "|" + "---|" * (6 + len(dataset_names))]
    for r in rows:
        scores = " | ".join(f"{r[f'ndcg@10 {n}']:.4f} ({r[f'ndcg@10 {n}'] - base[f'ndcg@10 {n}']:+.4f})"
                            for n in dataset_names)
        lines.append(f"| {r['backend']} | {r['query_p50_ms']:.1f} | {r['query_p95_ms']:.1f} | {r['chunks_per_s']:.1f} "
                     f"| {r['chunks_per_s'] / base['chunks_per_s']:.1f}x | {r['min_cosine_to_torch']:.4f} | {scores} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from eval.datasets import load_dataset
    from retrieval.chunking import chunk_documents, indexed_text
    from retrieval.ingest import load_corpus

    backends = args.backends.split(",")
    unknown = [b for b in backends if b not in EMBEDDING_BACKENDS]
    if unknown:
        raise CoursemateError(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(EMBEDDING_BACKENDS)}")
    if backends[0] != "torch":
        backends.insert(0, "torch")  # the reference every other backend is compared with
    settings = Settings.load(torch_threads=args.threads)
    documents, _ = load_corpus(settings.corpus_paths)
    chunks = chunk_documents(documents, settings.chunk_size, settings.chunk_overlap)
    rng = np.random.default_rng(0)
    sample = sorted(rng.choice(len(chunks), size=min(args.sample, len(chunks)), replace=False))
    texts = [indexed_text(chunks[i]) for i in sample]
    datasets = [load_dataset(args.dataset)] + ([load_dataset(args.scifact, "test")] if args.scifact else [])
    questions = [q.text for q in datasets[0].queries][:QUERIES]

    rows, reference = [], None
    for backend in backends:
        print(f"measuring {backend} ...", file=sys.stderr)
        row = measure_backend(settings.replace(embedding_backend=backend), texts, questions, reference, datasets)
        reference = row["vectors"] if reference is None else reference
        rows.append(row)
    names = [d.name for d in datasets]
    print(f"- {len(questions)} queries one at a time; {len(texts)} chunks batched by {settings.embedding_batch_size}; "
          f"threads {args.threads or 'default'}; model {settings.embedding_model}")
    print()
    print(markdown_table(rows, names))
    worst = max((abs(r[f"ndcg@10 {n}"] - rows[0][f"ndcg@10 {n}"]), r["backend"], n) for r in rows for n in names)
    print(f"\nlargest nDCG@10 change against torch: {worst[0]:.4f} ({worst[1]} on {worst[2]}; "
          f"tolerance {NDCG_TOLERANCE})")
    if args.json:
        payload = [{k: v for k, v in r.items() if k != "vectors"} for r in rows]
        atomic_write_json(args.json, payload)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="torch,onnx,onnx-int8", help="comma-separated embedding backends")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for every backend (default 1)")
    parser.add_argument("--sample", type=int, default=256, help="course chunks embedded to measure throughput")
    parser.add_argument("--dataset", default="course", help="course questions for nDCG@10 (course or a .jsonl)")
    parser.add_argument("--scifact", help="a BEIR SciFact folder: also nDCG@10 on its test queries (slow)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except CoursemateError as exc:
        print(f"bench/embedding.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
