"""Retrieval speed: coursemate's NotesIndex against LangChain's EnsembleRetriever(BM25Retriever + FAISS).

    python bench/retrieval.py [--sizes 1000,10000,100000] [--queries 50] [--json OUT] [--threads N]
                              [--seed 0] [--baseline-budget 120] [--exact-embeddings]

For each corpus size it builds, from the same chunk texts and the same precomputed vectors:
  - ours: the sparse backend ``settings.sparse_backend`` picks for that size (``auto``: bm25s from
    ``settings.bm25s_min_chunks`` chunks on) and ``DenseIndex`` (``settings.dense_index``), assembled into a
    ``NotesIndex``; queried with ``search(q, k=5, mode=bm25|dense|hybrid)``;
  - the baseline: ``BM25Retriever`` (rank-bm25), ``FAISS.from_embeddings`` and ``EnsembleRetriever`` over both
    (equal weights, RRF constant ``settings.rrf_k``), each fetching ``settings.candidates`` hits like ours.
Both embed each query with the same SentenceTransformer instance, so query embedding is part of every
dense and hybrid latency. Queries are interleaved (ours and the baseline take turns on each question) so
that load from other processes falls on both alike.

The corpus grows synthetically from the shipped notes: the real chunks first, then variants, each a
real chunk's title and section with sentences sampled from its document (and a quarter from the whole
corpus), with distinct ids; deterministic for a given ``--seed``.

Vectors: embedding 100k chunks with the real model takes hours on 2 CPU cores, so by default every
chunk's vector is the normalized mean of the real model's embeddings of its sentences (computed once and
cached under ~/.cache/coursemate-bench/). Flat FAISS search costs the same whatever the vector values, so
latencies are unaffected. ``--exact-embeddings`` embeds every chunk text instead (also cached).
Build times exclude embedding; the embedding throughput is measured separately on a sample of chunks.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coursemate.config import SEARCH_MODES, Settings
from coursemate.errors import CoursemateError
from coursemate.eval.langchain_baseline import build_ensemble, shared_embeddings
from coursemate.io import atomic_write_bytes, atomic_write_json
from coursemate.retrieval.chunking import chunk_documents, indexed_text
from coursemate.retrieval.types import Chunk, Document

CACHE_DIR = Path.home() / ".cache" / "coursemate-bench"
GOAL_P50_MS = 15.0
GOAL_SPEEDUP = 20.0
WARMUP_QUERIES = 2
MIN_BASELINE_QUERIES = 10

QUESTIONS = [
    "what do LSTM gates do?",
    "How does the forget gate in an LSTM decide what to keep?",
    "why do RNNs suffer from vanishing gradients",
    "what is backpropagation and how is the gradient computed with the chain rule",
    "explain batch normalization",
    "Why does batch norm allow higher learning rates?",
    "difference between L1 and L2 regularization",
    "what does dropout do during training vs inference",
    "what is the receptive field of a convolution layer",
    "how do 1x1 convolutions reduce the number of channels",
    "why is max pooling used in CNNs",
    "what are skip connections in ResNet",
    "how does a residual block solve the degradation problem",
    "what is the ReLU activation and why is it preferred over sigmoid",
    "dying ReLU problem",
    "What makes MobileNet efficient? depthwise separable convolutions",
    "how many parameters does VGG16 have",
    "what is the inception module in GoogLeNet",
    "AlexNet architecture local response normalization",
    "how does a GAN generator and discriminator train",
    "what is mode collapse in GANs",
    "DCGAN architecture guidelines",
    "neural style transfer content loss and style loss gram matrix",
    "what is self-supervised learning",
    "SimCLR contrastive learning data augmentation",
    "contrastive loss margin for dissimilar pairs",
    "how does self-attention compute queries keys and values",
    "what is multi-head attention",
    "positional encoding in transformers",
    "how do vision transformers split an image into patches",
    "What is BERT pre-trained on? masked language modeling",
    "GPT-4 capabilities and limitations",
    "retrieval augmented generation for large language models",
    "extractive vs abstractive text summarization",
    "minimum edit distance dynamic programming for autocorrect",
    "how does YOLO predict bounding boxes",
    "anchor boxes and intersection over union",
    "what learning rate should I use and what is a learning rate scheduler",
    "one cycle policy",
    "what is the difference between SGD and Adam optimizers",
    "how do I avoid overfitting on a small dataset",
    "image augmentation techniques like cutout",
    "what is a kernel and how many kernels in a layer",
    "how to compute the output size of a convolution with padding and stride",
    "softmax and cross entropy loss",
    "what does the attention mask do in the decoder",
    "what are smolagents tools and the code agent",
    "weight initialization xavier he",
    "global average pooling instead of fully connected layers",
    "what is a neural network neuron and weight",
]


# ----------------------------------------------------------------------------- synthetic corpus
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def split_pieces(text: str) -> list[str]:
    """Sentences (and lines) of ``text``, stripped, without empty ones."""
    return [p.strip() for p in _SENTENCE_END.split(text) if p.strip()]


@dataclass
class Corpus:
    """Chunks and, for each chunk, the ids of the pieces (sentences, heading) its indexed text is made of."""

    documents: list[Document]
    chunks: list[Chunk]
    pieces: list[str]
    chunk_pieces: list[list[int]]

    @property
    def texts(self) -> list[str]:
        return [indexed_text(c) for c in self.chunks]


def real_corpus(settings: Settings) -> Corpus:
    """The shipped notes, chunked as the index chunks them."""
    from coursemate.retrieval.ingest import load_corpus

    documents, _ = load_corpus(settings.corpus_paths, topics=settings.topic_sections)
    if not documents:
        raise CoursemateError(f"no readable documents under {', '.join(map(str, settings.corpus_paths))}")
    chunks = chunk_documents(documents, settings.chunk_size, settings.chunk_overlap)
    piece_ids: dict[str, int] = {}
    chunk_pieces = [
        [piece_ids.setdefault(p, len(piece_ids)) for p in split_pieces(indexed_text(c))] for c in chunks
    ]
    return Corpus(documents, chunks, list(piece_ids), chunk_pieces)


def grow_corpus(real: Corpus, size: int, seed: int) -> Corpus:
    """``size`` chunks: the real ones first, then sentence-sampled variants of them (deterministic)."""
    rng = random.Random(seed)
    piece_index = {p: i for i, p in enumerate(real.pieces)}
    heading_of: dict[str, list[int]] = {}
    by_doc: dict[str, list[int]] = {}
    for chunk, ids in zip(real.chunks, real.chunk_pieces):
        heading = " - ".join(part for part in (chunk.title, chunk.section) if part)
        heading_of[chunk.chunk_id] = [piece_index[p] for p in split_pieces(heading)]
        by_doc.setdefault(chunk.doc_id, []).extend(ids[len(heading_of[chunk.chunk_id]) :])
    by_doc = {doc: sorted(set(ids)) for doc, ids in by_doc.items()}
    all_pieces = sorted(set().union(*by_doc.values()))

    chunks = list(real.chunks[:size])
    chunk_pieces = [list(ids) for ids in real.chunk_pieces[:size]]
    pieces = list(real.pieces)
    for n in range(size - len(chunks)):
        base_index = rng.randrange(len(real.chunks))
        base = real.chunks[base_index]
        own = by_doc[base.doc_id]
        chosen: list[int] = []
        length = 0
        while length < len(base.text):
            source = all_pieces if rng.random() < 0.25 else own
            piece = source[rng.randrange(len(source))]
            chosen.append(piece)
            length += len(pieces[piece]) + 1
        text = "\n".join(pieces[i] for i in chosen)
        chunk = Chunk(f"{base.chunk_id}~{n}", base.doc_id, base.title, base.section, base.source, text, 0, len(text))
        chunks.append(chunk)
        chunk_pieces.append(heading_of[base.chunk_id] + chosen)
    return Corpus(real.documents, chunks, pieces, chunk_pieces)


# ----------------------------------------------------------------------------- embeddings (cached)
def cached_embeddings(embedder, texts: list[str], settings: Settings, label: str) -> np.ndarray:
    """The real model's normalized embeddings of ``texts``, computed once and kept under CACHE_DIR."""
    from coursemate.retrieval.embeddings import embed

    digest = hashlib.sha256("\x00".join([settings.embedding_model, *texts]).encode()).hexdigest()[:24]
    path = CACHE_DIR / f"{label}-{len(texts)}-{digest}.npy"
    if path.exists():
        vectors = np.load(path)
        if vectors.shape[0] == len(texts):
            return vectors
    print(f"embedding {len(texts):,} {label} with the real model (cached afterwards in {CACHE_DIR}) ...",
          file=sys.stderr)
    vectors = embed(embedder, texts, settings.embedding_batch_size, progress=True)
    atomic_write_bytes(path, _npy_bytes(vectors))
    return vectors


