"""The home's state store: the instructor's question log (typed, bounded, user names only when asked), study
boxes of an earlier version imported, a write that fails leaves nothing half done, and a clear error for an
unusable file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from coursemate.errors import CoursemateError
from coursemate.state import CitedSource, StateStore

SOURCE = CitedSource("post-what-is-relu-0003", "post-what-is-relu", "What is ReLU", "Leaky ReLU")
DAY = 86_400.0


def test_the_question_log_is_typed_bounded_and_hides_user_names_unless_asked(tmp_path):
    state = StateStore(tmp_path / "state.sqlite3")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc).timestamp()
    state.log_question("ana", "c1", "What is leaky ReLU?", "extractive", 0.42, [SOURCE], max_logged=4,
                       asked_at=start)
    state.log_question("bo", "c2", "What is LoRA?", "not_in_notes", -0.3, [], max_logged=4, asked_at=start + 60)
    state.log_question("ana", "c1", "summarize session 3", "tool", None, [], max_logged=4, asked_at=start + DAY)

    logged = StateStore(tmp_path / "state.sqlite3").logged_questions()  # read back through another connection
    assert [q.question for q in logged] == ["What is leaky ReLU?", "What is LoRA?", "summarize session 3"]
    first = logged[0]
    assert (first.outcome, first.coverage, first.cited_sources, first.user) == ("extractive", 0.42, (SOURCE,), None)
    assert first.asked_at == datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    assert [q.user for q in state.logged_questions(with_users=True)] == ["ana", "bo", "ana"]

    second_day = datetime(2026, 3, 3, tzinfo=timezone.utc)
    assert [q.question for q in state.logged_questions(until=second_day)] == ["What is leaky ReLU?", "What is LoRA?"]
    assert [q.outcome for q in state.logged_questions(since=second_day)] == ["tool"]
    assert state.questions_per_day() == {"2026-03-02": 2, "2026-03-03": 1}

    for n in range(3):  # only the newest four are kept
        state.log_question(None, "c3", f"question {n}", "extractive", 0.1, [], max_logged=4,
                           asked_at=start + 2 * DAY + n)
    assert [q.question for q in state.logged_questions()] == ["summarize session 3", "question 0", "question 1",
                                                              "question 2"]
    assert state.questions_per_day(since=second_day, until=second_day + timedelta(days=1)) == {"2026-03-03": 1}


def test_the_chat_logs_every_answer_with_its_coverage_and_sources(course_settings, course_index, tmp_path):
    from coursemate.ui.chat import log_answer
    from coursemate.ui.services import Services

    services = Services(course_settings.replace(home=tmp_path, index_dir=course_settings.index_dir,
                                                llm="extractive"), course_index)
    assistant = services.assistant()
    for question in ("What do the gates of an LSTM do?", "What is LoRA fine-tuning?", "summarize session 3"):
        log_answer(services, "ana", assistant.ask(question, conversation_id="c1", user="ana"))
    covered, uncovered, routed = services.state.logged_questions(with_users=True)
    assert covered.outcome == "extractive" and covered.coverage is not None and covered.cited_sources
    assert all(s.chunk_id.startswith(s.doc_id) for s in covered.cited_sources)
    assert uncovered.outcome == "not_in_notes" and uncovered.coverage is not None and not uncovered.cited_sources
    assert routed.outcome == "tool" and routed.coverage is None
    assert {q.user for q in (covered, uncovered, routed)} == {"ana"}


def test_study_boxes_of_an_earlier_version_are_imported_once(tmp_path):
    from coursemate.config import Settings
    from coursemate.tools.grounding.citations import Citation
    from coursemate.tools.quiz import QuizItem
    from coursemate.tools.study import StudyBoxes, legacy_user_file

    settings = Settings.load(home=tmp_path)
    citation = Citation(1, "session-03-0002", "session-03", "Session 3", "Optimizers", "Adam adapts the step size.")
    item = QuizItem("Adam adapts the _____ size.", "step", "cloze", citation)
    legacy = legacy_user_file(settings, "ana")
    legacy.parent.mkdir(parents=True)
    card = {"item_id": item.item_id, "box": 3, "right": 2, "wrong": 0, "last_review": 2, "session": "3",
            "doc_id": item.citation.doc_id, "question": item.question}
    legacy.write_text(json.dumps({"user": "ana", "reviews": 2, "cards": {item.item_id: card}}))
    boxes = StudyBoxes(settings, "ana")
    assert boxes.reviews() == 2 and boxes.cards()[item.item_id].box == 3
    boxes.record(item, True, "3")
    assert StudyBoxes(settings, "ana").cards()[item.item_id].box == 4  # not imported over again
    legacy.write_text("{broken")
    assert StudyBoxes(settings, "ana").reviews() == 3  # the store has them: the old file is not read again
    legacy_user_file(settings, "bo").write_text("{broken")
    with pytest.raises(CoursemateError, match="cannot be read"):
        StudyBoxes(settings, "bo")


def test_a_failed_write_leaves_nothing_half_done(tmp_path):
    state = StateStore(tmp_path / "state.sqlite3")

    def update(card, reviews):
        raise RuntimeError("the update fails after the review was counted")

    with pytest.raises(RuntimeError):
        state.record_study("ana", "item-1", update)
    assert state.study_state("ana") is None  # the review count rolled back with it
    state.record_study("ana", "item-1", lambda card, reviews: {"reviews": reviews})
    assert state.study_state("ana") == (1, {"item-1": {"reviews": 1}})


def test_an_unusable_state_file_is_one_clear_error(tmp_path):
    (tmp_path / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(CoursemateError, match="state store .* cannot be opened"):
        StateStore(tmp_path / "state.sqlite3")
