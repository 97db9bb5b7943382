"""The Gradio app: a status line and the Chat, Training, Search, Notes and Study tabs, the Instructor tab for admins;
the /v1 API beside it."""

from __future__ import annotations

import os

import gradio as gr

from coursemate.tools.grounding.render import OPEN_SOURCE_JS
from coursemate.ui.api import api_routes
from coursemate.ui.chat import build_chat_tab
from coursemate.ui.gradio_api import register_api
from coursemate.ui.instructor import build_instructor_tab
from coursemate.ui.limits import BodyLimit, max_request_bytes
from coursemate.ui.login import ClientAddress, LoginGuard
from coursemate.ui.notes import build_notes_tab
from coursemate.ui.search import build_search_tab
from coursemate.ui.services import Services
from coursemate.ui.sessions import keep_releasing_idle_sessions
from coursemate.ui.status import index_status, llm_status
from coursemate.ui.study import build_study_tab
from coursemate.ui.training import build_training_tab

TITLE = "coursemate"
CSS = """
.gradio-container { max-width: 1400px !important; }
#status-line { font-size: 0.9em; }
#status-line p { margin: 0; }
.dot.up { color: #16a34a; }
.dot.down { color: #dc2626; }
.hint { font-size: 0.85em; opacity: 0.8; }
a.cite { font-weight: 600; text-decoration: none; padding: 0 1px; border-radius: 3px;
         background: var(--color-accent-soft); color: var(--color-accent); cursor: pointer; }
.did-you-mean { font-size: 0.9em; margin-bottom: 0.4em; opacity: 0.85; }
.notice { font-size: 0.9em; margin-top: 0.4em; padding: 4px 8px; border-radius: 4px;
          background: var(--color-accent-soft); }
.unsupported { text-decoration: underline wavy #dc2626; text-underline-offset: 3px; }
.unsupported-tag { font-size: 0.75em; color: #dc2626; font-weight: 600; margin-left: 2px; }
.notes-say { margin-top: 0.5em; padding: 4px 8px; border-left: 3px solid var(--color-accent); }
.answered-by { font-size: 0.75em; opacity: 0.6; margin-top: 0.4em; }
#sources-panel { max-height: 640px; overflow-y: auto; }
.sources-empty { opacity: 0.7; font-size: 0.9em; }
.sources-heading { font-weight: 600; font-size: 0.9em; margin: 10px 0 4px; opacity: 0.8; }
details.source { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 6px 10px; margin: 6px 0;
                 background: var(--background-fill-secondary); }
details.source summary { cursor: pointer; font-weight: 600; }
details.source.highlight { border-color: var(--color-accent); box-shadow: 0 0 0 2px var(--color-accent-soft); }
.source-n { color: var(--color-accent); }
.source-meta { font-size: 0.8em; opacity: 0.75; margin: 4px 0; }
.source-text { white-space: pre-wrap; font-size: 0.88em; line-height: 1.45; max-height: 320px; overflow-y: auto; }
.summary-text { line-height: 1.55; margin-bottom: 8px; }
.study-boxes { display: flex; gap: 6px; }
.study-box { flex: 1; text-align: center; padding: 6px; border-radius: 6px;
             background: var(--background-fill-secondary); }
.study-count { font-size: 1.4em; font-weight: 600; color: var(--color-accent); }
.study-meta { font-size: 0.8em; opacity: 0.7; margin-bottom: 6px; }
.study-text { font-size: 1.15em; line-height: 1.5; }
.study-answer { margin: 8px 0; font-size: 1.05em; }
"""
# Gradio's queue, tuned for a class at once. By default it summarizes its last 10,000 events with pandas after every
# event (for its /monitoring page, which is off here): never, and it keeps one event's record. It sends every waiting
# request its place in the queue whenever another one starts (with 60 waiting, 60 messages per answer): once a second.
GRADIO_QUEUE_ENVIRONMENT = {"GRADIO_ANALYTICS_CACHE_FREQUENCY": str(10**12), "GRADIO_ANALYTICS_MAX_EVENTS": "1"}
QUEUE_STATUS_SECONDS = 1.0
QUEUE_CONCURRENCY = 2  # requests of one kind (an event of the page) answered at once
# System fonts only: the app works offline, with no request to a font host.
THEME = gr.themes.Soft(font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
                       font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])