def _npy_bytes(vectors: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, vectors)
    return buffer.getvalue()


def corpus_vectors(corpus: Corpus, piece_vectors: np.ndarray, embedder, settings: Settings, exact: bool) -> np.ndarray:
    """One normalized vector per chunk: the chunk's own embedding, or the mean of its pieces' embeddings."""
    if exact:
        return cached_embeddings(embedder, corpus.texts, settings, "chunks")
    lengths = np.array([len(ids) for ids in corpus.chunk_pieces])
    flat = np.fromiter((i for ids in corpus.chunk_pieces for i in ids), dtype=np.int64, count=int(lengths.sum()))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    sums = np.add.reduceat(piece_vectors[flat], starts, axis=0)
    return np.ascontiguousarray(sums / np.linalg.norm(sums, axis=1, keepdims=True), dtype=np.float32)


def sentence_index(corpus: Corpus, piece_vectors: np.ndarray):
    """The index's sentence ranking over the corpus: every chunk's pieces with their real embeddings."""
    from coursemate.retrieval.sentences import SentenceIndex

    chunk_of = [c for c, ids in enumerate(corpus.chunk_pieces) for _ in ids]
    rows = [i for ids in corpus.chunk_pieces for i in ids]
    return SentenceIndex([corpus.pieces[i] for i in rows], chunk_of, piece_vectors[rows])


