"""What students asked, summarized for the instructor: pure functions over the logged questions of the state store
(:class:`coursemate.state.LoggedQuestion`), for the Instructor tab and its CSV export.

- :func:`questions_by_topic`: the questions grouped by the notes' own sections (the section of the first passage
  an answer cited; "not in the notes" when it cited none), with counts;
- :func:`missing_questions`: questions answered "not in the notes" or with low coverage, most frequent first:
  what the material is missing;
- :func:`most_cited`: the passages answers cited most;
- requests per day come from the store itself (:meth:`coursemate.state.StateStore.questions_per_day`);
- :func:`questions_csv`: every logged question, one row each (user names only when asked for).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coursemate.state import LoggedQuestion

NOT_IN_NOTES = "not in the notes"
NOT_IN_NOTES_MODE = "not_in_notes"
# Covered (coverage score from coursemate.config.Settings.coverage_min_score up) but by less than this margin of the
# score, a logit: "low coverage", worth the instructor's look.
LOW_COVERAGE_MARGIN = 1.0
ROUTED_MODES = ("tool", "confirm")  # requests a tool answered (a training run, a summary): not questions on the notes


@dataclass(frozen=True)
class TopicCount:
    """How many questions fell under one section of the notes, and how many of them the notes could not answer."""

    topic: str
    questions: int
    not_in_notes: int


@dataclass(frozen=True)
class MissingQuestion:
    """A question the notes answered poorly or not at all (grouped ignoring case and spaces; its latest wording)."""

    question: str
    asked: int
    why: str  # "not in the notes" | "low coverage"
    coverage: float | None  # the lowest score it got (None: not scored)
    users: tuple[str, ...] = ()  # only when user names were asked for


@dataclass(frozen=True)
class CitedPassage:
    """A passage of the notes and how many answers cited it."""

    chunk_id: str
    where: str
    citations: int


def course_questions(questions: Sequence[LoggedQuestion]) -> list[LoggedQuestion]:
    """The questions on the notes (requests a tool answered left out)."""
    return [q for q in questions if q.outcome not in ROUTED_MODES]


def topic_of(question: LoggedQuestion) -> str:
    """The section of the notes a question is about: its answer's first cited passage ("title > section")."""
    if not question.cited_sources:
        return NOT_IN_NOTES
    source = question.cited_sources[0]
    return " > ".join(part for part in (source.title, source.section) if part) or source.doc_id


def questions_by_topic(questions: Sequence[LoggedQuestion]) -> list[TopicCount]:
    """Each topic with its questions and how many were "not in the notes", most asked first."""
    asked = Counter(topic_of(q) for q in course_questions(questions))
    missing = Counter(topic_of(q) for q in course_questions(questions) if q.outcome == NOT_IN_NOTES_MODE)
    return [TopicCount(topic, n, missing[topic]) for topic, n in sorted(asked.items(), key=lambda kv: (-kv[1], kv[0]))]


def missing_questions(questions: Sequence[LoggedQuestion], min_score: float = 0.0,
                      with_users: bool = False) -> list[MissingQuestion]:
    """The questions answered "not in the notes" or covered by less than :data:`LOW_COVERAGE_MARGIN` above
    ``min_score``, grouped by their text, most asked first ("not in the notes" before low coverage on a tie)."""
    groups: dict[str, list[LoggedQuestion]] = {}
    for q in course_questions(questions):
        low = q.coverage is not None and q.coverage < min_score + LOW_COVERAGE_MARGIN
        if q.outcome == NOT_IN_NOTES_MODE or low:
            groups.setdefault(_normalized(q.question), []).append(q)
    found = []
    for group in groups.values():
        scores = [q.coverage for q in group if q.coverage is not None]
        why = NOT_IN_NOTES if any(q.outcome == NOT_IN_NOTES_MODE for q in group) else "low coverage"
        users = tuple(sorted({q.user for q in group if q.user})) if with_users else ()
        found.append(MissingQuestion(group[-1].question, len(group), why, min(scores) if scores else None, users))
    return sorted(found, key=lambda m: (-m.asked, m.why != NOT_IN_NOTES, m.question.lower()))


def most_cited(questions: Sequence[LoggedQuestion], top: int = 20) -> list[CitedPassage]:
    """The ``top`` passages cited by the most answers (a passage counts once per answer)."""
    counts: Counter[str] = Counter()
    where: dict[str, str] = {}
    for q in questions:
        for source in {s.chunk_id: s for s in q.cited_sources}.values():
            counts[source.chunk_id] += 1
            where[source.chunk_id] = " > ".join(p for p in (source.title, source.section) if p) or source.doc_id
    return [CitedPassage(chunk_id, where[chunk_id], n)
            for chunk_id, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]


def questions_csv(questions: Sequence[LoggedQuestion], with_users: bool = False) -> str:
    """Every logged question as CSV: when, the question, its topic, how it was answered, the coverage score and the
    passages cited (and the user only when ``with_users``)."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["asked_at", "question", "topic", "outcome", "coverage", "cited"]
    writer.writerow(header + (["user"] if with_users else []))
    for q in questions:
        row = [q.asked_at.isoformat(timespec="seconds"), q.question, topic_of(q), q.outcome,
               "" if q.coverage is None else f"{q.coverage:.3f}", " ".join(s.chunk_id for s in q.cited_sources)]
        writer.writerow(row + ([q.user or ""] if with_users else []))
    return out.getvalue()


def _normalized(question: str) -> str:
    return re.sub(r"\s+", " ", question.strip().lower()).rstrip(" ?!.")
