"""How handlers report bad requests: a clear message in the page, never a stack trace, never a dead app."""

from __future__ import annotations

import logging

import gradio as gr

from coursemate.errors import CoursemateError

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str:
    """The sentence to show for ``exc``: its own message for user errors, a short summary otherwise."""
    if isinstance(exc, CoursemateError):
        return str(exc)
    log.exception("unexpected error in a UI handler")
    return f"something went wrong ({type(exc).__name__}: {exc}); the app is still running, please try again"


def warn(exc: BaseException) -> None:
    """Show ``exc`` as a warning toast in the page (the handler then returns its unchanged outputs)."""
    gr.Warning(user_message(exc))
