"""The instructor's views of the question log: topics from the notes' own sections, what the notes could not answer
(most asked first), the most cited passages, the CSV export, the period and who may read it (a real SQLite state
store under a temporary home)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from coursemate.config import Settings
from coursemate.state import CitedSource, StateStore, open_state
from coursemate.tools.question_log import (
    NOT_IN_NOTES,
    missing_questions,
    most_cited,
    questions_by_topic,
    questions_csv,
    topic_of,
)

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
GATES = CitedSource("post-lstm-one-pager#1", "post-lstm-one-pager", "LSTM One Pager", "LSTM / GRU")
FORGET = CitedSource("post-lstm-one-pager#2", "post-lstm-one-pager", "LSTM One Pager", "Forget gate")
RELU = CitedSource("post-what-is-relu#0", "post-what-is-relu", "What is RELU", "")
# (days before NOW, user, question, outcome, coverage, cited passages)
SESSION = [
    (0, "ann", "What do the LSTM gates do?", "extractive", 3.2, [GATES, FORGET]),
    (0, "bob", "what do the lstm gates do", "extractive", 2.9, [GATES]),
    (0, "ann", "What is a quantum annealer?", "not_in_notes", -2.5, []),
    (1, "bob", "what is a  Quantum annealer?", "not_in_notes", -2.1, []),
    (1, "cat", "What is a capsule network?", "not_in_notes", -1.0, []),
    (1, "cat", "Is ReLU linear?", "extractive", 0.4, [RELU]),  # covered, but barely: low coverage
    (2, "ann", "train mnist_cnn on digits", "tool", None, []),  # a request a tool answered
    (20, "dan", "What does the forget gate do?", "extractive", 4.0, [FORGET]),  # outside the last 7 days
]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.load(home=tmp_path, ui_admins=["teacher"])


@pytest.fixture
def store(settings) -> StateStore:
    store = open_state(settings)
    for days, user, question, outcome, coverage, sources in SESSION:
        store.log_question(user, f"conversation-{user}", question, outcome, coverage, sources, 1000,
                           asked_at=(NOW - timedelta(days=days)).timestamp())
    return store


def week(store: StateStore, with_users: bool = False):
    return store.logged_questions(since=NOW - timedelta(days=7), with_users=with_users)


def test_questions_are_grouped_by_the_sections_they_cited(store):
    topics = {t.topic: (t.questions, t.not_in_notes) for t in questions_by_topic(week(store))}
    assert topics == {"LSTM One Pager > LSTM / GRU": (2, 0), NOT_IN_NOTES: (3, 3), "What is RELU": (1, 0)}
    assert [t.topic for t in questions_by_topic(week(store))][0] == NOT_IN_NOTES  # most asked first
    gates = next(q for q in week(store) if q.question == "What do the LSTM gates do?")
    assert topic_of(gates) == "LSTM One Pager > LSTM / GRU"


def test_what_the_notes_miss_comes_most_asked_first_without_names(store):
    missing = missing_questions(week(store))
    assert [(m.question, m.asked, m.why) for m in missing] == [
        ("What is a quantum annealer?", 2, NOT_IN_NOTES),  # its latest wording
        ("What is a capsule network?", 1, NOT_IN_NOTES),
        ("Is ReLU linear?", 1, "low coverage"),
    ]
    assert missing[0].coverage == -2.5 and all(m.users == () for m in missing)
    assert [m.users for m in missing_questions(week(store, with_users=True), with_users=True)][0] == ("ann", "bob")


def test_the_most_cited_passages_and_the_period(store):
    assert [(c.chunk_id, c.citations) for c in most_cited(week(store))] == [
        ("post-lstm-one-pager#1", 2), ("post-lstm-one-pager#2", 1), ("post-what-is-relu#0", 1)]
    everything = store.logged_questions()
    assert [(c.chunk_id, c.citations) for c in most_cited(everything, top=2)] == [  # the forget gate 20 days ago
        ("post-lstm-one-pager#1", 2), ("post-lstm-one-pager#2", 2)]


def test_the_csv_names_users_only_when_asked(store):
    rows = {r["question"]: r for r in csv.DictReader(io.StringIO(questions_csv(week(store))))}
    assert len(rows) == 7 and all("user" not in r for r in rows.values())
    annealer = rows["What is a quantum annealer?"]
    assert (annealer["topic"], annealer["outcome"], annealer["coverage"]) == (NOT_IN_NOTES, "not_in_notes", "-2.500")
    assert annealer["asked_at"] == "2026-12-04T12:00:00+00:00"
    assert rows["What do the LSTM gates do?"]["cited"] == "post-lstm-one-pager#1 post-lstm-one-pager#2"
    named = list(csv.DictReader(io.StringIO(questions_csv(week(store, with_users=True), with_users=True))))
    assert {r["user"] for r in named} == {"ann", "bob", "cat"}


def test_the_instructor_tables_are_for_admins_only(settings, store):
    from coursemate.ui.instructor import instructor_tables
    from coursemate.ui.services import NotAllowed, Services

    services = Services(settings, index=None)  # the tables read the home's store, not the index
    topics, missing, cited, per_day = instructor_tables(services, "teacher", "last 7 days", now=NOW)
    assert list(missing["question"])[:2] == ["What is a quantum annealer?", "What is a capsule network?"]
    assert "users" not in missing.columns
    assert dict(zip(per_day["day"], per_day["requests"])) == {"2026-12-02": 1, "2026-12-03": 3, "2026-12-04": 3}
    with pytest.raises(NotAllowed):
        instructor_tables(services, "student", "last 7 days", now=NOW)
