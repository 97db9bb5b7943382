"""Release the server-side state of browser sessions nobody uses any more, so that memory stays flat.

Gradio keeps a ``SessionState`` for every session it has seen (a copy of each component's config and the session's
``gr.State`` values: about 1 MB in this app) until it has seen 10,000 sessions, and keeps a closed page's values for
an hour. An open page uses its session at least every ``POLL_SECONDS`` (the Chat tab's timer), so a session unused
for ``session_idle_seconds`` belongs to a page that was closed or a client that is done: it is dropped whole. Nothing
is lost: the conversation lives in the home's state store, and a reloaded page shows it again from the id its
browser kept.
"""

from __future__ import annotations

import datetime
import threading
import time

import gradio as gr

CHECKS_PER_IDLE_TIME = 10  # how often idle sessions are looked for, per session_idle_seconds
LONGEST_CHECK_SECONDS = 60.0


def release_idle_sessions(app: gr.Blocks, idle_seconds: float) -> int:
    """Drop the state of every session of the running ``app`` unused for more than ``idle_seconds`` (the delete
    callbacks of its ``gr.State`` values run, as when Gradio expires them); how many were dropped."""
    holder = app.state_holder
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=idle_seconds)
    released = 0
    for session_id, used in list(holder.time_last_used.items()):
        if used >= cutoff:
            continue
        with holder.lock:
            if holder.time_last_used.get(session_id, cutoff) >= cutoff:  # used again meanwhile
                continue
            state = holder.session_data.pop(session_id, None)
            holder.time_last_used.pop(session_id, None)
        if state is None:
            continue
        released += 1
        for component, value, _ in state.state_components:
            component.delete_callback(value)
    return released


def keep_releasing_idle_sessions(app: gr.Blocks, idle_seconds: float) -> threading.Thread:
    """Call :func:`release_idle_sessions` every ``idle_seconds / CHECKS_PER_IDLE_TIME`` seconds (at most every
    minute) on a daemon thread until the launched ``app`` is closed; the thread."""
    interval = min(idle_seconds / CHECKS_PER_IDLE_TIME, LONGEST_CHECK_SECONDS)

    def loop() -> None:
        while True:
            time.sleep(interval)
            if not app.is_running:
                return
            release_idle_sessions(app, idle_seconds)

    thread = threading.Thread(target=loop, name="coursemate-idle-sessions", daemon=True)
    thread.start()
    return thread
