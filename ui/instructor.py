"""The Instructor tab (admins only): what students asked over a chosen period, from the question log of the state
store: questions by topic (the notes' own sections), the questions the notes could not answer or covered poorly
(most asked first), the most cited passages, requests per day, and a CSV export. No user names unless the UI was
started with ``--show-users``; the server checks the admin on every call."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import gradio as gr
import pandas as pd

from coursemate.tools.question_log import (
    missing_questions,
    most_cited,
    questions_by_topic,
    questions_csv,
)
from coursemate.ui.errors import user_message
from coursemate.ui.services import NotAllowed, Services

PERIODS = {"last 24 hours": 1, "last 7 days": 7, "last 30 days": 30, "all time": None}
DEFAULT_PERIOD = "last 7 days"


def instructor_tables(services: Services, user: str | None, period: str,
                      now: datetime | None = None) -> tuple[pd.DataFrame, ...]:
    """``(topics, missing, cited, per day)`` tables of the questions logged in ``period``, as ``user`` (an admin)."""
    since = _since(services, user, period, now)
    questions = services.state.logged_questions(since=since, with_users=services.settings.ui_show_users)
    show_users = services.settings.ui_show_users
    topics = pd.DataFrame([(t.topic, t.questions, t.not_in_notes) for t in questions_by_topic(questions)],
                          columns=["topic", "asked", "not in notes"])
    missing_rows = [(m.question, m.asked, m.why, "" if m.coverage is None else round(m.coverage, 2))
                    + ((", ".join(m.users),) if show_users else ())
                    for m in missing_questions(questions, services.settings.coverage_min_score, show_users)]
    missing = pd.DataFrame(missing_rows, columns=["question", "asked", "why", "coverage"]
                           + (["users"] if show_users else []))
    cited = pd.DataFrame([(c.where, c.chunk_id, c.citations) for c in most_cited(questions)],
                         columns=["passage", "chunk", "citations"])
    per_day = pd.DataFrame(list(services.state.questions_per_day(since=since).items()), columns=["day", "requests"])
    return topics, missing, cited, per_day


def export_csv(services: Services, user: str | None, period: str, now: datetime | None = None) -> Path:
    """A CSV file of the questions logged in ``period`` (user names only with ``--show-users``)."""
    since = _since(services, user, period, now)
    questions = services.state.logged_questions(since=since, with_users=services.settings.ui_show_users)
    folder = Path(tempfile.mkdtemp(prefix="coursemate-questions-"))
    path = folder / f"questions-{period.replace(' ', '-')}.csv"
    path.write_text(questions_csv(questions, services.settings.ui_show_users), encoding="utf-8")
    return path


def _since(services: Services, user: str | None, period: str, now: datetime | None) -> datetime | None:
    """The start of ``period`` (None: all time), once ``user`` is known to be an admin."""
    services.require_admin(user, "read the questions students asked")
    days = PERIODS.get(period, PERIODS[DEFAULT_PERIOD])
    return None if days is None else (now or datetime.now(timezone.utc)) - timedelta(days=days)


def build_instructor_tab(services: Services) -> None:
    """The Instructor tab's components and events (call inside a ``gr.Tab``, shown to admins only)."""
    with gr.Row(equal_height=True):
        period = gr.Radio(list(PERIODS), value=DEFAULT_PERIOD, label="Period", scale=3, elem_id="instructor-period")
        refresh = gr.Button("Refresh", variant="primary", scale=1, elem_id="instructor-refresh")
        export = gr.DownloadButton("Export CSV", scale=1, elem_id="instructor-export")
    message = gr.Markdown(elem_id="instructor-message")
    missing = gr.Dataframe(label="Not in the notes, or covered poorly (most asked first)", interactive=False,
                           wrap=True, elem_id="instructor-missing")
    with gr.Row():
        topics = gr.Dataframe(label="Questions by topic", interactive=False, wrap=True, elem_id="instructor-topics")
        cited = gr.Dataframe(label="Most cited passages", interactive=False, wrap=True, elem_id="instructor-cited")
        per_day = gr.Dataframe(label="Requests per day", interactive=False, elem_id="instructor-per-day")

    def show(chosen: str, request: gr.Request):
        try:
            return (*instructor_tables(services, request.username, chosen), export_csv(services, request.username,
                                                                                        chosen), "")
        except NotAllowed as exc:  # a student's direct call: refused, as an error the client sees
            raise gr.Error(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line in the page
            return (gr.skip(),) * 5 + (f"⚠ {user_message(exc)}",)

    outputs = [topics, missing, cited, per_day, export, message]
    refresh.click(show, period, outputs, api_name="instructor_questions")
    period.change(show, period, outputs, api_name=False)
