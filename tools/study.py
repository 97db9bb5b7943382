"""Spaced repetition with Leitner boxes, kept per user in the home's state store (:mod:`coursemate.state`).

A question starts in box 1. A right answer moves it up one box (at most :data:`BOXES`), a wrong one back to box 1.
Box ``b`` comes back after ``INTERVALS[b]`` reviews, so the questions a student gets wrong are asked most often.
Each review is one transaction of the store. Boxes an earlier version kept in ``COURSEMATE_HOME/study/USER.json``
are imported on first use (the file is left as it was).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.state import open_state
from coursemate.tools.grounding.render import source_text
from coursemate.tools.quiz import QuizItem

BOXES = 5
INTERVALS = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}  # reviews until a question of each box is due again
MASTERED_BOX = 4  # a question this high up is counted as learned
_SAFE_USER = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass
class Card:
    """What a user's boxes remember of one question."""

    item_id: str
    box: int
    right: int
    wrong: int
    last_review: int  # the user's review counter when it was last answered
    session: str  # the course session of its document ("" for notes outside the sessions)
    doc_id: str
    question: str


def legacy_user_file(settings: Settings, user: str) -> Path:
    """Where an earlier version kept the boxes of ``user`` (a name that is not a plain file name was hashed)."""
    name = user if _SAFE_USER.fullmatch(user) and not user.startswith(".") else \
        "u-" + hashlib.sha1(user.encode("utf-8")).hexdigest()[:20]
    return settings.home / "study" / f"{name}.json"


class StudyBoxes:
    """One user's Leitner boxes, read from and written to the home's state store."""

    def __init__(self, settings: Settings, user: str) -> None:
        if not user or not user.strip():
            raise CoursemateError("the study user is empty")
        self.user = user
        self._state = open_state(settings)
        self._import_legacy_file(legacy_user_file(settings, user))

    def _import_legacy_file(self, path: Path) -> None:
        if not path.is_file() or self._state.study_state(self.user) is not None:
            return
        try:
            legacy = json.loads(path.read_text(encoding="utf-8"))
            reviews, cards = int(legacy["reviews"]), {i: asdict(Card(**c)) for i, c in legacy["cards"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CoursemateError(f"the study file {path} cannot be read ({exc}); move it away to start over") \
                from None
        self._state.import_study(self.user, reviews, cards)

    def _stored(self) -> tuple[int, dict[str, Card]]:
        reviews, cards = self._state.study_state(self.user) or (0, {})
        return reviews, {i: Card(**c) for i, c in cards.items()}

    def cards(self) -> dict[str, Card]:
        """Every question this user has answered, by id."""
        return self._stored()[1]

    def reviews(self) -> int:
        """How many answers this user has given."""
        return self._stored()[0]

    def record(self, item: QuizItem, correct: bool, session: str = "") -> Card:
        """Move ``item`` up a box (``correct``) or back to box 1, in one transaction of the store."""

        def update(known: dict[str, Any] | None, reviews: int) -> dict[str, Any]:
            card = Card(**known) if known else Card(item.item_id, 1, 0, 0, 0, str(session), item.citation.doc_id,
                                                    item.question)
            card.box = min(card.box + 1, BOXES) if correct else 1
            card.right += int(correct)
            card.wrong += int(not correct)
            card.last_review = reviews
            return asdict(card)

        return Card(**self._state.record_study(self.user, item.item_id, update))

    def next_item(self, items: list[QuizItem]) -> QuizItem | None:
        """The question of ``items`` to practise now: one never answered, else the most overdue one
        (lowest box first), else the one answered longest ago."""
        if not items:
            return None
        now, cards = self._stored()

        def urgency(item: QuizItem) -> tuple:
            card = cards.get(item.item_id)
            if card is None:
                return (0, 0, 0)
            overdue = now - card.last_review - INTERVALS[card.box]
            return (1 if overdue >= 0 else 2, card.box if overdue >= 0 else -overdue, card.last_review)

        return min(items, key=urgency)

    def box_counts(self, items: list[QuizItem] | None = None) -> dict[int, int]:
        """How many questions sit in each box (of ``items`` only, when given; unseen ones are not counted)."""
        cards = self.cards()
        ids = {i.item_id for i in items} if items is not None else set(cards)
        counts = {box: 0 for box in range(1, BOXES + 1)}
        for item_id in ids & set(cards):
            counts[cards[item_id].box] += 1
        return counts

    def progress(self) -> list[dict[str, Any]]:
        """Per course session: questions answered, right and wrong answers, questions learned, mean box."""
        rows: dict[str, dict[str, Any]] = {}
        for card in self.cards().values():
            row = rows.setdefault(card.session or "other notes", {"session": card.session or "other notes",
                                                                  "questions": 0, "right": 0, "wrong": 0,
                                                                  "learned": 0, "boxes": 0})
            row["questions"] += 1
            row["right"] += card.right
            row["wrong"] += card.wrong
            row["learned"] += int(card.box >= MASTERED_BOX)
            row["boxes"] += card.box
        for row in rows.values():
            row["mean box"] = round(row.pop("boxes") / row["questions"], 2)
        return sorted(rows.values(), key=lambda r: (not r["session"].isdigit(), int(r["session"] or 0)
                                                    if r["session"].isdigit() else 0))


def export_anki(items: list[QuizItem], path: Path | str, deck_name: str = "coursemate") -> Path:
    """Write ``items`` as an Anki deck (``.apkg``, via genanki) to ``path`` atomically: one note per question,
    its answer key on the back with the source passage it comes from."""
    import genanki

    from coursemate.io import atomic_write_with

    path = Path(path)
    if path.suffix != ".apkg":
        raise CoursemateError(f"an Anki deck file ends in .apkg; got {path.name}")
    if not items:
        raise CoursemateError("no questions to export")
    model = genanki.Model(
        _anki_id("coursemate quiz model"), "coursemate quiz",
        fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Choices"}, {"name": "Source"}],
        templates=[{"name": "Card 1", "qfmt": "{{Question}}<br><br>{{Choices}}",
                    "afmt": "{{FrontSide}}<hr id=answer><b>{{Answer}}</b><br><br><small>{{Source}}</small>"}],
    )
    deck = genanki.Deck(_anki_id(f"coursemate deck {deck_name}"), deck_name)
    for item in items:
        c = item.citation
        source = html.escape(f"{source_text(c)}: {c.text}")
        choices = "<br>".join(f"{chr(65 + i)}. {html.escape(x)}" for i, x in enumerate(item.choices))
        deck.add_note(genanki.Note(model=model, guid=item.item_id, tags=[item.kind, c.doc_id],
                                   fields=[html.escape(item.question), html.escape(item.answer), choices, source]))
    atomic_write_with(path, lambda tmp: genanki.Package(deck).write_to_file(str(tmp)))
    return path


def _anki_id(name: str) -> int:
    """A stable 31-bit id for an Anki model or deck (the same name, the same id: re-imports update the deck)."""
    return int(hashlib.sha1(name.encode("utf-8")).hexdigest()[:7], 16) + (1 << 30)
