"""Ranking metrics against a hand-computed example, item mapping, typos and baseline comparison."""

import json

import pytest

from coursemate.eval.datasets import COURSE_QUESTIONS, GOLD, EvalQuery, load_course_questions
from coursemate.eval.metrics import aggregate, dedupe, mrr_at, ndcg_at, query_metrics, recall_at
from coursemate.eval.reports import load_summary, markdown_table, regressions
from coursemate.eval.typos import misspell
from coursemate.retrieval.types import Chunk

# Ranking d3 d1 d7 d2 d9 against qrels d1=1, d2=2, d5=1 (d5 never retrieved).
RANKED = ["d3", "d1", "d7", "d2", "d9"]
QRELS = {"d1": 1, "d2": 2, "d5": 1}


def test_recall_counts_the_share_of_relevant_documents_found():
    assert recall_at(RANKED, QRELS, 1) == 0.0
    assert recall_at(RANKED, QRELS, 3) == pytest.approx(1 / 3)  # d1
    assert recall_at(RANKED, QRELS, 5) == pytest.approx(2 / 3)  # d1, d2
    assert recall_at(RANKED, QRELS, 10) == pytest.approx(2 / 3)


def test_mrr_is_the_reciprocal_rank_of_the_first_relevant_document():
    assert mrr_at(RANKED, QRELS, 10) == 0.5
    assert mrr_at(RANKED, QRELS, 1) == 0.0


def test_ndcg_uses_graded_gains_and_the_ideal_ordering():
    # DCG = 1/log2(3) + 2/log2(5) = 0.63093 + 0.86135 = 1.49228
    # IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.63093 + 0.5 = 3.13093
    assert ndcg_at(RANKED, QRELS, 10) == pytest.approx(1.49228 / 3.13093, abs=1e-5)
    assert ndcg_at(["d2", "d1", "d5"], QRELS, 10) == pytest.approx(1.0)
    assert ndcg_at(["x"], QRELS, 10) == 0.0


def test_query_metrics_and_aggregate():
    scores = query_metrics(RANKED, QRELS)
    assert scores["recall@3"] == pytest.approx(1 / 3)
    assert scores["ndcg@10"] == pytest.approx(0.47663, abs=1e-5)
    summary = aggregate([scores, query_metrics(["d2"], {"d2": 1})], [10.0, 20.0, 30.0, 40.0])
    assert summary["mrr@10"] == pytest.approx((0.5 + 1.0) / 2)
    assert summary["latency_p50_ms"] == pytest.approx(25.0)
    assert summary["latency_p95_ms"] == pytest.approx(38.5)


def _chunk(chunk_id, doc_id, text="", section=""):
    return Chunk(chunk_id, doc_id, "title", section, "src", text, 0, len(text))


def test_chunk_hits_map_to_documents_keeping_the_first_rank():
    query = EvalQuery("q", "claim", qrels={"b": 1})
    hits = [_chunk("a#0", "a"), _chunk("b#1", "b"), _chunk("a#1", "a"), _chunk("b#0", "b"), _chunk("c#0", "c")]
    ranked = dedupe([query.item_id(c) for c in hits])
    assert ranked == ["a", "b", "c"]
    assert mrr_at(ranked, query.qrels, 10) == 0.5


def test_course_gold_is_the_evidence_inside_the_gold_document():
    query = EvalQuery("q", "?", {GOLD: 1}, doc_id="notes",
                      evidence=(("notes", "Clamps every  component"), ("more", "clip")))
    assert query.is_gold(_chunk("notes#3", "notes", "It clamps every\ncomponent of the gradient"))
    assert query.is_gold(_chunk("more#0", "more", "We clip gradients"))
    assert not query.is_gold(_chunk("other#3", "other", "It clamps every component of the gradient"))
    assert not query.is_gold(_chunk("notes#4", "notes", "It clamps every"))
    by_section = EvalQuery("q", "?", {GOLD: 1}, doc_id="notes", section="Dropout")
    assert by_section.is_gold(_chunk("notes#5", "notes", "anything", section="dropout"))
    hits = [_chunk("x#0", "x"), _chunk("notes#3", "notes", "clamps every component"),
            _chunk("notes#4", "notes", "clamps every component")]
    assert dedupe([query.item_id(c) for c in hits]) == ["x#0", GOLD]


def test_committed_misspellings_are_reproducible_and_differ_from_the_questions():
    dataset = load_course_questions(COURSE_QUESTIONS)
    for query in dataset.queries:
        assert query.misspelled == misspell(query.text, query.qid)
        assert query.misspelled != query.text
    question = "How does dropout regularize networks?"
    assert misspell(question, "seed") == misspell(question, "seed")


def test_course_questions_are_many_and_include_out_of_scope_ones():
    dataset = load_course_questions(COURSE_QUESTIONS)
    assert len(dataset.answerable) >= 80
    assert len({q.qid for q in dataset.queries}) == len(dataset.queries)
    assert sum(q.out_of_scope for q in dataset.queries) >= 5


def test_regressions_flag_drops_beyond_the_tolerance_only():
    baseline = {"hybrid": {"recall@5": 0.95, "ndcg@10": 0.80, "latency_p50_ms": 5.0}}
    assert regressions({"hybrid": {"recall@5": 0.94, "ndcg@10": 0.80, "latency_p50_ms": 50.0}}, baseline, 0.02) == []
    dropped = regressions({"hybrid": {"recall@5": 0.90, "ndcg@10": 0.81, "latency_p50_ms": 5.0}}, baseline, 0.02)
    assert len(dropped) == 1 and dropped[0].startswith("hybrid recall@5")


def test_load_summary_reads_reports_and_json_output(tmp_path):
    summary = {"bm25": {"recall@5": 0.5}}
    (tmp_path / "report.json").write_text(json.dumps({"dataset": "x", "summary": summary}))
    (tmp_path / "plain.json").write_text(json.dumps(summary))
    assert load_summary(tmp_path / "report.json") == summary
    assert load_summary(tmp_path / "plain.json") == summary
    assert "| bm25 | 0.500 |" in markdown_table({"bm25": {"recall@1": 0.5}})
