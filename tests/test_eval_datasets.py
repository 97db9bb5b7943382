"""The shipped evaluation datasets against the real notes and the real chunker (fast: no embedding, no index)."""

from collections import Counter

import pytest

from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.eval.check_datasets import (
    FOLLOW_UPS,
    OUT_OF_SCOPE,
    course_problems,
    follow_up_problems,
    notes,
    out_of_scope_problems,
)
from coursemate.eval.datasets import COURSE_QUESTIONS, SPLITS, load_course_questions
from coursemate.io import read_jsonl


@pytest.fixture(scope="module")
def documents():
    return notes(Settings.load())


@pytest.fixture(scope="module")
def course():
    return read_jsonl(COURSE_QUESTIONS)


def test_every_evidence_passage_lies_inside_one_chunk_of_its_document(documents, course):
    settings = Settings.load()
    assert course_problems(course, documents, settings.chunk_size, settings.chunk_overlap) == []


def test_the_checker_reports_missing_and_straddling_evidence(documents):
    doc = next(d for d in documents if d.doc_id == "session-05-batch-normalization-regularization")
    long_passage = " ".join(doc.text.split()[40:80])
    rows = [{"id": "x1", "doc_id": doc.doc_id, "evidence": ["dropout was invented on the moon"], "split": "dev"},
            {"id": "x2", "doc_id": doc.doc_id, "evidence": [long_passage], "split": "test"},
            {"id": "x3", "doc_id": "no-such-note", "evidence": ["anything"], "split": "train"}]
    problems = course_problems(rows, documents, chunk_size=100, chunk_overlap=0)
    assert [p.split(":")[0] for p in problems] == ["x3", "x1", "x2", "x3"]
    assert "straddles two chunks" in problems[2]


def test_course_split_is_stratified_by_document(documents, course):
    answerable = [r for r in course if not r["out_of_scope"]]
    per_doc = {d.doc_id: Counter() for d in documents}
    for row in answerable:
        per_doc[row["doc_id"]][row["split"]] += 1
    assert all(sum(c.values()) >= 2 for c in per_doc.values())  # every note has questions
    assert [doc for doc, c in per_doc.items() if set(c) != set(SPLITS)] == []
    splits = Counter(r["split"] for r in answerable)
    assert abs(splits["dev"] - splits["test"]) <= 0.1 * len(answerable)
    assert {r["split"] for r in course if r["out_of_scope"]} == set(SPLITS)


def test_the_new_questions_cover_every_note_with_many_from_the_sessions(documents, course):
    new = [r for r in course if r["id"].startswith("q") and int(r["id"][1:]) > 200]  # written for issue 10
    assert len(new) >= 90
    assert {r["doc_id"] for r in new} == {d.doc_id for d in documents}
    assert sum(r["doc_id"].startswith("session-") for r in new) >= 0.45 * len(new)
    assert all(5 <= len(e.split()) <= 12 for r in new for e in r["evidence"])
    assert all(r["misspelled"] != r["question"] for r in new)


def test_loading_one_split(course):
    dev = load_course_questions(COURSE_QUESTIONS, "dev")
    test = load_course_questions(COURSE_QUESTIONS, "test")
    assert {q.split for q in dev.queries} == {"dev"} and {q.split for q in test.queries} == {"test"}
    assert len(dev.queries) + len(test.queries) == len(course)
    with pytest.raises(CoursemateError, match="split 'train'"):
        load_course_questions(COURSE_QUESTIONS, "train")


def test_out_of_scope_terms_do_not_occur_in_the_notes(documents):
    rows = read_jsonl(OUT_OF_SCOPE)
    assert out_of_scope_problems(rows, documents) == []
    kinds = Counter((r["kind"], r["split"]) for r in rows)
    assert sum(n for (kind, _), n in kinds.items() if kind == "near") >= 30
    assert sum(n for (kind, _), n in kinds.items() if kind == "off") >= 20
    assert all(kinds[(kind, split)] >= 5 for kind in ("near", "off") for split in SPLITS)
    leaked = [{"id": "bad", "kind": "near", "absent": "back-?propagation", "split": "dev"}]
    assert "occurs in" in out_of_scope_problems(leaked, documents)[0]


def test_follow_ups_and_standalone_questions_in_both_splits(documents):
    rows = read_jsonl(FOLLOW_UPS)
    assert follow_up_problems(rows, documents) == []
    kinds = Counter(r["follow_up"] for r in rows)
    assert kinds[True] >= 20 and kinds[False] >= 20
    assert {(r["follow_up"], r["split"]) for r in rows} == {(f, s) for f in (True, False) for s in SPLITS}