def embedding_throughput(embedder, corpus: Corpus, settings: Settings, sample: int, seed: int) -> float:
    """Chunks per second the real model embeds, on ``sample`` real chunk texts."""
    from coursemate.retrieval.embeddings import embed

    texts = random.Random(seed).sample(corpus.texts, min(sample, len(corpus.chunks)))
    embed(embedder, texts[:2], settings.embedding_batch_size)
    started = time.perf_counter()
    embed(embedder, texts, settings.embedding_batch_size)
    return len(texts) / (time.perf_counter() - started)


# ----------------------------------------------------------------------------- the two systems
def correction_latency(real: Corpus, settings: Settings, queries: list[str]) -> float:
    """p50 milliseconds of the spelling correction a search runs first (course vocabulary + English)."""
    from coursemate.retrieval.spelling import SpellingCorrector, vocabulary_from_texts

    corrector = SpellingCorrector(vocabulary_from_texts(d.text for d in real.documents))
    times = []
    for q in queries:
        started = time.perf_counter()
        corrector.correct(q)
        times.append(time.perf_counter() - started)
    return percentile(times, 50) * 1000


def build_ours(settings: Settings, corpus: Corpus, vectors: np.ndarray, sentences):
    """A NotesIndex over ``corpus`` from precomputed vectors; returns it with sparse and dense build seconds."""
    from coursemate.retrieval.dense import DenseIndex, choose_kind
    from coursemate.retrieval.index import NotesIndex
    from coursemate.retrieval.sparse import BACKENDS, choose_backend
    from coursemate.retrieval.tokenize import Tokenizer

    started = time.perf_counter()
    backend = choose_backend(settings.sparse_backend, len(corpus.chunks), settings.bm25s_min_chunks)
    tokenizer = Tokenizer(settings.bm25_stemming, settings.bm25_stopwords)
    sparse = BACKENDS[backend].build(tokenizer.many(corpus.texts))
    sparse_s = time.perf_counter() - started
    started = time.perf_counter()
    dense = DenseIndex.build(vectors, choose_kind(settings.dense_index, len(corpus.chunks), settings.hnsw_min_chunks))
    dense_s = time.perf_counter() - started
    manifest = {"sparse_backend": backend, "dense_index": dense.kind, "chunks": len(corpus.chunks)}
    index = NotesIndex(settings, corpus.documents, corpus.chunks, sparse, dense, manifest, sentences)
    return index, {"bm25": sparse_s, "dense": dense_s, "hybrid": sparse_s + dense_s}


