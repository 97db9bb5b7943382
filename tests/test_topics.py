"""Topic sub-sections inside long heading-less sections (retrieval/topics.py), on the shipped course sessions."""

from __future__ import annotations

from pathlib import Path

from coursemate.retrieval.ingest import load_corpus
from coursemate.retrieval.topics import LONG_SECTION_CHARS, MIN_TOPIC_CHARS, topic_sections
from coursemate.retrieval.types import Section

NOTES = Path(__file__).resolve().parent.parent / "data" / "notes"


def test_a_long_session_is_split_into_titled_topics_that_cover_it():
    (session,), _ = load_corpus([NOTES / "session-05-batch-normalization-regularization.md"], topics=False)
    (whole,) = session.sections
    parts = topic_sections(session.text, whole)
    assert len(parts) >= 3
    assert parts[0].start == whole.start and parts[-1].end == whole.end
    assert all(a.end <= b.start and session.text[a.end:b.start].strip() == "" for a, b in zip(parts, parts[1:]))
    assert all(p.end - p.start >= MIN_TOPIC_CHARS for p in parts)
    assert parts[0].title == whole.title
    assert all(p.title.startswith(whole.title + " > ") and len(p.title) > len(whole.title) + 3 for p in parts[1:])
    assert any("normalization" in p.title or "covariate" in p.title for p in parts[1:])


def test_short_sections_and_sections_of_few_lines_stay_whole():
    text = "A short note about dropout.\n" * 20
    assert topic_sections(text, Section("Dropout", 0, len(text))) == [Section("Dropout", 0, len(text))]
    one_line = "word " * (LONG_SECTION_CHARS // 4)
    assert topic_sections(one_line, Section("", 0, len(one_line))) == [Section("", 0, len(one_line))]


def test_sessions_get_topics_and_headed_notes_keep_their_headings():
    documents, _ = load_corpus([NOTES])
    by_id = {d.doc_id: d for d in documents}
    assert len(by_id["session-07-advanced-training-concepts"].sections) >= 5
    (plain,), _ = load_corpus([NOTES / "post-lstm-one-pager.md"], topics=False)
    assert [s.title for s in by_id["post-lstm-one-pager"].sections] == [s.title for s in plain.sections]
