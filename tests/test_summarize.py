"""Summaries over the real index of the shipped notes (real embedding model, FAISS, BM25)."""

from __future__ import annotations

import json
import re

import pytest

from coursemate.cli import main
from coursemate.errors import CoursemateError
from coursemate.retrieval.sentences import split_sentences
from coursemate.tools.grounding.render import text_with_sources
from coursemate.tools.quiz import in_text
from coursemate.tools.summarize import (
    Summary,
    batch_by_budget,
    has_glued_heading,
    is_aside,
    is_imperative,
    summarize,
)
from coursemate.tools.text_agent_tools import SummarizeTool
from coursemate.tools.wordclass import notes_words

SESSION_DOC = "session-05-batch-normalization-regularization"
_BULLET = re.compile(r"- (?P<heading>[^:]+): (?P<body>.+)")
_SENTENCE_AND_MARKER = re.compile(r"(.+?) \[(\d+)\](?: |$)")


def outline(summary: Summary) -> list[tuple[str, list[tuple[str, int]]]]:
    """The bullets of an outline: heading, and each sentence with its marker (every line is one bullet)."""
    bullets = []
    for line in summary.text.splitlines():
        match = _BULLET.fullmatch(line)
        assert match, f"not a bullet: {line!r}"
        pairs = [(s, int(n)) for s, n in _SENTENCE_AND_MARKER.findall(match.group("body"))]
        assert " ".join(f"{s} [{n}]" for s, n in pairs) == match.group("body"), "a bullet is only cited sentences"
        bullets.append((match.group("heading"), pairs))
    return bullets


def words_of(summary: Summary) -> int:
    return sum(len(h.split()) + sum(len(s.split()) for s, _ in pairs) for h, pairs in outline(summary))


def assert_grounded_outline(summary: Summary) -> None:
    """Every marker resolves, every citation is used, every sentence is in its chunk, every heading is a phrase of
    the notes, written with a capital and at most three words, and no two headings are the same."""
    assert summary.method == "extractive"
    bullets = outline(summary)
    by_number = {c.n: c for c in summary.citations}
    assert sorted(by_number) == list(range(1, len(by_number) + 1))
    assert {n for _, pairs in bullets for _, n in pairs} == set(by_number)
    for heading, pairs in bullets:
        assert heading[0].isupper() and len(heading.split()) <= 3
        assert any(in_text(heading, by_number[n].text) for _, n in pairs) or any(
            in_text(heading, c.text) for c in summary.citations)
        for sentence, n in pairs:
            assert in_text(sentence, by_number[n].text)
    headings = [h.lower() for h, _ in bullets]
    assert len(set(headings)) == len(headings)


def test_document_summary_is_an_outline_of_its_topics(course_index):
    summary = summarize(course_index, doc_id="post-what-is-resnet")
    assert_grounded_outline(summary)
    assert all(c.doc_id == "post-what-is-resnet" for c in summary.citations)
    assert len(outline(summary)) >= 3 and words_of(summary) <= 200


@pytest.mark.parametrize("session", [5, 9])
def test_session_summary_is_120_to_250_words_of_standalone_sentences(course_index, session):
    summary = summarize(course_index, session=session)
    assert_grounded_outline(summary)
    assert 120 <= words_of(summary) <= 250
    sentences = [s for _, pairs in outline(summary) for s, _ in pairs]
    standalone = {r.text for c in course_index.chunks for r in course_index.chunk_sentences(c)[0] if r.standalone}
    assert set(sentences) <= standalone
    assert not [s for s in sentences if s.startswith(("This ", "Use "))]  # "This is from some other paper ..."


def test_session_9_has_a_bullet_per_topic_and_names_its_title_once(course_index):
    summary = summarize(course_index, session=9)
    sections = {c.section for c in course_index.chunks if c.doc_id == "session-09-dawn-of-transformers-part-i"}
    assert 6 <= len(outline(summary)) <= len(sections)
    assert "Self-attention" in [h for h, _ in outline(summary)]
    title = course_index.documents["session-09-dawn-of-transformers-part-i"].title
    assert text_with_sources(summary.text, summary.citations).count(title) == 1


def test_session_with_two_documents_draws_from_both(course_index):
    ids = {d.doc_id for d in course_index.documents.values() if d.metadata.get("session") == 10}
    summary = summarize(course_index, session=10, words=300)
    assert_grounded_outline(summary)
    assert {c.doc_id for c in summary.citations} == ids


def test_topic_summary_gathers_the_topic_across_documents(course_index):
    summary = summarize(course_index, topic="dropout")
    assert_grounded_outline(summary)
    assert len({c.doc_id for c in summary.citations}) >= 2
    assert all("dropout" in " ".join(s for s, _ in pairs).lower() or "regulari" in " ".join(
        s for s, _ in pairs).lower() for _, pairs in outline(summary))


def test_given_text_summary(course_index):
    text = ("Dropout randomly zeroes activations during training. It reduces overfitting by preventing "
            "co-adaptation of neurons. At test time all neurons are used and outputs are scaled. "
            "Batch normalization normalizes activations per mini-batch. It allows higher learning rates.")
    summary = summarize(course_index, text=text, words=20)
    assert_grounded_outline(summary)
    assert summary.citations[0].doc_id == "text"


def test_the_rules_behind_bullets():
    assert has_glued_heading("Self attention the self-attention mechanism is an integral component.")
    assert has_glued_heading("L1 & l2 regularization l1 regularization adds an l1 penalty.")
    assert not has_glued_heading("Batch normalization calculates its statistics over each mini batch.")
    assert is_aside("So, crudely, every channel in a CNN is an embedding.")
    assert is_aside("We divide our images into 16x16x3 blocks.")
    assert not is_aside("Embeddings are high-dimensional data represented in low dimensions.")


def test_imperatives_are_told_from_statements(course_index):
    notes = notes_words(course_index)
    assert is_imperative("Use Adam as an optimizer.", notes)
    assert not is_imperative("Dropout is a regularization technique.", notes)
    assert notes.is_noun_phrase(("query",)) and not notes.is_noun_phrase(("confusing",))


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