def dense_recall(index, vectors: np.ndarray, queries: list[str], k: int = 10) -> float | None:
    """For an approximate dense index: the share of exact search's top ``k`` that its candidates hold (None: exact)."""
    import faiss

    if index.dense.kind == "flat":
        return None
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    query_vectors = index.embed(queries)
    _, truth = exact.search(query_vectors, k)
    found = [len(set(row) & {i for i, _ in index.dense.search(q, index.settings.candidates)}) / k
             for row, q in zip(truth, query_vectors)]
    return float(np.mean(found))


def build_baseline(settings: Settings, corpus: Corpus, vectors: np.ndarray, embeddings):
    """LangChain retrievers (bm25, dense, hybrid) over the same texts and vectors, with build seconds."""
    metadatas = [{"doc_id": c.doc_id, "section": c.section} for c in corpus.chunks]
    return build_ensemble(corpus.texts, vectors, embeddings, metadatas, [c.chunk_id for c in corpus.chunks],
                          k=settings.candidates, c=settings.rrf_k)


# ----------------------------------------------------------------------------- measuring
def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def measure_size(settings, real, size, queries, embedder, embeddings, args) -> list[dict]:
    """Build ours (once per embedding backend) and the baseline at ``size`` chunks, time every query in every
    mode, interleaved; one row per backend and mode."""
    corpus = grow_corpus(real, size, args.seed)
    piece_vectors = cached_embeddings(embedder, corpus.pieces, settings, "sentences")
    vectors = corpus_vectors(corpus, piece_vectors, embedder, settings, args.exact_embeddings)
    sentences = sentence_index(corpus, piece_vectors)
    ours_by_backend = {b: build_ours(settings.replace(embedding_backend=b), corpus, vectors, sentences)
                       for b in args.backends}
    baseline, baseline_build = build_baseline(settings, corpus, vectors, embeddings)

    for q in queries[:WARMUP_QUERIES]:
        for mode in SEARCH_MODES:
            for index, _ in ours_by_backend.values():
                index.search(q, k=5, mode=mode, correct=False)
            baseline[mode].invoke(q)
    ours = {(b, m): [] for b in args.backends for m in SEARCH_MODES}
    theirs = {m: [] for m in SEARCH_MODES}
    baseline_spent = 0.0
    for q in queries:
        for mode in SEARCH_MODES:
            for backend, (index, _) in ours_by_backend.items():
                started = time.perf_counter()
                index.search(q, k=5, mode=mode, correct=False)  # the spelling step is timed on its own
                ours[backend, mode].append(time.perf_counter() - started)
        if baseline_spent > args.baseline_budget and len(theirs["hybrid"]) >= MIN_BASELINE_QUERIES:
            continue
        for mode in SEARCH_MODES:
            started = time.perf_counter()
            baseline[mode].invoke(q)
            elapsed = time.perf_counter() - started
            theirs[mode].append(elapsed)
            baseline_spent += elapsed

    rows = []
    for backend, (index, our_build) in ours_by_backend.items():
        recall = dense_recall(index, vectors, queries)
        for mode in SEARCH_MODES:
            ours_p50 = percentile(ours[backend, mode], 50) * 1000
            theirs_p50 = percentile(theirs[mode], 50) * 1000
            rows.append({
                "chunks": size,
                "mode": mode,
                "embedding": backend if mode != "bm25" else "-",
                "backend": index.manifest["sparse_backend"] if mode != "dense" else f"faiss-{index.dense.kind}",
                "dense_recall": recall,
                "ours_build_s": our_build[mode],
                "ours_p50_ms": ours_p50,
                "ours_p95_ms": percentile(ours[backend, mode], 95) * 1000,
                "ours_queries": len(ours[backend, mode]),
                "baseline_build_s": baseline_build[mode],
                "baseline_p50_ms": theirs_p50,
                "baseline_p95_ms": percentile(theirs[mode], 95) * 1000,
                "baseline_queries": len(theirs[mode]),
                "speedup_p50": theirs_p50 / ours_p50,
            })
    del ours_by_backend, baseline
    return rows


