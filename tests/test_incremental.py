"""Incremental indexing: adding, changing or removing a document embeds only new text, and searches afterwards
equal those of a full rebuild of the same corpus (real embedding model, FAISS, BM25)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coursemate.config import Settings
from coursemate.retrieval import NotesIndex
from coursemate.retrieval.chunking import chunk_documents
from coursemate.retrieval.ingest import load_corpus
from coursemate.retrieval.sentences import note_sentences

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTES = REPO_ROOT / "data" / "notes"
FIRST = ("post-lstm-one-pager", "post-what-is-relu", "blog-googlenet", "blog-mobilenet")
ADDED = "blog-alexnet"
QUERIES = ("what do the gates of an LSTM do?", "why is ReLU used instead of sigmoid?",
           "depthwise separable convolution", "inception module 1x1 convolutions",
           "local response normalization in AlexNet", "dropout in the first net",
           "how many parameters does MobileNet have?", "vanishing gradient")


def assert_same_results(index: NotesIndex, reference: NotesIndex) -> None:
    """Every query finds the same chunks, in the same order, with the same scores (to 1e-5), in every search mode."""
    for query in QUERIES:
        for mode in ("hybrid", "bm25", "dense"):
            hits, expected = (i.search(query, k=8, mode=mode, correct=False) for i in (index, reference))
            assert [h.chunk.chunk_id for h in hits] == [h.chunk.chunk_id for h in expected], (query, mode)
            assert [h.score for h in hits] == pytest.approx([h.score for h in expected], abs=1e-5), (query, mode)


def settings_for(root: Path, notes: Path) -> Settings:
    """fp32 torch embeddings: a text's vector does not depend on the batch it was embedded in (bf16 autocast, the
    ``auto`` backend's batches on AMX CPUs, moves vectors by up to about 1e-3 with the batch, enough to swap near ties
    between an update and a full rebuild)."""
    return Settings.load(home=root / "home", corpus_paths=[notes], embedding_backend="torch")


def notes_folder(root: Path, names: tuple[str, ...]) -> Path:
    folder = root / "notes"
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(NOTES / f"{name}.md", folder)
    return folder


@pytest.fixture(scope="module")
def updated(tmp_path_factory, load_cached_copy):
    """An index of FIRST, then ADDED added to its folder and the index updated."""
    root = tmp_path_factory.mktemp("incremental")
    notes = notes_folder(root, FIRST)
    settings = settings_for(root, notes)
    before = load_cached_copy(settings, "incremental-before")
    shutil.copy(NOTES / f"{ADDED}.md", notes)
    after = NotesIndex.load_or_build(settings, progress=False)
    return settings, before, after


def test_adding_a_document_embeds_only_its_text(updated):
    _, before, after = updated
    assert after.manifest["update"] == "incremental"
    [document], _ = load_corpus([NOTES / f"{ADDED}.md"])
    chunks = chunk_documents([document], after.settings.chunk_size, after.settings.chunk_overlap)
    assert after.manifest["embedded"]["passages"] == len(chunks) == sum(c.doc_id == ADDED for c in after.chunks)
    # only sentences the index did not hold are embedded: the new document's, and a few of the others whose
    # truecasing (learned from the whole corpus) changed with it
    new_sentences = set(after.sentences.texts) - set(before.sentences.texts)
    own_sentences = {s.text for c in chunks for s in note_sentences(c.text, after.case_model)}
    assert after.manifest["embedded"]["sentences"] == len(new_sentences) > 0
    assert len(new_sentences - own_sentences) <= 0.1 * len(new_sentences)
    assert set(before.documents) | {ADDED} == set(after.documents)
    assert after.manifest["added"][ADDED] >= after.manifest["added"]["blog-googlenet"]


def test_search_after_an_update_equals_a_full_rebuild(updated, tmp_path, load_cached_copy):
    _, _, after = updated
    notes = notes_folder(tmp_path, (*FIRST, ADDED))
    full = load_cached_copy(settings_for(tmp_path, notes), "incremental-after")
    assert full.manifest["update"] == "full"
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in full.chunks]
    assert after.sentences.texts == full.sentences.texts
    assert_same_results(after, full)


def test_removing_a_document_returns_to_the_index_without_it(updated):
    settings, before, after = updated
    (settings.corpus_paths[0] / f"{ADDED}.md").unlink()
    removed = NotesIndex.load_or_build(settings, progress=False)
    assert removed.manifest["embedded"]["passages"] == 0
    assert ADDED not in removed.documents
    assert_same_results(removed, before)
    reloaded = NotesIndex.load_or_build(settings, progress=False)  # the update was written whole: it loads as is
    assert reloaded.manifest["built_at"] == removed.manifest["built_at"]
