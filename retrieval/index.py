"""NotesIndex: the hybrid (BM25 + dense FAISS, fused by RRF) index of a corpus, persisted in one folder."""

from __future__ import annotations

import bisect
import functools
import logging
import math
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coursemate.config import SEARCH_MODES, Settings
from coursemate.errors import CoursemateError
from coursemate.io import atomic_folder, atomic_write_jsonl, check_writable, read_jsonl
from coursemate.retrieval import store
from coursemate.retrieval.chunking import chunk_documents, indexed_text
from coursemate.retrieval.dense import DenseIndex, choose_kind
from coursemate.retrieval.embeddings import embed, embedder_for
from coursemate.retrieval.fusion import reciprocal_rank_fusion
from coursemate.retrieval.notetext import CaseModel, NoteSentence
from coursemate.retrieval.sentences import SentenceIndex, note_sentences
from coursemate.retrieval.sparse import BACKENDS, SparseIndex, choose_backend, top_k
from coursemate.retrieval.tokenize import Tokenizer
from coursemate.retrieval.types import Chunk, Document, Hit
from coursemate.retrieval.vectors import ProgressCallback, VectorCache

if TYPE_CHECKING:
    from coursemate.retrieval.spelling import Correction

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 10_000
RECENT_VECTORS = 1024  # single texts whose embeddings NotesIndex.embed keeps (1.5 KB each with MiniLM)
SAME_WORD_PREFIX = 0.8  # a notes word sharing this much of a word's beginning is a form of it (uses())
_VERSIONED_LIBRARIES = ("sentence-transformers", "faiss-cpu", "rank-bm25", "bm25s", "langchain-text-splitters", "pysbd")
SENTENCES_FORMAT = 3  # bump when the sentence splitter changes: the index is rebuilt
TOPICS_FORMAT = 2  # bump when the topic sub-sections (retrieval/topics.py) change: the index is rebuilt
INDEX_FORMAT = 2  # bump when the index folder's files change: the index is rebuilt
TOKENS_FILE = "tokens.jsonl"  # each chunk's BM25 tokens: an update rebuilds BM25 from them
VECTORS_FILE = "chunk_vectors.npy"  # each chunk's embedding: an update reuses them (retrieval/vectors.py)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_HYPHENATED = re.compile(r"[a-z]+(?:-[a-z]+)+")
_SENTENCE_START = re.compile(r"(?<=[.!?:;])\s+(?=\S)|\s+(?=[-*•]\s|\d+[.)]\s)")


@dataclass
class SearchResults(Sequence[Hit]):
    """What one search found, in rank order (iterate, index or count it like the list of its hits), and the spelling
    correction it applied.

    ``corrected`` is the query searched; ``did_you_mean`` is the corrected query when correction changed it (None
    otherwise), the typed query then fused in at a low weight. ``correction_ms`` times the correction step alone.
    """

    query: str
    hits: list[Hit]
    corrected: str
    did_you_mean: str | None = None
    changes: list[tuple[str, str]] = field(default_factory=list)
    correction_ms: float = 0.0

    def __getitem__(self, position):
        return self.hits[position]

    def __len__(self) -> int:
        return len(self.hits)

    def to_dict(self) -> dict:
        return {"query": self.query, "did_you_mean": self.did_you_mean, "changes": [list(c) for c in self.changes],
                "correction_ms": round(self.correction_ms, 3), "hits": [h.to_dict() for h in self.hits]}


