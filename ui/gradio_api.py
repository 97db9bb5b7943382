"""The web UI's API: one typed endpoint per UI action, for gradio_client and plain HTTP.

The tabs' own events take components whose choices change while the app runs (the runs to watch or cancel), which a
client cannot fill in; these endpoints take plain values (a run id as text) and check them server-side, ownership
included: with ``--auth`` the signed-in user acts, as in the page. A bad value is a ``gr.Error`` whose message the
client receives. The chat (``/chat``, ``/confirm_action``, ``/decline_action``, ``/new_conversation``,
``/export_conversation``) is served by the Chat tab's own events, whose state is the client's session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gradio as gr

from coursemate.config import QUIZ_KINDS, SEARCH_MODES
from coursemate.errors import CoursemateError
from coursemate.tools.quiz import QuizItem
from coursemate.tools.study import StudyBoxes
from coursemate.tools.summarize import summarize
from coursemate.tools.training import COMPARE_COLUMNS, TrainingConfig
from coursemate.ui.errors import user_message
from coursemate.ui.notes import documents_table
from coursemate.ui.search import search_table
from coursemate.ui.services import Services
from coursemate.ui.status import llm_status
from coursemate.ui.study import ALL_NOTES, quiz_for, user_of

MAX_HITS = 50
MAX_COMPARED = 20
SUMMARY_WORDS = (20, 2000)
DEFAULTS = TrainingConfig()


def _errors_to_client(fn: Callable) -> Callable:
    """``fn`` with every failure raised as a gr.Error carrying its one-line message (sent to the client)."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - the client gets the message, the app keeps serving
            raise gr.Error(user_message(exc)) from None

    return wrapped


def _text(value: Any, what: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise CoursemateError(f"{what} must be non-empty text of at most {limit} characters")
    return value.strip()


def register_api(services: Services) -> None:
    """Add the typed endpoints to the app being built (call inside its ``gr.Blocks``)."""

    def start_training(dataset: str = DEFAULTS.dataset, model: str = DEFAULTS.model, epochs: int = DEFAULTS.epochs,
                       batch_size: int = DEFAULTS.batch_size, optimizer: str = DEFAULTS.optimizer,
                       lr: float = DEFAULTS.lr, scheduler: str = DEFAULTS.scheduler, seed: int = DEFAULTS.seed,
                       augment: bool = DEFAULTS.augment, request: gr.Request = None) -> dict:
        """Start a training run as the signed-in user; returns its summary (its id in "id")."""
        from coursemate.ui.training import start_run

        form = {"dataset": dataset, "model": model, "epochs": epochs, "batch_size": batch_size,
                "optimizer": optimizer, "lr": lr, "scheduler": scheduler, "seed": seed, "augment": augment}
        return services.runs.status(start_run(services, form, _user(request))).to_dict()

    def cancel_training(run_id: str, request: gr.Request = None) -> dict:
        """Cancel a run (only its owner may); returns its summary."""
        return services.runs_for(_user(request)).cancel(_text(run_id, "run_id")).to_dict()

    def list_runs() -> list[dict]:
        """Every run's summary, oldest first (a run with damaged records has status "damaged")."""
        return [summary.to_dict() for summary in services.runs.list()]

    def run_status(run_id: str) -> dict:
        """A run's summary with its per-epoch metrics so far (under "metrics")."""
        run_id = _text(run_id, "run_id")
        return dict(services.runs.status(run_id).to_dict(), metrics=services.runs.metrics(run_id))

    def compare_runs(run_ids: list[str]) -> list[dict]:
        """The comparison columns of each run, in the order asked."""
        if not isinstance(run_ids, list) or not 0 < len(run_ids) <= MAX_COMPARED:
            raise CoursemateError(f"run_ids must be a list of 1 to {MAX_COMPARED} run ids")
        summaries = services.runs.compare([_text(r, "run_id") for r in run_ids])
        return [{c: getattr(s, c) for c in COMPARE_COLUMNS} for s in summaries]

    def search(query: str, mode: str = "hybrid", k: int = 8) -> dict:
        """The notes' passages for ``query`` ("hits"), and the corrected query when it was misspelled."""
        if mode not in SEARCH_MODES:
            raise CoursemateError(f"mode must be one of {', '.join(SEARCH_MODES)}; got {str(mode)[:40]!r}")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_HITS:
            raise CoursemateError(f"k must be an integer from 1 to {MAX_HITS}")
        table, corrected = search_table(services, query, mode, k)
        return {"hits": table.to_dict("records"), "searched_for": corrected}

    def list_notes() -> list[dict]:
        """Every document: session, title, kind, doc_id."""
        return documents_table(services).to_dict("records")

    def read_note(doc_id: str) -> dict:
        """A document's title, session, source and text."""
        doc = services.index.document(_text(doc_id, "doc_id"))
        return {"doc_id": doc.doc_id, "title": doc.title, "session": doc.metadata.get("session"),
                "source": str(doc.source), "text": doc.text}

    def summarize_note(doc_id: str, words: int = 200) -> dict:
        """An outline summary of a document with its citations."""
        low, high = SUMMARY_WORDS
        if isinstance(words, bool) or not isinstance(words, int) or not low <= words <= high:
            raise CoursemateError(f"words must be an integer from {low} to {high}")
        return summarize(services.index, doc_id=_text(doc_id, "doc_id"), words=words).to_dict()

    def study_quiz(source: str = ALL_NOTES, topic: str = "", kind: str = QUIZ_KINDS[0]) -> list[dict]:
        """Quiz questions of "all", "session:N", "doc:ID" or a topic, with their answer keys and sources."""
        if kind not in QUIZ_KINDS:
            raise CoursemateError(f"kind must be one of {', '.join(QUIZ_KINDS)}")
        topic = topic if isinstance(topic, str) else ""
        return [item.to_dict() for item in quiz_for(services, _text(source, "source"), topic[:200], kind)]

    def study_mark(item: dict, correct: bool, student: str = "", request: gr.Request = None) -> dict:
        """Record an answer to a quiz question (the signed-in user's boxes, else ``student``'s); the box counts."""
        if not isinstance(item, dict) or not isinstance(correct, bool):
            raise CoursemateError("item must be a quiz question (from /study_quiz) and correct true or false")
        try:
            answered = QuizItem.from_dict(item)
        except (KeyError, TypeError, ValueError):
            raise CoursemateError("item is not a quiz question from /study_quiz") from None
        user = user_of(request, _text(student, "student", 64) if student else None)
        boxes = StudyBoxes(services.settings, user)
        document = services.index.documents.get(answered.citation.doc_id)
        boxes.record(answered, correct, str(document.metadata.get("session", "")) if document else "")
        counts = {str(box): count for box, count in boxes.box_counts().items()}  # JSON keys are text
        return {"student": user, "boxes": counts, "reviews": boxes.reviews()}

    def model_status() -> str:
        """Which language model answers and whether it is reachable (Markdown)."""
        return llm_status(services.settings)

    for endpoint in (start_training, cancel_training, list_runs, run_status, compare_runs, search, list_notes,
                     read_note, summarize_note, study_quiz, study_mark, model_status):
        gr.api(_errors_to_client(endpoint), api_name=endpoint.__name__)


def _user(request: gr.Request | None) -> str | None:
    """The signed-in user (None without ``--auth``: the machine's owner)."""
    return getattr(request, "username", None) if request is not None else None
