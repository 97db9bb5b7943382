"""Hybrid retrieval on the shipped notes with the real embedding model, FAISS and BM25."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from coursemate.errors import CoursemateError
from coursemate.retrieval import NotesIndex
from coursemate.retrieval.index import MAX_QUERY_CHARS
from coursemate.retrieval.langchain_adapter import NotesRetriever
from coursemate.retrieval.sparse import BM25sIndex, RankBM25Index

# (question, document id that answers it, a phrase the answering passage contains, modes that must find it)
QUESTIONS = [
    ("Which dataset was DCGAN trained on?", "blog-dcgan", "lsun", ("hybrid", "bm25", "dense")),
    ("What do the gates of an LSTM do?", "post-lstm-one-pager", "gate", ("hybrid", "bm25", "dense")),
    ("How do L1 and L2 regularization differ?", "session-05-batch-normalization-regularization", "l2",
     ("hybrid", "bm25", "dense")),
    ("Why does ResNet use skip connections?", None, "skip connection", ("hybrid", "bm25", "dense")),
]


def _found(hits, doc_id, phrase) -> bool:
    return any((doc_id is None or h.chunk.doc_id == doc_id) and phrase in h.chunk.text.lower() for h in hits)


@pytest.mark.parametrize("question,doc_id,phrase,modes", QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_notes_questions_find_the_right_passage_in_top5(course_index, question, doc_id, phrase, modes):
    for mode in modes:
        hits = course_index.search(question, k=5, mode=mode)
        assert _found(hits, doc_id, phrase), (mode, [(h.chunk.chunk_id, h.chunk.text[:80]) for h in hits])


def test_hits_carry_provenance_and_exact_offsets(course_index):
    hits = course_index.search("batch normalization", k=10)
    assert [h.rank for h in hits] == list(range(1, 11))
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    assert any(h.bm25_rank is not None and h.dense_rank is not None for h in hits)
    for h in hits:
        doc = course_index.document(h.chunk.doc_id)
        assert doc.text[h.chunk.start : h.chunk.end] == h.chunk.text
        assert h.chunk.title == doc.title
        assert h.bm25_rank is not None or h.dense_rank is not None
    row = hits[0].to_dict()
    for key in ("rank", "doc_id", "title", "section", "source", "text", "score", "bm25_rank", "dense_rank"):
        assert key in row


def test_single_method_modes_leave_the_other_provenance_empty(course_index):
    assert all(h.dense_rank is None and h.bm25_rank is not None for h in course_index.search("dropout", mode="bm25"))
    assert all(h.bm25_rank is None and h.dense_rank is not None for h in course_index.search("dropout", mode="dense"))


def test_other_phrasings_are_fused_in_and_the_typed_query_at_a_low_weight(course_index):
    from coursemate.retrieval.spelling import Correction

    typed, corrected = "dcgan trainning datset", "dcgan training dataset"
    assert _found(course_index.search(typed, k=5, correct=False, also=[corrected]), "blog-dcgan", "lsun")
    equal = course_index.search(corrected, k=10, correct=False, also=[typed])
    made = Correction(typed, corrected, True, [("trainning", "training"), ("datset", "dataset")])
    light = course_index.search(typed, k=10, correct=made)  # a correction made once, before the search
    alone = course_index.search(corrected, k=10, correct=False)
    assert light.did_you_mean == light.corrected == corrected and light.correction_ms == 0.0
    assert light[0].score < equal[0].score
    assert light[0].score > alone[0].score  # the typed query still contributes


def test_chunks_stay_inside_one_section(course_index):
    for chunk in course_index.chunks:
        doc = course_index.documents[chunk.doc_id]
        section = next(s for s in doc.sections if s.title == chunk.section and s.start <= chunk.start)
        assert chunk.end <= max(s.end for s in doc.sections if s.title == section.title)


def test_bm25s_ranks_exactly_like_rank_bm25(course_index):
    tokens = course_index.tokenizer.many(
        [f"{c.title} - {c.section}\n{c.text}" if c.section else f"{c.title}\n{c.text}" for c in course_index.chunks]
    )
    reference, fast = RankBM25Index.build(tokens), BM25sIndex.build(tokens)
    for query in ("vanishing gradients lstm", "receptive field of a 3x3 convolution", "what is the the network"):
        q = course_index.tokenizer(query)
        a, b = reference.scores(q), fast.scores(q)
        assert a == pytest.approx(b, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("query", ["", "   \n\t"])
def test_empty_query_is_a_clear_error(course_index, query):
    with pytest.raises(CoursemateError, match="empty"):
        course_index.search(query)


def test_huge_query_is_a_clear_error(course_index):
    with pytest.raises(CoursemateError, match="limit"):
        course_index.search("convolution " * (100_000 // 12))
    assert course_index.search("convolution " * (MAX_QUERY_CHARS // 12 - 1), k=3)


def test_unknown_mode_and_document_name_the_valid_choices(course_index):
    with pytest.raises(CoursemateError, match="hybrid, bm25, dense"):
        course_index.search("dropout", mode="fuzzy")
    with pytest.raises(CoursemateError, match="blog-dcgan"):
        course_index.document("no-such-doc")


def test_langchain_retriever_adapter(course_index):
    docs = NotesRetriever(index=course_index, k=3).invoke("Which dataset was DCGAN trained on?")
    assert len(docs) == 3
    assert docs[0].metadata["doc_id"] and "bm25_rank" in docs[0].metadata


# ------------------------------------------------------------------ persistence, on a small corpus of its own
@pytest.fixture
def small_corpus(tmp_path, course_settings):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "pooling.md").write_text("# Pooling\n\n## Global average pooling\n"
                                      "GAP averages each feature map to one number.\n")
    (notes / "optim.md").write_text("# Optimizers\n\n## Momentum\n"
                                    "Momentum accumulates past gradients to damp oscillations.\n")
    settings = course_settings.replace(home=tmp_path / "home", index_dir=tmp_path / "home" / "index",
                                       corpus_paths=[notes])
    return settings, notes


def test_index_is_reused_then_rebuilt_when_the_corpus_changes(small_corpus):
    settings, notes = small_corpus
    first = NotesIndex.load_or_build(settings, progress=False)
    again = NotesIndex.load_or_build(settings, progress=False)
    assert again.manifest["built_at"] == first.manifest["built_at"]
    assert again.manifest["fingerprint"] == first.manifest["fingerprint"]
    (notes / "dropout.md").write_text("# Dropout\nDropout zeroes random activations during training.\n")
    changed = NotesIndex.load_or_build(settings, progress=False)
    assert changed.manifest["fingerprint"] != first.manifest["fingerprint"]
    assert changed.search("dropout zeroes activations", k=1)[0].chunk.doc_id.startswith("dropout")
    rechunked = NotesIndex.load_or_build(settings.replace(chunk_size=400), progress=False)
    assert rechunked.manifest["fingerprint"] != changed.manifest["fingerprint"]


@pytest.mark.parametrize("victim", ["dense.faiss", "chunks.jsonl", "manifest.json"])
def test_truncated_index_file_is_reported_and_rebuilt(small_corpus, caplog, victim):
    settings, _ = small_corpus
    NotesIndex.load_or_build(settings, progress=False)
    path = settings.index_dir / victim
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with caplog.at_level(logging.WARNING):
        index = NotesIndex.load_or_build(settings, progress=False)
    assert "rebuilding" in caplog.text
    assert index.search("global average pooling", k=1)[0].chunk.doc_id.startswith("pooling")
    assert NotesIndex.load_or_build(settings, progress=False).manifest["fingerprint"] == index.manifest["fingerprint"]


def test_a_failed_build_leaves_the_previous_index_intact(small_corpus, monkeypatch):
    settings, notes = small_corpus
    good = NotesIndex.load_or_build(settings, progress=False)
    (notes / "new.md").write_text("# New\nsomething new\n")

    def explode(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr("coursemate.retrieval.dense.DenseIndex.save", explode)
    with pytest.raises(OSError):
        NotesIndex.load_or_build(settings, progress=False)
    monkeypatch.undo()
    (notes / "new.md").unlink()
    reopened = NotesIndex.load_or_build(settings, progress=False)
    assert reopened.manifest["built_at"] == good.manifest["built_at"]
    assert not [p for p in settings.index_dir.parent.iterdir() if ".tmp-" in p.name]


def test_binary_file_in_corpus_is_skipped_by_name(small_corpus):
    settings, notes = small_corpus
    (notes / "weights.txt").write_bytes(b"\x00\x01\x02garbage\x00" * 100)
    index = NotesIndex.load_or_build(settings, progress=False)
    assert any("weights.txt" in s for s in index.manifest["skipped"])
    assert len(index.documents) == 2


def test_missing_corpus_path_is_a_clear_error(course_settings, tmp_path):
    with pytest.raises(CoursemateError, match="not found"):
        NotesIndex.load_or_build(course_settings.replace(index_dir=tmp_path / "i"), paths=[tmp_path / "nope"])


# ------------------------------------------------------------------ CLI
def _cli(*args, env_home):
    return subprocess.run(
        [sys.executable, "-m", "coursemate.cli", "--home", str(env_home), *args],
        capture_output=True, text=True, timeout=600,
    )


def test_cli_search_json_and_errors(course_settings, course_index):
    home = course_settings.home  # the session index is built (home/index)
    result = _cli("search", "Which dataset was DCGAN trained on?", "--json", "--k", "3", env_home=home)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["did_you_mean"] is None and payload["query"] == "Which dataset was DCGAN trained on?"
    hits = payload["hits"]
    assert len(hits) == 3 and hits[0]["rank"] == 1
    assert {"rank", "doc_id", "title", "section", "source", "text", "score", "bm25_rank", "dense_rank"} <= set(hits[0])
    assert any(h["doc_id"] == "blog-dcgan" for h in hits)

    empty = _cli("search", "   ", env_home=home)
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr
    missing = _cli("index", "/no/such/notes", env_home=home)
    assert missing.returncode == 2 and "not found" in missing.stderr and "Traceback" not in missing.stderr


def test_onnx_backend_gives_the_torch_vectors(course_settings):
    """The default ONNX export (mean pooling + normalization in the graph) reproduces sentence-transformers."""
    from coursemate.retrieval.embeddings import OnnxEmbedder, embed, embedder_for

    texts = ["What do the LSTM gates do?", "x", "global average pooling " * 80, "Batch norm, dropout & L2."]
    onnx = embedder_for(course_settings.replace(embedding_backend="onnx"))
    torch_model = embedder_for(course_settings.replace(embedding_backend="torch"))
    assert isinstance(onnx, OnnxEmbedder)
    cosines = (embed(onnx, texts, batch_size=3) * embed(torch_model, texts)).sum(axis=1)
    assert cosines.min() > 0.9999


def test_the_embedding_backend_is_part_of_the_index_fingerprint(course_settings):
    from coursemate.retrieval.index import _index_params

    assert _index_params(course_settings) != _index_params(course_settings.replace(embedding_backend="torch"))


def test_every_search_corrects_spelling_unless_told_not_to(course_index):
    """One search path: NotesIndex.search/query, and so the CLI, UI, LangChain and agent tools, correct typos."""
    from coursemate.retrieval.langchain_adapter import NotesRetriever

    typed = "what is a sadle piont"
    results = course_index.search(typed, k=5)
    assert results.did_you_mean == "what is a saddle point" and results.correction_ms >= 0
    assert any("saddle point" in h.chunk.text.lower() for h in results.hits[:3])
    assert [h.chunk.chunk_id for h in course_index.search(typed, k=5)] == [h.chunk.chunk_id for h in results.hits]
    raw = course_index.search(typed, k=5, correct=False)
    assert raw.did_you_mean is None and raw.corrected == typed
    docs = NotesRetriever(index=course_index, k=5).invoke(typed)
    assert [d.metadata["chunk_id"] for d in docs] == [h.chunk.chunk_id for h in results.hits]


def test_sentence_ranking_orders_the_candidates_by_their_best_sentence(course_index):
    query = course_index.embed(["what does dropout do during training"])[0]
    candidates = [h.chunk for h in course_index.search("dropout regularization", k=20, correct=False)]
    positions = [course_index.chunks.index(c) for c in candidates]
    ranked = course_index.sentences.rank_by_best_sentence(query, positions + positions[:3])  # repeats count once
    best = {p: max(course_index.chunk_sentences(course_index.chunks[p])[1] @ query) for p in ranked}
    assert sorted(ranked) == sorted({p for p in positions if course_index.chunk_sentences(course_index.chunks[p])[0]})
    assert [best[p] for p in ranked] == sorted(best.values(), reverse=True)


def test_auto_dense_index_is_exact_until_hnsw_min_chunks_then_hnsw_finds_the_flat_hits(course_index):
    from coursemate.retrieval.dense import DenseIndex, choose_kind

    n = course_index.dense.index.ntotal
    assert choose_kind("auto", n, n + 1) == "flat" and choose_kind("auto", n, n) == "hnsw"
    assert choose_kind("flat", 10**9, 1) == "flat"
    vectors = course_index.dense.index.reconstruct_n(0, n)
    hnsw = DenseIndex.build(vectors, choose_kind("auto", n, n))
    queries = course_index.embed(["what is batch normalization", "how does an LSTM remember", "what is a GAN"])
    for query in queries:
        exact = [i for i, _ in course_index.dense.search(query, 10)]
        approximate = {i for i, _ in hnsw.search(query, course_index.settings.candidates)}
        assert len(set(exact) & approximate) >= 9


def test_snippet_shows_the_part_of_a_long_passage_that_matches_the_query(course_index):
    filler = " ".join(f"Sentence {i} is about convolution kernels and padding." for i in range(30))
    text = f"{filler} A saddle point is a point where the gradient is zero but which is no minimum. {filler}"
    snippet = course_index.snippet(text, "what is a saddle point", chars=200)
    assert snippet.startswith("... A saddle point is a point") and snippet.endswith(" ...")
    assert len(snippet) <= 200 + 8
    assert course_index.snippet("Short passage.\nTwo lines.", "anything") == "Short passage. Two lines."
