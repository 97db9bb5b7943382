"""Summaries over the real index of the shipped notes (real embedding model, FAISS, BM25)."""

from __future__ import annotations

import json
import re

import pytest

from coursemate.cli import main
from coursemate.errors import CoursemateError
from retrieval.sentences import clean_sentence, split_sentences
from tools.summarize import Summary, batch_by_budget, summarize
from tools.text_agent_tools import SummarizeTool

SESSION_DOC = "session-05-batch-normalization-regularization"
_SENTENCE_AND_MARKER = re.compile(r"(.+?) \[(\d+)\](?: |$)")


def sentences_with_citations(summary: Summary) -> list[tuple[str, int]]:
    pairs = [(s, int(n)) for s, n in _SENTENCE_AND_MARKER.findall(summary.text)]
    assert " ".join(f"{s} [{n}]" for s, n in pairs) == summary.text, "text is not only cited sentences"
    return pairs


def assert_extractive_and_grounded(summary: Summary, words: int) -> None:
    assert summary.method == "extractive"
    pairs = sentences_with_citations(summary)
    assert pairs
    by_number = {c.n: c for c in summary.citations}
    assert sorted(by_number) == list(range(1, len(by_number) + 1))
    assert {n for _, n in pairs} == set(by_number), "every citation is used and every marker resolves"
    for sentence, n in pairs:
        assert sentence in clean_sentence(by_number[n].text)
    assert sum(len(s.split()) for s, _ in pairs) <= words


def test_document_summary_is_made_of_cited_sentences(course_index):
    summary = summarize(course_index, doc_id="post-what-is-resnet", words=80)
    assert_extractive_and_grounded(summary, 80)
    assert all(c.doc_id == "post-what-is-resnet" for c in summary.citations)
    assert sum(len(s.split()) for s, _ in sentences_with_citations(summary)) > 40  # fills most of the budget


def test_session_summary_cites_that_session(course_index):
    summary = summarize(course_index, session=5, words=120)
    assert_extractive_and_grounded(summary, 120)
    assert {c.doc_id for c in summary.citations} == {SESSION_DOC}


def test_session_with_two_documents_draws_from_both(course_index):
    ids = {d.doc_id for d in course_index.documents.values() if d.metadata.get("session") == 10}
    summary = summarize(course_index, session=10, words=300)
    assert_extractive_and_grounded(summary, 300)
    assert {c.doc_id for c in summary.citations} <= ids


def test_topic_summary_is_on_topic(course_index):
    summary = summarize(course_index, topic="residual connections in resnet", words=60)
    assert_extractive_and_grounded(summary, 60)
    assert "residual" in summary.text.lower()


def test_given_text_summary(course_index):
    text = ("Dropout randomly zeroes activations during training. It reduces overfitting by preventing "
            "co-adaptation of neurons. At test time all neurons are used and outputs are scaled. "
            "Batch normalization normalizes activations per mini-batch. It allows higher learning rates.")
    summary = summarize(course_index, text=text, words=20)
    assert_extractive_and_grounded(summary, 20)
    assert summary.citations[0].doc_id == "text"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"doc_id": SESSION_DOC, "session": 5}, "exactly one"),
        ({"doc_id": "no-such-note"}, "known documents: .*post-what-is-resnet"),
        ({"session": 42}, "no course session 42; sessions in the notes: 0, 1, 2"),
        ({"topic": "  "}, "topic is empty"),
        ({"text": ""}, "text to summarize is empty"),
        ({"doc_id": SESSION_DOC, "words": 3}, "between 10 and"),
    ],
)
def test_bad_requests_are_clear_errors(course_index, kwargs, message):
    with pytest.raises(CoursemateError, match=message):
        summarize(course_index, **kwargs)


def test_split_sentences_keeps_substrings():
    text = ("# A heading line here\n- first bullet item is here.\n2. A numbered item is here\n"
            "One more sentence here. Another one follows here! Too short.\nok")
    sentences = split_sentences(text)
    assert sentences == ["first bullet item is here.", "A numbered item is here", "One more sentence here.",
                         "Another one follows here!"]
    assert all(s in text for s in sentences)


def test_batches_respect_the_context_budget():
    texts = ["a" * 1000, "b" * 1000, "c" * 1000, "d" * 50_000]
    batches = batch_by_budget(texts, budget_tokens=600)  # 2400 characters
    assert [len(b) for b in batches] == [2, 2]
    assert all(sum(map(len, b)) <= 2400 + 1000 for b in batches)
    assert len(batches[1][1]) == 2400  # an oversized text is cut to the budget


def test_summarize_tool(course_index):
    tool = SummarizeTool(course_index)
    assert tool.name == "summarize_notes"
    out = tool.forward(session=5, words=60)
    assert "[1]" in out and "Sources:" in out and SESSION_DOC in out
    assert tool.forward(session=99).startswith("Error: no course session 99")


def test_summarize_cli(course_settings, course_index, monkeypatch, capsys):
    monkeypatch.setenv("COURSEMATE_HOME", str(course_settings.home))
    assert main(["summarize", "--session", "5", "--words", "50", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "extractive" and data["citations"][0]["doc_id"] == SESSION_DOC
    assert main(["summarize", "--doc", "nope"]) == 2
    assert "unknown document 'nope'" in capsys.readouterr().err
