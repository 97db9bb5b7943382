"""A restart in the middle of a conversation: a real ``coursemate ui`` process answers a question in headless
Chromium, is killed (SIGKILL) and started again over the same home; the reloaded page shows the earlier turn and
its sources again, and a follow-up is resolved against it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from coursemate.state import StateStore, state_path
from test_ui_browser import REPO_ROOT, ask, chat_text, free_port, open_page, screenshot, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]
FIRST = "What is leaky ReLU?"
FOLLOW_UP = "what value is usually used for that small slope?"


def start_ui(home, index_dir, port: int) -> subprocess.Popen:
    """``coursemate ui`` on ``port`` over ``home`` (offline extractive answers), once it serves."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "COURSEMATE_INDEX_DIR": str(index_dir),
           "COURSEMATE_LLM": "extractive"}
    process = subprocess.Popen([sys.executable, "-m", "coursemate.cli", "--home", str(home), "ui", "--port",
                                str(port)], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    while "Running on local URL" not in (lines[-1] if lines else ""):
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=30)
            raise AssertionError(f"coursemate ui exited early:\n{''.join(lines)}")
        lines.append(line)
    return process


def answers(page) -> int:
    return page.locator("#chatbot .answered-by").count()


def test_a_restarted_ui_shows_the_conversation_again_and_continues_it(browser, course_settings, course_index,
                                                                      tmp_path):
    home, port = tmp_path / "home", free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start_ui(home, course_settings.index_dir, port)
    try:
        page = open_page(browser, url)
        ask(page, FIRST)
        wait_for(lambda: answers(page) == 1, 90, "the first answer")
        first_answer = page.locator("#chatbot .answered-by").first.evaluate("el => el.parentElement.innerText")
        server.send_signal(signal.SIGKILL)  # no chance to save anything on the way out
        server.wait(timeout=30)

        server = start_ui(home, course_settings.index_dir, port)
        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector("#chat-input textarea", timeout=60_000)
        wait_for(lambda: answers(page) == 1, 60, "the earlier answer shown again")
        assert FIRST in chat_text(page)
        assert page.locator("#chatbot .answered-by").first.evaluate("el => el.parentElement.innerText") \
            == first_answer
        assert page.locator("#sources-panel details.source").count() > 0  # its cited passages too
        screenshot(page, "restart-restored")

        ask(page, FOLLOW_UP)
        wait_for(lambda: answers(page) == 2, 90, "the follow-up's answer")
        screenshot(page, "restart-follow-up")
        state = StateStore(state_path(course_settings.replace(home=home)))
        (conversation_id,) = state.conversation_ids()  # the same conversation, continued
        _, turns = state.conversation(conversation_id)
        assert [t["question"] for t in turns] == [FIRST, FOLLOW_UP]
        assert turns[1]["resolved_question"] == "what value is usually used for the small slope of leaky ReLU?"
        assert len(state.logged_questions()) == 2
        page.context.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
