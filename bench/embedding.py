"""Embedding backends side by side: torch (sentence-transformers) against ONNX Runtime fp32/int8 and ``auto``.

    python bench/embedding.py [--backends torch,onnx,onnx-int8,auto] [--threads 1] [--sample 256] [--repeat 2]
                              [--dataset course] [--split dev] [--scifact ../shared/benchmarks/scifact] [--json OUT]

For each backend, in one run: the query embedding p50/p95 (one question at a time, as a search does; also its
CPU time, which load from other processes disturbs less), the throughput of index building (chunks/s over a
sample of the real course chunks, batched like the index build, per wall and per CPU second; the backends take
turns and every round prints its own table with the load average),
the largest cosine gap to the torch vectors on that sample, and hybrid nDCG@10 on the course questions (and on
SciFact's test queries with ``--scifact``: about 5 minutes per backend on 2 CPU cores). Each backend gets its own
evaluation index, cached under ``COURSEMATE_HOME/eval-index``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from coursemate.config import EMBEDDING_BACKENDS, Settings
from coursemate.errors import CoursemateError
from coursemate.io import atomic_write_json
from coursemate.retrieval.embeddings import BF16_FLAGS, VNNI_FLAGS, cpu_flags, embedder_for

QUERIES = 60
NDCG_TOLERANCE = 0.005


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def measure_speed(embedder, texts: list[str], questions: list[str], batch_size: int) -> dict:
    """Query latency (wall and CPU ms, one question at a time) and index-build throughput of one embedder."""
    from coursemate.retrieval.embeddings import embed

    embed(embedder, questions[:3])  # warm up
    embed(embedder, texts[:8], batch_size)
    wall, cpu = [], []
    for question in questions:
        started, started_cpu = time.perf_counter(), time.process_time()
        embed(embedder, [question])
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    started, started_cpu = time.perf_counter(), time.process_time()
    vectors = embed(embedder, texts, batch_size)
    return {
        "query_p50_ms": percentile(wall, 50),
        "query_p95_ms": percentile(wall, 95),
        "query_cpu_p50_ms": percentile(cpu, 50),
        "chunks_per_s": len(texts) / (time.perf_counter() - started),
        "chunks_per_cpu_s": len(texts) / (time.process_time() - started_cpu),
        "vectors": vectors,
    }


def measure_quality(settings: Settings, datasets: list) -> dict:
    """Hybrid nDCG@10 of ``settings.embedding_backend`` on each dataset (its own evaluation index)."""
    from coursemate.eval.runner import evaluate, open_index

    return {f"ndcg@10 {d.name}": evaluate(open_index(settings, d, progress=False), d, "hybrid").metrics["ndcg@10"]
            for d in datasets}


def markdown_table(rows: list[dict], dataset_names: list[str]) -> str:
    base = rows[0]
    header = ("| backend | query p50 ms | query p95 ms | query CPU p50 ms | speed-up (query) | index chunks/s "
              "| chunks per CPU s | speed-up (build) | min cosine to torch | "
              + " | ".join(f"nDCG@10 {n} (delta)" for n in dataset_names) + " |")
    lines = [header, "|" + "---|" * (9 + len(dataset_names))]
    for r in rows:
        scores = " | ".join(f"{r[f'ndcg@10 {n}']:.4f} ({r[f'ndcg@10 {n}'] - base[f'ndcg@10 {n}']:+.4f})"
                            for n in dataset_names)
        lines.append(f"| {r['backend']} | {r['query_p50_ms']:.1f} | {r['query_p95_ms']:.1f} "
                     f"| {r['query_cpu_p50_ms']:.1f} "
                     f"| {base['query_p50_ms'] / r['query_p50_ms']:.1f}x | {r['chunks_per_s']:.1f} "
                     f"| {r['chunks_per_cpu_s']:.1f} | {r['chunks_per_s'] / base['chunks_per_s']:.1f}x "
                     f"| {r['min_cosine_to_torch']:.4f} | {scores} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from coursemate.eval.datasets import load_dataset
    from coursemate.retrieval.chunking import chunk_documents, indexed_text
    from coursemate.retrieval.ingest import load_corpus

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
    datasets = [load_dataset(args.dataset, args.split)] + ([load_dataset(args.scifact, "test")] if args.scifact else [])
    questions = [q.text for q in datasets[0].queries][:QUERIES]

    embedders = {b: embedder_for(settings.replace(embedding_backend=b)) for b in backends}
    names = [d.name for d in datasets]
    quality = {}
    for backend in backends:
        print(f"nDCG@10 of {backend} ...", file=sys.stderr)
        quality[backend] = measure_quality(settings.replace(embedding_backend=backend), datasets)
    print(f"- {len(questions)} queries one at a time; {len(texts)} chunks batched by {settings.embedding_batch_size}; "
          f"threads {args.threads or 'default'}; model {settings.embedding_model}; CPU flags used: "
          f"{', '.join(sorted(cpu_flags() & (VNNI_FLAGS | BF16_FLAGS))) or 'none'}")
    for round_ in range(1, args.repeat + 1):
        rows = []
        for backend in backends:  # the backends take turns, so load from other processes falls on all of them
            rows.append({"backend": backend, **measure_speed(embedders[backend], texts, questions,
                                                                settings.embedding_batch_size), **quality[backend]})
            reference = rows[0]["vectors"]
            rows[-1]["min_cosine_to_torch"] = float((rows[-1]["vectors"] * reference).sum(axis=1).min())
        load = os.getloadavg()
        print(f"\nround {round_} of {args.repeat} (load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} "
              f"on {os.cpu_count()} cores)\n")
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
    parser.add_argument("--backends", default="torch,onnx,onnx-int8,auto", help="comma-separated embedding backends")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for every backend (default 1)")
    parser.add_argument("--sample", type=int, default=256, help="course chunks embedded to measure throughput")
    parser.add_argument("--dataset", default="course", help="course questions for nDCG@10 (course or a .jsonl)")
    parser.add_argument("--split", default="dev", help="course question split for nDCG@10 (dev, test or all)")
    parser.add_argument("--repeat", type=int, default=2, help="timing rounds (each prints its own table)")
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