class NotesIndex:
    """Chunks of a corpus with a BM25 index and a dense FAISS index over them.

    Build or reuse one with :meth:`load_or_build`; query it with :meth:`search`.
    """

    def __init__(
        self,
        settings: Settings,
        documents: list[Document],
        chunks: list[Chunk],
        sparse: SparseIndex,
        dense: DenseIndex,
        manifest: dict,
        sentences: SentenceIndex | None = None,
        vectors: np.ndarray | None = None,
    ) -> None:
        self.settings = settings
        self.documents = {d.doc_id: d for d in documents}
        self.chunks = chunks
        self.sparse = sparse
        self.dense = dense
        self.manifest = manifest
        self.sentences = sentences or SentenceIndex([], [], np.zeros((0, 1), dtype=np.float32))
        self.vectors = vectors if vectors is not None else np.zeros((0, 1), dtype=np.float32)  # a row per chunk
        self.tokenizer = Tokenizer(settings.bm25_stemming, settings.bm25_stopwords)
        self._vocabulary: Counter[str] | None = None
        self._corrector = None
        self._positions = {c.chunk_id: i for i, c in enumerate(chunks)}
        self._sorted_vocabulary: list[str] | None = None
        self._recent_vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # single texts embedded lately
        self._recent_lock = threading.Lock()

    # ----------------------------------------------------------------- building and loading
    @classmethod
    def load_or_build(
        cls,
        settings: Settings | None = None,
        paths: Sequence[Path | str] | None = None,
        *,
        documents: list[Document] | None = None,
        rebuild: bool = False,
        progress: bool = True,
        on_progress: ProgressCallback | None = None,
    ) -> NotesIndex:
        """Open the index in ``settings.index_dir``, building or updating it when missing, stale or damaged.

        The corpus is ``documents`` when given, else the files at ``paths`` (default: the configured
        corpus paths). When the corpus changed, the index is updated: only text the previous index has not
        embedded is embedded (``rebuild`` embeds everything again). ``on_progress(stage, fraction)`` hears
        about reading, chunking and embedding.
        """
        settings = settings or Settings.load()
        if paths is not None:
            settings = settings.replace(corpus_paths=[Path(p) for p in paths])
        fingerprint = _fingerprint(settings, documents)
        previous = None
        if not rebuild:
            index = cls._open_fresh(settings, fingerprint, "rebuilding it")
            if index is not None:
                return index
            previous = cls._open_previous(settings)

        check_writable(settings.index_dir.parent, "the index")  # before minutes of embedding, not after
        skipped: list[str] = []
        if documents is None:
            from coursemate.retrieval.ingest import load_corpus

            if on_progress:
                on_progress("reading", 0.0)
            documents, skipped = load_corpus(settings.corpus_paths, topics=settings.topic_sections)
            for message in skipped:
                log.warning("%s", message)
        return cls.build(settings, documents, fingerprint=fingerprint, skipped=skipped, progress=progress,
                         previous=previous, on_progress=on_progress)

    @classmethod
    def load_if_fresh(cls, settings: Settings) -> NotesIndex | None:
        """The index in ``settings.index_dir`` if it is up to date with the configured corpus and settings, else
        None (nothing is built)."""
        return cls._open_fresh(settings, _fingerprint(settings, None), "not using it")

    @classmethod
    def _open_fresh(cls, settings: Settings, fingerprint: str, then: str) -> NotesIndex | None:
        """The index in ``settings.index_dir`` when its manifest has ``fingerprint``; None when it is missing, stale,
        damaged or unreadable (logged, with ``then``: what the caller does next)."""
        folder = settings.index_dir
        try:
            manifest = store.read_manifest(folder)
            if manifest is not None and manifest.get("fingerprint") == fingerprint:
                return cls._load(settings, folder, manifest)
            if manifest is not None:
                log.info("the corpus or index settings changed since %s was built: %s", folder, then)
        except store.DamagedIndex as exc:
            log.warning("the index is damaged (%s): %s", exc, then)
        except Exception as exc:  # noqa: BLE001 - any unreadable file means: rebuild, never crash
            log.warning("the index at %s could not be read (%s: %s): %s", folder, type(exc).__name__, exc, then)
        return None

    @classmethod
    def _open_previous(cls, settings: Settings) -> NotesIndex | None:
        """The index in ``settings.index_dir`` whatever corpus it was built for, when its vectors can be reused by an
        update (the same embedding model and backend); None when there is none, another model or it cannot be read."""
        try:
            manifest = store.read_manifest(settings.index_dir)
            params = manifest.get("params", {}) if manifest is not None else {}
            if any(params.get(name) != getattr(settings, name) for name in ("embedding_model", "embedding_backend")):
                return None
            return cls._load(settings, settings.index_dir, manifest)
        except Exception as exc:  # noqa: BLE001 - an unreadable index is rebuilt in full, never a crash
            log.info("not reusing the index at %s (%s: %s)", settings.index_dir, type(exc).__name__, exc)
            return None

    @classmethod
    def build(
        cls,
        settings: Settings,
        documents: list[Document],
        *,
        fingerprint: str = "",
        skipped: Sequence[str] = (),
        progress: bool = True,
        previous: NotesIndex | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> NotesIndex:
        """Chunk, tokenize and embed ``documents``, then write the index folder atomically.

        With a ``previous`` index, the vectors of text it embedded with the same model and the tokens of
        passages it tokenized the same way are reused: only new text is embedded.
        """
        if not documents:
            more = ", ..." if len(skipped) > 1 else ""
            raise CoursemateError("the corpus has no readable documents to index"
                                  + (f"; {len(skipped)} file(s) were skipped ({skipped[0]}{more})" if skipped else ""))
        started = time.perf_counter()
        if on_progress:
            on_progress("chunking", 0.0)
        chunks = chunk_documents(documents, settings.chunk_size, settings.chunk_overlap)
        if not chunks:
            raise CoursemateError(
                f"nothing to index: the {len(documents)} readable document(s) hold only headings or blank lines"
                + (f"; {len(skipped)} other file(s) were skipped (logged above)" if skipped else "")
            )
        params = _index_params(settings)
        texts = [indexed_text(c) for c in chunks]
        tokenizer = Tokenizer(settings.bm25_stemming, settings.bm25_stopwords)
        known_tokens = previous.stored_tokens() if previous and _same_tokens(previous.manifest, params) else {}
        tokens = [known_tokens[t] if t in known_tokens else tokenizer(t) for t in texts]
        backend = choose_backend(settings.sparse_backend, len(chunks), settings.bm25s_min_chunks)
        sparse = BACKENDS[backend].build(tokens)
        cache = VectorCache(f"{settings.embedding_model}\0{settings.embedding_backend}",  # the model loads if needed
                            lambda batch: embed(embedder_for(settings), batch, settings.embedding_batch_size,
                                                progress=progress),
                            on_progress)
        if previous is not None:
            cache.keep([indexed_text(c) for c in previous.chunks], previous.vectors)
            cache.keep(previous.sentences.texts, previous.sentences.vectors)
        vectors = cache.rows(texts, "embedding passages")
        embedded_passages = cache.embedded
        dense = DenseIndex.build(vectors, choose_kind(settings.dense_index, len(chunks), settings.hnsw_min_chunks))
        sentences = SentenceIndex.build([c.text for c in chunks],
                                        lambda batch: cache.rows(batch, "embedding sentences"),
                                        CaseModel.learn(d.text for d in documents))
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        added = previous.manifest.get("added", {}) if previous is not None else {}
        manifest = {
            "fingerprint": fingerprint,
            "params": params,
            "sparse_backend": backend,
            "dense_index": dense.kind,
            "documents": len(documents),
            "chunks": len(chunks),
            "sentences": len(sentences.texts),
            "skipped": list(skipped),
            "corpus_paths": [str(p) for p in settings.corpus_paths],
            "added": {d.doc_id: added.get(d.doc_id, now) for d in documents},
            "update": "incremental" if previous is not None else "full",
            "embedded": {"passages": embedded_passages, "sentences": cache.embedded - embedded_passages},
            "versions": _library_versions(),
            "build_seconds": round(time.perf_counter() - started, 2),
            "built_at": now,
        }
        with atomic_folder(settings.index_dir) as tmp:
            atomic_write_jsonl(tmp / "documents.jsonl", (d.to_dict() for d in documents))
            atomic_write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in chunks))
            atomic_write_jsonl(tmp / TOKENS_FILE, tokens)
            with open(tmp / VECTORS_FILE, "wb") as handle:
                np.save(handle, vectors)
            sparse.save(tmp)
            dense.save(tmp)
            sentences.save(tmp)
            store.write_manifest(tmp, manifest)
        log.info("indexed %d documents into %d chunks in %.1fs (%s; embedded %d passages, %d sentences)",
                 len(documents), len(chunks), manifest["build_seconds"], manifest["update"],
                 *manifest["embedded"].values())
        return cls(settings, documents, chunks, sparse, dense, manifest, sentences, vectors)

    @classmethod
    def _load(cls, settings: Settings, folder: Path, manifest: dict) -> NotesIndex:
        store.verify_files(folder, manifest)
        documents = [Document.from_dict(row) for row in read_jsonl(folder / "documents.jsonl")]
        chunks = [Chunk(**row) for row in read_jsonl(folder / "chunks.jsonl")]
        sparse = BACKENDS[manifest["sparse_backend"]].load(folder)
        dense = DenseIndex.load(folder, manifest["dense_index"])
        if len(chunks) != manifest["chunks"] or dense.index.ntotal != len(chunks):
            raise store.DamagedIndex(f"{folder}: chunk counts disagree")
        sentences = SentenceIndex.load(folder)
        vectors = np.load(folder / VECTORS_FILE)
        if len(vectors) != len(chunks):
            raise store.DamagedIndex(f"{folder}: passage vector counts disagree")
        return cls(settings, documents, chunks, sparse, dense, manifest, sentences, vectors)

    def stored_tokens(self) -> dict[str, list[str]]:
        """The BM25 tokens of each passage's indexed text, as stored with the index (read on demand)."""
        rows = read_jsonl(self.settings.index_dir / TOKENS_FILE)
        if len(rows) != len(self.chunks):
            return {}
        return {indexed_text(c): tokens for c, tokens in zip(self.chunks, rows)}

    # ----------------------------------------------------------------- querying
    @property
    def embedder(self):
        """The embedder the index was built with (loaded once per process)."""
        return embedder_for(self.settings)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Normalized float32 embeddings of ``texts`` with the index's model. One text is looked up first among the
        last ``RECENT_VECTORS`` single texts embedded (a question is embedded by the router, the search, the
        coverage check and the extractive answer: once)."""
        if len(texts) != 1:
            return embed(self.embedder, texts, self.settings.embedding_batch_size)
        with self._recent_lock:
            vector = self._recent_vectors.get(texts[0])
            if vector is not None:
                self._recent_vectors.move_to_end(texts[0])
                return vector[None, :].copy()
        vector = embed(self.embedder, texts, self.settings.embedding_batch_size)[0]
        with self._recent_lock:
            self._recent_vectors[texts[0]] = vector
            while len(self._recent_vectors) > RECENT_VECTORS:
                self._recent_vectors.popitem(last=False)
        return vector[None, :].copy()

    @property
    def corrector(self):
        """The spelling corrector over this index's vocabulary (built on first use), or None when
        ``settings.spelling`` is off."""
        if not self.settings.spelling:
            return None
        if self._corrector is None:
            from coursemate.retrieval.spelling import SpellingCorrector

            self._corrector = SpellingCorrector(self.vocabulary())
        return self._corrector

    def search(
        self,
        query: str,
        k: int = 5,
        mode: str = "hybrid",
        *,
        correct: bool | Correction = True,
        also: Sequence[str] = (),
    ) -> SearchResults:
        """The ``k`` best chunks for ``query``, with each method's rank and score as provenance, and what was corrected.

        ``correct``: spelling-correct ``query`` first (True; nothing is corrected when the ``spelling`` setting is
        off), search it as typed (False), or the :class:`~retrieval.spelling.Correction` already made of it (a
        question is corrected once). A corrected query is searched with the typed one fused in at
        ``TYPED_QUERY_WEIGHT``. ``also``: other phrasings fused in at full weight (the notes' abbreviation of a term).
        """
        from coursemate.retrieval.spelling import TYPED_QUERY_WEIGHT

        check_query(query)
        if mode not in SEARCH_MODES:
            raise CoursemateError(f"unknown search mode {mode!r}; choose one of {', '.join(SEARCH_MODES)}")
        if k < 1:
            raise CoursemateError(f"k must be at least 1; got {k}")
        started = time.perf_counter()
        correction = correct if not isinstance(correct, bool) else (
            self.corrector.correct(query) if correct and self.corrector is not None else None)
        correction_ms = (time.perf_counter() - started) * 1000 if correct is True else 0.0
        changed = correction is not None and correction.changed
        searched = correction.corrected if changed else query
        queries = {searched: 1.0} | ({query: TYPED_QUERY_WEIGHT} if changed else {})
        for phrasing in also:
            if phrasing and phrasing.strip():
                queries.setdefault(phrasing, 1.0)
        return SearchResults(query, self._fused(queries, k, mode), searched, searched if changed else None,
                             correction.changes if changed else [], correction_ms)

    def _fused(self, queries: dict[str, float], k: int, mode: str) -> list[Hit]:
        """The ``k`` best chunks for the weighted ``queries``: every method's ranking of each, fused by RRF."""
        s = self.settings
        rankings: list[tuple[list[int], float]] = []
        bm25: dict[int, tuple[int, float]] = {}
        dense: dict[int, tuple[int, float]] = {}
        vectors = self.embed(list(queries)) if mode != "bm25" else [None] * len(queries)
        for (q, weight), vector in zip(queries.items(), vectors):
            sparse_hits = top_k(self.sparse.scores(self.tokenizer(q)), s.candidates) if mode != "dense" else []
            dense_hits = self.dense.search(vector, s.candidates) if vector is not None else []
            if mode != "dense":
                _keep_best(bm25, sparse_hits)
                rankings.append(([i for i, _ in sparse_hits], s.bm25_weight * weight))
            if mode != "bm25":
                _keep_best(dense, dense_hits)
                rankings.append(([i for i, _ in dense_hits], s.dense_weight * weight))
            if mode == "hybrid" and s.sentence_weight > 0:  # small-to-big: both methods' candidates by best sentence
                candidates = [i for i, _ in dense_hits + sparse_hits]
                rankings.append((self.sentences.rank_by_best_sentence(vector, candidates), s.sentence_weight * weight))

        if len(rankings) == 1:
            ranked = [(i, score) for i, (_, score) in sorted((bm25 or dense).items(), key=lambda kv: kv[1][0])]
        else:
            fused = reciprocal_rank_fusion(rankings, s.rrf_k)
            ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        return [
            Hit(
                rank=rank,
                chunk=self.chunks[i],
                score=float(score),
                bm25_rank=bm25[i][0] if i in bm25 else None,
                bm25_score=bm25[i][1] if i in bm25 else None,
                dense_rank=dense[i][0] if i in dense else None,
                dense_score=dense[i][1] if i in dense else None,
            )
            for rank, (i, score) in enumerate(ranked[:k], start=1)
        ]

    # ----------------------------------------------------------------- corpus access
    def document(self, doc_id: str) -> Document:
        """The document ``doc_id``; the error lists the valid ids."""
        try:
            return self.documents[doc_id]
        except KeyError:
            raise CoursemateError(
                f"unknown document {doc_id!r}; known documents: {', '.join(self.documents)}") from None

    def chunk_sentences(self, chunk: Chunk) -> tuple[list[NoteSentence], np.ndarray]:
        """The typed sentences of ``chunk`` and their embeddings: from the index when it holds the chunk, else
        computed."""
        position = self._positions.get(chunk.chunk_id)
        if position is not None and position in self.sentences.by_chunk:
            rows = self.sentences.by_chunk[position]
            return self.sentences.records(rows), self.sentences.vectors[rows]
        records = note_sentences(chunk.text, self.case_model)
        return records, (self.embed([r.text for r in records]) if records else np.zeros((0, 1), dtype=np.float32))

    def clean_text(self, chunk: Chunk) -> str:
        """``chunk`` as a model should read it: its clean, typed sentences (a list item on a line of its own, a
        sentence that needs a missing figure left out), so a served model gets what an extractive answer gets."""
        lines: list[str] = []
        for sentence in self.chunk_sentences(chunk)[0]:
            if sentence.issue in ("figure", "lead-in without its list", "missing symbol"):
                continue
            if sentence.kind in ("list", "code", "table"):
                lines.append(f"- {sentence.text}" if sentence.kind == "list" else sentence.text)
            elif lines and not lines[-1].startswith("- ") and sentence.kind in ("prose", "lead"):
                lines[-1] += " " + sentence.text
            else:
                lines.append(sentence.text)
        return "\n".join(lines) or chunk.text

    @functools.cached_property
    def case_model(self) -> CaseModel:
        """How this corpus writes its terms (learned from its documents on first use)."""
        return CaseModel.learn(d.text for d in self.documents.values())

    def snippet(self, text: str, query: str, chars: int = 300) -> str:
        """The part of ``text`` (one line, at most about ``chars`` characters) that holds the most terms of ``query``:
        it starts at a line or sentence start, and "..." marks what was cut."""
        flat = " ".join(text.split())
        if len(flat) <= chars:
            return flat
        terms = set(self.tokenizer(query))
        starts = [0] + [m.end() for m in _SENTENCE_START.finditer(flat)]
        ends = starts[1:] + [len(flat)]

        def matches(i: int, end: int) -> int:
            return len(terms & set(self.tokenizer(flat[i:end])))

        # most query terms in the window, then in its first sentence, then the earliest
        best = max(zip(starts, ends), key=lambda se: (matches(se[0], se[0] + chars), matches(*se), -se[0]))[0]
        window = flat[best:best + chars]
        if best + chars < len(flat):
            window = window.rsplit(" ", 1)[0] + " ..."
        return ("... " if best else "") + window

    @functools.cached_property
    def document_frequency(self) -> Counter[str]:
        """In how many chunks each BM25 term occurs."""
        return Counter(t for c in self.chunks for t in set(self.tokenizer(c.text)))

    def idf(self, terms: list[str]) -> np.ndarray:
        """BM25's inverse document frequency over the chunks of each (tokenized) term; unseen terms score highest."""
        n = len(self.chunks)
        df = np.array([self.document_frequency.get(t, 0) for t in terms], dtype=np.float32)
        return np.log((n - df + 0.5) / (df + 0.5) + 1.0)

    def uses(self, word: str) -> bool:
        """Whether the notes use ``word`` or a longer form of it ("underfit" for "underfitting"): a notes word shares
        its first :data:`SAME_WORD_PREFIX` share of letters (at least 5), or all of its BM25 terms occur."""
        lower = word.lower()
        terms = self.tokenizer(lower)
        if terms and all(self.document_frequency.get(t, 0) for t in terms):
            return True
        if self._sorted_vocabulary is None:  # with hyphenated words written whole ("under-fitting": "underfitting")
            joined = {m.replace("-", "") for d in self.documents.values() for m in _HYPHENATED.findall(d.text.lower())}
            self._sorted_vocabulary = sorted(set(self.vocabulary()) | joined)
        prefix = lower[:max(5, math.ceil(SAME_WORD_PREFIX * len(lower)))]
        at = bisect.bisect_left(self._sorted_vocabulary, prefix)
        return at < len(self._sorted_vocabulary) and self._sorted_vocabulary[at].startswith(prefix)

    def vocabulary(self) -> Counter[str]:
        """Lowercase word counts over the corpus (for spelling correction)."""
        if self._vocabulary is None:
            self._vocabulary = Counter(w for d in self.documents.values() for w in _WORD.findall(d.text.lower()))
        return self._vocabulary


def check_query(query: str) -> str:
    """The query itself, or a CoursemateError when it is empty or too long."""
    if not isinstance(query, str) or not query.strip():
        raise CoursemateError("the query is empty; type a question or some keywords")
    if len(query) > MAX_QUERY_CHARS:
        raise CoursemateError(f"the query is {len(query):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    if not any(ch.isalnum() for ch in query):
        raise CoursemateError("the query has no words (only symbols, emoji or control characters); "
                              "type a question or some keywords")
    return query


def _keep_best(best: dict[int, tuple[int, float]], results: list[tuple[int, float]]) -> None:
    """Record each chunk's best (lowest) rank and its score across several queries."""
    for rank, (i, score) in enumerate(results, start=1):
        if i not in best or rank < best[i][0]:
            best[i] = (rank, score)


def _fingerprint(settings: Settings, documents: list[Document] | None) -> str:
    """What an index of ``documents`` (None: the configured corpus files) with ``settings`` is built from."""
    if documents is None:
        missing = [str(p) for p in settings.corpus_paths if not p.exists()]
        if missing:
            raise CoursemateError(f"corpus path not found: {', '.join(missing)} (choose the notes with: coursemate "
                                  "index PATHS, or the shipped ones with: coursemate index --shipped)")
        corpus_fingerprint = store.fingerprint_files(settings.corpus_paths)
    else:
        corpus_fingerprint = store.fingerprint_json([d.to_dict() for d in documents])
    return store.fingerprint_json({"corpus": corpus_fingerprint, "params": _index_params(settings)})


def _index_params(settings: Settings) -> dict:
    return {
        "embedding_model": settings.embedding_model,
        "embedding_backend": settings.embedding_backend,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "bm25_stemming": settings.bm25_stemming,
        "bm25_stopwords": settings.bm25_stopwords,
        "sparse_backend": settings.sparse_backend,
        "bm25s_min_chunks": settings.bm25s_min_chunks,
        "dense_index": settings.dense_index,
        "hnsw_min_chunks": settings.hnsw_min_chunks,
        "sentences": SENTENCES_FORMAT,
        "topics": TOPICS_FORMAT if settings.topic_sections else 0,
        "format": INDEX_FORMAT,
    }


def _same_tokens(manifest: dict, params: dict) -> bool:
    """Whether an index with ``manifest`` tokenized its passages as ``params`` would."""
    return all(manifest.get("params", {}).get(name) == params[name] for name in ("bm25_stemming", "bm25_stopwords"))


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in _VERSIONED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions
