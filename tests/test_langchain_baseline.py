"""The LangChain tutorial ensemble as a peer row of ``coursemate eval retrieval``: built over an index's documents
with the real model, scored with the course gold like our runs, its chunk vectors cached (a second build embeds
nothing), and the CLI row on a small BEIR folder."""

import json

import pytest

from coursemate.cli import main
from coursemate.eval.datasets import COURSE_QUESTIONS, EvalDataset, load_course_questions, normalize
from coursemate.eval.langchain_baseline import SPLITTER_CHUNK_SIZE, LangChainBaseline, evaluate_langchain
from coursemate.eval.runner import DEPTH_FACTOR, evaluate
from coursemate.retrieval import NotesIndex


def _questions_on(index: NotesIndex) -> EvalDataset:
    """The course questions (both splits) whose gold lies in ``index``'s notes."""
    questions = load_course_questions(COURSE_QUESTIONS).answerable
    inside = [q for q in questions if q.evidence and all(doc in index.documents for doc, _ in q.evidence)]
    return EvalDataset("course-small", inside)


@pytest.fixture(scope="module")
def first_build(small_notes_index, tmp_path_factory) -> tuple[NotesIndex, LangChainBaseline]:
    """``small_notes_index`` (same chunks and vectors) in a home of its own, with the first LangChain build over it
    (the one that embeds its chunks into that home's cache)."""
    base = small_notes_index
    home = tmp_path_factory.mktemp("langchain-home")
    index = NotesIndex(base.settings.replace(home=home), list(base.documents.values()), base.chunks, base.sparse,
                       base.dense, base.manifest, base.sentences)
    return index, LangChainBaseline(index, k=10)


def test_the_langchain_row_is_scored_with_the_same_gold_as_ours(first_build):
    index, baseline = first_build
    dataset = _questions_on(index)
    assert len(dataset.queries) >= 20
    result = evaluate_langchain(index, dataset, k=10)
    ours = evaluate(index, dataset, "hybrid", k=10)

    assert result.label == "langchain" and result.config["retriever_k"] == 10
    assert [q["qid"] for q in result.per_query] == [q["qid"] for q in ours.per_query]
    for chunk in baseline.chunks:  # the tutorial's chunks, spans of the documents
        assert index.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= SPLITTER_CHUNK_SIZE
    for query, record in zip(dataset.queries, result.per_query):
        hits = baseline.search(query.text, k=10 * DEPTH_FACTOR).hits
        gold_ranks = [h.rank for h in hits
                      if any(h.chunk.doc_id == doc and normalize(passage) in normalize(h.chunk.text)
                             for doc, passage in query.evidence)]
        expected = gold_ranks[0] if gold_ranks and gold_ranks[0] <= 10 else None  # chunk ids are distinct items
        assert record["first_relevant_rank"] == expected, query.qid
        assert record["query"] == query.text and record["corrected"] is None
    assert 0.5 <= result.metrics["recall@10"] <= 1.0  # a real retriever: most gold found
    assert result.metrics["latency_p50_ms"] > 0


def test_the_chunk_vectors_are_cached_and_reused(first_build, monkeypatch):
    index, first = first_build
    assert first.embedded == len(first.chunks) > len(index.documents)  # the notes are split into many chunks
    assert first.cache_path.is_file() and first.cache_path.is_relative_to(index.settings.home / "eval-index")

    embedded: list[str] = []
    real_embed = index.embed
    monkeypatch.setattr(index, "embed", lambda texts: embedded.extend(texts) or real_embed(texts))
    second = LangChainBaseline(index, k=10)
    assert second.embedded == 0 and embedded == []  # nothing embedded while building
    question = "what do the gates of an LSTM decide?"
    assert [h.chunk.chunk_id for h in second.search(question).hits] == [
        h.chunk.chunk_id for h in first.search(question).hits]
    assert embedded == [question]  # only the query (FAISS inside the second ensemble; the first holds the original)


def test_the_misspelled_questions_are_searched_as_typed(first_build):
    index, _ = first_build
    dataset = _questions_on(index)
    result = evaluate_langchain(index, dataset, k=10, misspelled=True)
    assert [r["query"] for r in result.per_query] == [q.misspelled for q in dataset.queries]
    assert all(r["corrected"] is None for r in result.per_query) and result.config["misspelled"] is True


def test_the_cli_prints_the_langchain_row_on_request(tmp_path, capsys):
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    long_text = " ".join(f"Sentence {n} is about the migration of arctic terns over the ocean." for n in range(40))
    corpus = [{"_id": "terns", "title": "Terns", "text": long_text},
              {"_id": "lava", "title": "Volcanoes", "text": "Basaltic lava flows from shield volcanoes."},
              {"_id": "tides", "title": "Tides", "text": "The moon's gravity raises ocean tides twice a day."}]
    queries = [{"_id": "q1", "text": "how far do arctic terns migrate"}, {"_id": "q2", "text": "shield volcano lava"}]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tterns\t1\nq2\tlava\t1\n")
    home = tmp_path / "home"

    args = ["--home", str(home), "eval", "retrieval", "--dataset", str(folder), "--modes", "bm25", "--json",
            "--no-spelling"]
    assert main(args) == 0  # BEIR: no LangChain row unless asked for
    assert set(json.loads(capsys.readouterr().out)) == {"bm25"}
    assert main([*args, "--langchain"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"bm25", "langchain"}
    assert summary["langchain"]["recall@1"] == pytest.approx(1.0)  # the long note's chunks count as one document
    report = json.loads(max((home / "reports").glob("retrieval-beir-*.json")).read_text())
    run = next(r for r in report["runs"] if r["label"] == "langchain")
    assert run["config"]["chunks"] > len(corpus)  # the long document was split
    assert len(list((home / "eval-index").glob("langchain-*/vectors.npy"))) == 1