def build_app(services: Services) -> gr.Blocks:
    """The whole UI over ``services`` (one instance serves every browser session)."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        with gr.Row(equal_height=True):
            gr.Markdown("## coursemate · your deep learning course assistant", elem_id="app-title")
        with gr.Row(equal_height=True):
            status = gr.Markdown("checking the language model…", elem_id="status-line")
            index_line = gr.Markdown(index_status(services.index), elem_id="index-line")
            refresh = gr.Button("Check model", size="sm", scale=0, min_width=120, elem_id="status-refresh")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                build_chat_tab(services, app)
            with gr.Tab("Training", id="training"):
                build_training_tab(services)
            with gr.Tab("Search", id="search"):
                build_search_tab(services)
            with gr.Tab("Notes", id="notes"):
                notes_admin = build_notes_tab(services, index_line)
            with gr.Tab("Study", id="study") as study_tab:
                build_study_tab(services, study_tab)
            with gr.Tab("Instructor", id="instructor", visible=False) as instructor_tab:
                build_instructor_tab(services)
        app.load(lambda: llm_status(services.settings), None, status, api_name=False, show_progress="hidden")

        def admin_views(request: gr.Request):
            """What only admins see (the notes' add and remove controls, the Instructor tab), shown once the page
            knows its user."""
            return (gr.update(visible=services.is_admin(request.username)),) * 2

        app.load(admin_views, None, [notes_admin, instructor_tab], api_name=False, show_progress="hidden")
        app.load(lambda: index_status(services.index), None, index_line, api_name=False, show_progress="hidden")
        refresh.click(lambda: llm_status(services.settings), None, status, api_name=False)
        register_api(services)
    return app


def launch(services: Services, host: str, port: int, share: bool = False,
           auth: list[tuple[str, str]] | None = None, block: bool = True) -> gr.Blocks:
    """Serve the app on ``host:port`` (no public share link unless ``share``), with the OpenAI-compatible API under
    ``/v1`` (:mod:`ui.api`); ``auth``: the (user, password) pairs allowed in, each user owning the training runs it
    starts (the API then wants a user's bearer token), failed logins slowed down (:mod:`ui.login`). Uploads are
    limited to ``max_file_size`` bytes, the bodies of Gradio's other requests to what a chat request may need
    (:mod:`ui.limits`; the /v1 API bounds its own). The state of a session unused for ``session_idle_seconds`` is
    dropped (:mod:`ui.sessions`)."""
    from fastapi.middleware import Middleware

    guard = LoginGuard(auth).check if auth else None
    app = build_app(services)
    for name, value in GRADIO_QUEUE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    app.queue(status_update_rate=QUEUE_STATUS_SECONDS, default_concurrency_limit=QUEUE_CONCURRENCY)
    # The API's routes go first in Gradio's own FastAPI app (its constructor's ``routes``), before Gradio's.
    routes = api_routes(services, require_token=bool(auth))
    app.launch(server_name=host, server_port=port, share=share, auth=guard, theme=THEME, css=CSS,
               head=OPEN_SOURCE_JS, footer_links=[], run_history=False, prevent_thread_lock=True, quiet=False,
               max_file_size=services.settings.max_file_size, enable_monitoring=False,
               app_kwargs={"routes": routes, "middleware": [
                   Middleware(ClientAddress), Middleware(BodyLimit, max_bytes=max_request_bytes(services.settings))]})
    keep_releasing_idle_sessions(app, services.settings.session_idle_seconds)
    if block:
        app.block_thread()
    return app