def markdown_table(rows: list[dict]) -> str:
    header = (
        "| chunks | mode | ours: embedding | ours: sparse/dense | ours build s | ours p50 ms | ours p95 ms "
        "| LangChain build s | LangChain p50 ms | LangChain p95 ms | LangChain queries | LangChain p50 / ours p50 |"
    )
    lines = [header, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r['chunks']:,} | {r['mode']} | {r['embedding']} | {r['backend']} | {r['ours_build_s']:.2f} "
            f"| {r['ours_p50_ms']:.1f} "
            f"| {r['ours_p95_ms']:.1f} | {r['baseline_build_s']:.2f} | {r['baseline_p50_ms']:.1f} "
            f"| {r['baseline_p95_ms']:.1f} | {r['baseline_queries']} of {r['ours_queries']} | {r['speedup_p50']:.1f}x |"
        )
    return "\n".join(lines)


def goal_verdict(rows: list[dict]) -> str:
    """Per embedding backend: whether hybrid p50 at the largest size meets the latency and speed-up goals."""
    hybrid = [r for r in rows if r["mode"] == "hybrid"]
    if not hybrid:
        return "goal: no hybrid rows measured"
    largest = max(r["chunks"] for r in hybrid)
    lines = []
    for r in (row for row in hybrid if row["chunks"] == largest):
        fast = r["ours_p50_ms"] < GOAL_P50_MS
        speedup = r["speedup_p50"] >= GOAL_SPEEDUP
        lines.append(
            f"goal at {largest:,} chunks, {r['embedding']} embeddings (hybrid p50 < {GOAL_P50_MS:.0f} ms and "
            f">= {GOAL_SPEEDUP:.0f}x the baseline): p50 {r['ours_p50_ms']:.1f} ms -> {'met' if fast else 'NOT met'}; "
            f"speed-up {r['speedup_p50']:.1f}x -> {'met' if speedup else 'NOT met'}"
        )
    return "\n".join(lines)


def machine_line() -> str:
    load = os.getloadavg()
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise CoursemateError(f"--sizes takes comma-separated chunk counts such as 1000,10000; got {text!r}") from None
    if not sizes or min(sizes) < 10:
        raise CoursemateError(f"--sizes needs chunk counts of at least 10; got {text!r}")
    return sizes


