"""A web session's server state is dropped once nobody uses it, so that a class's memory stays flat (issue 22).

A real app on loopback (extractive answers from five notes) with ``session_idle_seconds`` of a few seconds; a
student chats through gradio_client: the session in use is kept, the unused one is dropped by the app's own
thread, nothing of the conversation is lost and the student can go on chatting.
"""

from __future__ import annotations

import time

import pytest
from gradio_client import Client

from test_ui_browser import free_port

pytestmark = pytest.mark.slow

IDLE_SECONDS = 3.0
QUESTION = "What do the gates of an LSTM do?"


def test_an_unused_session_is_released_and_its_conversation_kept(small_notes_index, tmp_path):
    from coursemate.ui.app import launch
    from coursemate.ui.services import Services
    from coursemate.ui.sessions import release_idle_sessions

    settings = small_notes_index.settings.replace(llm="extractive", home=tmp_path, runs_dir=tmp_path / "runs",
                                                  session_idle_seconds=IDLE_SECONDS)
    services = Services(settings, small_notes_index)
    port = free_port()
    app = launch(services, "127.0.0.1", port, block=False)
    try:
        student = Client(f"http://127.0.0.1:{port}/", verbose=False)
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
    finally:
        app.close()
