"""A web session's server state is dropped once nobody uses it, so that a class's memory stays flat (issue 22).

A real app on loopback (extractive answers from five notes) with ``session_idle_seconds`` of a few seconds. A
student chats through gradio_client: the session in use is kept, the unused one is dropped by the app's own
thread, nothing of the conversation is lost and the student can go on chatting. A page open in real Chromium keeps
its session however long it sits idle (its timer polls), and its session is dropped once it is closed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
from gradio_client import Client

from test_ui_browser import free_port, open_page, open_tab, wait_for

pytestmark = pytest.mark.slow

IDLE_SECONDS = 3.0
QUESTION = "What do the gates of an LSTM do?"


@contextlib.contextmanager
def serve(index, home) -> Iterator[tuple[str, object, object]]:
    """The real UI on a free loopback port with a short ``session_idle_seconds``: ``(url, app, services)``."""
    from coursemate.ui.app import launch
    from coursemate.ui.services import Services

    settings = index.settings.replace(llm="extractive", home=home, runs_dir=home / "runs",
                                      session_idle_seconds=IDLE_SECONDS)
    services = Services(settings, index)
    port = free_port()
    app = launch(services, "127.0.0.1", port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", app, services
    finally:
        app.close()


def test_an_unused_session_is_released_and_its_conversation_kept(small_notes_index, tmp_path):
    from coursemate.ui.sessions import release_idle_sessions

    with serve(small_notes_index, tmp_path) as (url, app, services):
        student = Client(url, verbose=False)
        assert 'class="cite"' in str(student.predict(QUESTION, [], api_name="/chat")[1][-1])
        holder, session = app.state_holder, student.session_hash
        assert session in holder.session_data
        assert release_idle_sessions(app, 3600) == 0 and session in holder.session_data  # just used: kept

        deadline = time.monotonic() + 10 * IDLE_SECONDS
        while session in holder.session_data and time.monotonic() < deadline:
            time.sleep(0.2)
        assert session not in holder.session_data and session not in holder.time_last_used

        conversations = services.assistant().conversations
        (first,) = conversations.ids()
        assert [t.question for t in conversations.get(first).turns] == [QUESTION]  # nothing lost
        assert 'class="cite"' in str(student.predict(QUESTION, [], api_name="/chat")[1][-1])  # a fresh state
        assert session in holder.session_data and len(conversations.ids()) == 2
        student.close()


def answers(page) -> int:
    return page.locator("#chatbot .answered-by").count()


@pytest.mark.browser
def test_an_open_page_keeps_its_session_and_a_closed_one_is_released(browser, small_notes_index, tmp_path):
    with serve(small_notes_index, tmp_path) as (url, app, services):
        page = open_page(browser, url)
        page.fill("#chat-input textarea", QUESTION)
        page.keyboard.press("Enter")
        wait_for(lambda: answers(page) == 1, 60, "the first answer")
        open_tab(page, "Study")
        time.sleep(4 * IDLE_SECONDS)  # the page sits idle on another tab: its timer keeps the session in use
        (session,) = app.state_holder.session_data
        open_tab(page, "Chat")
        page.fill("#chat-input textarea", "and why?")
        page.keyboard.press("Enter")
        wait_for(lambda: answers(page) == 2, 60, "the follow-up's answer")
        (conversation,) = services.assistant().conversations.ids()  # the follow-up went on in the same one
        assert [t.question for t in services.assistant().conversations.get(conversation).turns] == [QUESTION,
                                                                                                    "and why?"]
        assert list(app.state_holder.session_data) == [session]
        page.context.close()
        wait_for(lambda: not app.state_holder.session_data, 10 * IDLE_SECONDS, "the closed page's session released")