def run(args: argparse.Namespace) -> int:
    sizes = parse_sizes(args.sizes)
    if not 1 <= args.queries <= len(QUESTIONS):
        raise CoursemateError(f"--queries must be between 1 and {len(QUESTIONS)}; got {args.queries}")
    if args.threads is not None and args.threads < 1:
        raise CoursemateError(f"--threads must be at least 1; got {args.threads}")
    if args.embed_sample < 1:
        raise CoursemateError(f"--embed-sample must be at least 1; got {args.embed_sample}")
    import faiss
    import torch

    from coursemate.retrieval.embeddings import embed, load_embedder

    if args.threads is not None:
        torch.set_num_threads(args.threads)
        faiss.omp_set_num_threads(args.threads)

    settings = Settings.load(torch_threads=args.threads)
    load_before = machine_line()
    embedder = load_embedder(settings.embedding_model, settings.device, backend="torch")
    real = real_corpus(settings)
    throughput = embedding_throughput(embedder, real, settings, args.embed_sample, args.seed)
    embeddings = shared_embeddings(lambda texts: embed(embedder, texts, settings.embedding_batch_size))
    queries = QUESTIONS[: args.queries]
    correction_p50 = correction_latency(real, settings, queries)

    rows = []
    for size in sizes:
        print(f"measuring {size:,} chunks ...", file=sys.stderr)
        rows.extend(measure_size(settings, real, size, queries, embedder, embeddings, args))

    notes = [
        f"machine: {load_before} at start; {machine_line()} at end; torch threads {torch.get_num_threads()}",
        f"embedding model {settings.embedding_model} (torch, for the corpus vectors and LangChain's queries) on "
        f"{embedder.device}: {throughput:.1f} chunks/s "
        f"(sample of {min(args.embed_sample, len(real.chunks))} real chunks, batch {settings.embedding_batch_size}); "
        + ", ".join(f"{s:,} chunks would take {s / throughput / 60:.0f} min" for s in sizes),
        f"spelling correction (every search's first step, timed apart and left out of the table): "
        f"p50 {correction_p50:.2f} ms per query",
        "vectors: " + ("each chunk embedded by the model" if args.exact_embeddings
                       else "mean of the model's sentence embeddings per chunk "
                            "(flat search cost is value-independent)"),
        f"{len(real.chunks)} real chunks from {len(real.documents)} documents, grown with seed {args.seed}; "
        f"{len(queries)} questions, k=5, {settings.candidates} candidates per method, RRF k={settings.rrf_k}; "
        "build time excludes embedding; query time includes the query embedding (same model instance)",
        f"baseline: LangChain EnsembleRetriever(BM25Retriever, FAISS), stopped after {args.baseline_budget:.0f} s "
        "of baseline query time per size (at least 10 queries; see the queries column)",
    ]
    notes += [f"dense {r['backend']} at {r['chunks']:,} chunks ({r['embedding']} queries): {r['dense_recall']:.1%} of "
              f"exact search's top 10 are among its {settings.candidates} candidates"
              for r in rows if r["mode"] == "dense" and r["dense_recall"] is not None]
    print("\n".join(f"- {n}" for n in notes))
    print()
    print(markdown_table(rows))
    print()
    print(goal_verdict(rows))
    if args.json:
        atomic_write_json(Path(args.json),
                          {"notes": notes, "rows": rows, "goal": goal_verdict(rows), "args": vars(args)})
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated corpus sizes in chunks")
    parser.add_argument("--queries", type=int, default=50, help=f"questions to time (at most {len(QUESTIONS)})")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus")
    parser.add_argument("--threads", type=int, help="torch and FAISS threads (default: their own default)")
    parser.add_argument("--baseline-budget", type=float, default=120.0,
                        help="seconds of baseline query time per size before the baseline stops (min 10 queries)")
    parser.add_argument("--backends", type=lambda text: text.split(","), default=["torch", "auto"],
                        help="embedding backends of ours to compare, comma-separated (torch, onnx, onnx-int8, auto)")
    parser.add_argument("--embed-sample", type=int, default=64, help="chunks embedded to measure throughput")
    parser.add_argument("--exact-embeddings", action="store_true",
                        help="embed every synthetic chunk with the model (slow on CPU; cached)")
    args = parser.parse_args(argv)
    try:
        return run(args)
    except CoursemateError as exc:
        print(f"bench/retrieval.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
