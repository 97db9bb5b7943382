"""The Gradio UI in real headless Chromium: chat with citations, streaming, steps, separate sessions, export,
training runs with a live plot, search in each mode, notes and summaries, and bad requests.

The app runs in this process on a free loopback port over the session's real index (real embedding model,
FAISS, BM25), real training worker processes, and a language model that is either unreachable, the embedded
SmolLM2 model, or a loopback server that drops its connections mid-answer. Screenshots of every test go to
artifacts/screenshots/; the chat and training ones are also copied to docs/screenshots/ for the README.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
DOCS_SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
UNREACHABLE_LLM = "http://127.0.0.1:9/v1"  # port 9 (discard): nothing listens there
QUESTION = "What do the gates of an LSTM do?"


# ----------------------------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(settings, index) -> Iterator[tuple[str, object]]:
    """The real UI on a free loopback port, in this process; yields ``(url, services)``."""
    from coursemate.ui.app import launch
    from coursemate.ui.services import Services

    services = Services(settings, index)
    services.warm_up()
    port = free_port()
    app = launch(services, "127.0.0.1", port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", services
    finally:
        app.close()


def open_page(browser, url: str, width: int = 1400, height: int = 1000):
    """A page in a fresh browser context (a new session), loaded and ready."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("#chat-input textarea", timeout=60_000)
    return page


def status_line(page) -> str:
    """The status line once the language model has been checked."""
    locator = page.locator("#status-line")
    return wait_for(lambda: (lambda t: t if "Language model" in t else "")(locator.inner_text()), 30, "the status line")


def screenshot(page, name: str, docs_name: str | None = None) -> Path:
    """A full-page screenshot in artifacts/screenshots/ (copied to docs/screenshots/ when ``docs_name``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs_name:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / docs_name)
    return path


def ask(page, question: str) -> None:
    page.fill("#chat-input textarea", question)
    page.click("#chat-send")


def chat_text(page) -> str:
    return page.inner_text("#chatbot")


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    """Poll ``predicate`` until it returns something truthy; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def table_rows(page, selector: str) -> list[list[str]]:
    """The body cells of a gr.Dataframe, row by row (the rows it has rendered: the table is virtual)."""
    return page.eval_on_selector_all(
        f"{selector} [role=row].virtual-row",
        """rows => rows
            .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
            .map(r => Array.from(r.querySelectorAll('[role=gridcell]')).map(c => c.innerText.trim()))""",
    )


def table_headers(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(f"{selector} th[role=columnheader]", "ths => ths.map(th => th.innerText.trim())")


def plot_paths(page, selector: str) -> str:
    """The SVG path data of a gr.LinePlot's lines (changes whenever the plotted points change)."""
    return page.eval_on_selector(
        f"{selector} svg.marks", "s => Array.from(s.querySelectorAll('path')).map(p => p.getAttribute('d')).join('|')"
    )


class DyingLLMServer:
    """An OpenAI-compatible server on loopback that lists a model, then drops every chat request mid-answer:
    it starts the response (status, headers, part of the body) and closes the connection."""

    MODEL = "dying-model"

    def __enter__(self) -> str:
        model = self.MODEL

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps({"object": "list", "data": [{"id": model, "object": "model"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b'{"id": "chatcmpl-1", "choices": [{"index": 0, "message": {"role": "assis')
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# ----------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def app_no_llm(course_settings, course_index):
    """The app whose language model server is unreachable: answers quote the notes, with citations."""
    with serve_app(course_settings.replace(llm=UNREACHABLE_LLM, llm_timeout=5.0), course_index) as served:
        yield served


@pytest.fixture(scope="session")
def app_embedded(course_settings, course_index):
    """The app with the embedded SmolLM2 model writing (short) grounded answers."""
    settings = course_settings.replace(llm="embedded", llm_max_tokens=40, agent_mode="grounded")
    with serve_app(settings, course_index) as served:
        yield served


@pytest.fixture(scope="session")
def app_default(course_settings, course_index):
    """The app as ``make run`` starts it on a CPU: ``--llm auto`` with no vLLM server answering, so the answers
    are extractive (sentences of the notes, each cited)."""
    with serve_app(course_settings.replace(llm="auto", serve_port=free_port()), course_index) as served:
        yield served


# ----------------------------------------------------------------------------------------------- chat
def ask_and_wait(page, question: str) -> str:
    before = page.locator("#chatbot .answered-by").count()
    ask(page, question)
    wait_for(lambda: page.locator("#chatbot .answered-by").count() > before, 60, f"the answer to {question!r}")
    return page.locator("#chatbot .message:has(.answered-by)").last.inner_text()


def test_default_setup_answers_the_first_questions_correctly_with_citations(browser, app_default):
    """The three questions a new user asked after ``make run``: each gets the right sentences of the notes, cited,
    with no language model; the forget-gate question is answered in a fresh conversation, not refused."""
    url, _ = app_default
    page = open_page(browser, url)
    gap = ask_and_wait(page, "Why does the course use global average pooling?").lower()
    assert "global average pooling" in gap or "gap" in gap.split()
    assert "mode extractive" in gap and "[1]" in gap
    gates = ask_and_wait(page, "What are the three gates of an LSTM?").lower()
    assert all(word in gates for word in ("input", "output", "forget")), gates
    assert "[1]" in gates and "not in the notes" not in gates
    page.click("#chat-new")
    wait_for(lambda: page.locator("#chatbot .answered-by").count() == 0, 10, "the chat to be cleared")
    forget = ask_and_wait(page, "What does the forget gate do?").lower()
    assert "forget" in forget and "[1]" in forget and "not in the notes" not in forget
    page.locator("#chatbot a.cite").first.click()
    wait_for(lambda: page.locator("details.source[open]").count() == 1, 5, "the cited source to open")
    assert "lstm" in page.inner_text("details.source[open]").lower()
    screenshot(page, "chat-default", docs_name="chat.png")
    page.context.close()


def test_chat_answer_cites_sources_that_open_in_the_panel(browser, app_no_llm):
    url, _ = app_no_llm
    page = open_page(browser, url)
    assert "not reachable" in status_line(page)
    ask(page, QUESTION)
    page.wait_for_selector("#chatbot a.cite", timeout=60_000)
    text = chat_text(page)
    assert QUESTION in text
    assert "retrieval: search_notes" in text  # the agent's steps show as collapsible messages
    assert "No language model is available" in text  # the notice says why the answer quotes the notes

    link = page.locator("#chatbot a.cite").first
    n = link.inner_text().strip("[]")
    target = link.get_attribute("href").lstrip("#")
    assert page.eval_on_selector(f"#{target}", "el => el.open") is False
    link.click()
    wait_for(lambda: page.eval_on_selector(f"#{target}", "el => el.open"), 5, "the cited source to open")
    source = page.inner_text(f"#{target}")
    assert source.startswith(f"[{n}]")
    assert "BM25 rank" in source or "post-" in source or "session-" in source or "blog-" in source
    assert len(source) > 100  # the passage text itself is shown
    screenshot(page, "chat-passages")
    page.context.close()


def test_chat_streams_the_embedded_model_answer_with_verified_citations(browser, app_embedded):
    """SmolLM2 streams its answer; every [n] left in it is one the verifier kept, and a sentence no passage
    supports is marked in the page (the 135M model often writes such sentences)."""
    url, _ = app_embedded
    page = open_page(browser, url)
    ask(page, QUESTION)
    partial_seen: list[str] = []

    def done() -> bool:
        text = chat_text(page)
        if "answered by" in text:
            return True
        if "coverage: covered" in text:
            partial_seen.append(text)
        return False

    wait_for(done, 300, "the embedded model's answer")
    text = chat_text(page)
    assert "answered by SmolLM2" in text
    assert "generation:" in text  # the model call is one of the shown steps
    assert partial_seen, "the page never showed the answer before it was complete"
    cited = page.locator("#chatbot a.cite").count()
    unsupported = page.locator("#chatbot .unsupported").count()
    refused = "not in the notes" in text.lower()
    assert cited or unsupported or refused, "an answer must be cited, marked unsupported, or a refusal"
    screenshot(page, "chat-embedded")
    page.context.close()


def test_did_you_mean_shows_for_a_misspelled_question(browser, app_no_llm):
    url, _ = app_no_llm
    page = open_page(browser, url)
    ask(page, "what do lstm gtaes do")
    page.wait_for_selector("#chatbot .did-you-mean", timeout=60_000)
    assert "gates" in page.inner_text("#chatbot .did-you-mean")
    screenshot(page, "chat-did-you-mean")
    page.context.close()


def test_two_browser_sessions_keep_separate_histories(browser, app_no_llm):
    url, services = app_no_llm
    first, second = open_page(browser, url), open_page(browser, url)
    ask(first, "What is batch normalization?")
    ask(second, "Why does ResNet use skip connections?")
    first.wait_for_selector("#chatbot a.cite", timeout=60_000)
    second.wait_for_selector("#chatbot a.cite", timeout=60_000)
    assert "skip connections" not in chat_text(first)
    assert "batch normalization" not in chat_text(second).lower().split("answer")[0]
    ids = services.assistant().conversations.ids()
    assert len(ids) >= 2 and len(set(ids)) == len(ids)

    # a follow-up is answered in its own session's context only
    ask(first, "why does it help?")
    wait_for(lambda: first.locator("#chatbot .answered-by").count() == 2, 60, "the follow-up answer")
    assert "why does it help?" not in chat_text(second)
    screenshot(first, "sessions-first")
    screenshot(second, "sessions-second")
    first.context.close()
    second.context.close()


def test_export_then_new_conversation(browser, app_no_llm, tmp_path):
    url, _ = app_no_llm
    page = open_page(browser, url)
    ask(page, QUESTION)
    page.wait_for_selector("#chatbot a.cite", timeout=60_000)
    page.click("#chat-export")
    link = page.locator("#chat-export-file a").first
    link.wait_for(timeout=20_000)
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "export.json"
    download.value.save_as(path)
    exported = json.loads(path.read_text(encoding="utf-8"))
    (turn,) = exported["turns"]
    assert turn["question"] == QUESTION and turn["citations"]
    assert any(step["kind"] == "retrieval" for step in turn["trace"]["steps"])
    assert exported["conversation_id"] == turn["conversation_id"]

    page.click("#chat-new")
    wait_for(lambda: QUESTION not in chat_text(page), 10, "the conversation to be cleared")
    assert page.locator("details.source").count() == 0
    page.context.close()


# ----------------------------------------------------------------------------------------------- training
def test_training_run_plots_live_and_finishes(browser, app_no_llm):
    url, services = app_no_llm
    page = open_page(browser, url)
    open_tab(page, "Training")
    page.locator("#train-epochs input").fill("10")
    page.locator("#train-batch-size input").fill("16")  # small batches: epochs long enough to watch
    page.click("#train-start")
    status = page.locator("#train-status")
    wait_for(lambda: "Run " in status.inner_text(), 60, "the run to start")
    run_id = re.search(r"Run (\S+):", status.inner_text()).group(1)
    # while the run trains, the status and the plots follow it epoch by epoch
    mid_run = wait_for(lambda: re.search(r"running .* epoch ([1-9])/10", status.inner_text()), 120, "a mid-run epoch")
    plot = page.locator("#train-loss-plot canvas, #train-loss-plot svg.marks")
    wait_for(lambda: plot.count() > 0, 15, "the loss plot to be drawn")
    drawn_mid_run = plot_paths(page, "#train-loss-plot")
    wait_for(lambda: "completed" in status.inner_text(), 180, "the run to finish")
    wait_for(lambda: plot_paths(page, "#train-loss-plot") != drawn_mid_run, 10, "the plot to show the later epochs")
    assert int(mid_run.group(1)) < 10
    assert "epoch 10/10" in status.inner_text() and "best test accuracy" in status.inner_text()
    assert len(services.runs.metrics(run_id)) == 10
    rows = table_rows(page, "#train-runs")
    assert any(r[0] == run_id and r[1] == "completed" for r in rows)
    screenshot(page, "training", docs_name="training.png")

    # a run started elsewhere (the chat's training agent uses the same RunManager and runs folder) shows up
    other = services.runs.start({"dataset": "digits", "model": "mlp", "epochs": 1})
    wait_for(lambda: any(r[0] == other for r in table_rows(page, "#train-runs")), 30, "the other run in the table")
    services.runs.wait(other, timeout=120)

    # side-by-side comparison
    for rid in (run_id, other):
        page.locator("#train-compare-runs input").click()
        page.get_by_role("option", name=rid).click()
    page.click("#train-compare")
    wait_for(lambda: len(table_rows(page, "#train-compare-table")) == 2, 20, "the comparison table")
    compared = {r[0] for r in table_rows(page, "#train-compare-table")}
    assert compared == {run_id, other}
    screenshot(page, "training-compare")
    page.context.close()


# ----------------------------------------------------------------------------------------------- search, notes
@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_search_each_mode_shows_provenance(browser, app_no_llm, mode):
    url, _ = app_no_llm
    page = open_page(browser, url)
    open_tab(page, "Search")
    page.fill("#search-query textarea", "vanishing gradients in recurrent networks")
    page.locator("#search-mode").get_by_text(mode, exact=True).click()
    page.click("#search-button")
    wait_for(lambda: len(table_rows(page, "#search-results")) >= 3, 30, f"{mode} results")
    headers = table_headers(page, "#search-results")
    rows = [dict(zip(headers, r)) for r in table_rows(page, "#search-results")]
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    if mode == "bm25":
        assert all(r["dense_rank"] == "–" and r["bm25_rank"] != "–" for r in rows)
    elif mode == "dense":
        assert all(r["bm25_rank"] == "–" and r["dense_rank"] != "–" for r in rows)
    else:
        assert any(r["bm25_rank"] != "–" and r["dense_rank"] != "–" for r in rows)
    screenshot(page, f"search-{mode}")
    page.context.close()


def test_search_tab_corrects_spelling(browser, app_no_llm):
    url, _ = app_no_llm
    page = open_page(browser, url)
    open_tab(page, "Search")
    page.fill("#search-query textarea", "what is a sadle piont")
    page.click("#search-button")
    wait_for(lambda: "saddle point" in page.locator("#search-did-you-mean").inner_text(), 30, "the corrected query")
    wait_for(lambda: any("saddle point" in " ".join(r).lower() for r in table_rows(page, "#search-results")), 30,
             "a passage about saddle points")
    page.context.close()


def test_notes_tab_opens_and_summarizes_a_document(browser, app_no_llm):
    url, _ = app_no_llm
    page = open_page(browser, url)
    open_tab(page, "Notes")
    page.locator("#notes-table").get_by_text("post-lstm-one-pager", exact=True).click()
    wait_for(lambda: "LSTM" in page.inner_text("#notes-text"), 10, "the document text")
    page.click("#notes-summarize")
    page.wait_for_selector("#notes-summary a.cite", timeout=30_000)
    link = page.locator("#notes-summary a.cite").first
    target = link.get_attribute("href").lstrip("#")
    link.click()
    wait_for(lambda: page.eval_on_selector(f'[id="{target}"]', "el => el.open"), 5, "the summary's source to open")
    screenshot(page, "notes-summary")
    page.context.close()


# ----------------------------------------------------------------------------------------------- bad requests
def test_bad_requests_show_a_clear_message_and_the_app_keeps_serving(browser, app_no_llm):
    url, _ = app_no_llm
    page = open_page(browser, url)
    page.click("#chat-send")  # empty message
    page.get_by_text("the message is empty").first.wait_for(timeout=10_000)
    ask(page, "why " * 25_000)  # a 100 kB message
    page.get_by_text("the limit is 4,000").first.wait_for(timeout=10_000)
    screenshot(page, "bad-chat-message")

    open_tab(page, "Training")
    page.locator("#train-lr input").fill("0")
    page.click("#train-start")
    page.get_by_text("learning rate must be in").first.wait_for(timeout=10_000)
    screenshot(page, "bad-training-settings")

    open_tab(page, "Search")
    page.click("#search-button")
    page.get_by_text("the query is empty").first.wait_for(timeout=10_000)

    open_tab(page, "Chat")
    ask(page, QUESTION)
    page.wait_for_selector("#chatbot a.cite", timeout=60_000)
    page.context.close()


def test_llm_server_dropping_the_answer_gives_a_notice(browser, course_settings, course_index):
    with DyingLLMServer() as llm_url:
        settings = course_settings.replace(llm=llm_url, llm_timeout=10.0, agent_max_steps=2)
        with serve_app(settings, course_index) as (url, _):
            page = open_page(browser, url)
            assert DyingLLMServer.MODEL in status_line(page)  # reachable when the page loads
            ask(page, QUESTION)
            page.wait_for_selector("#chatbot .notice", timeout=90_000)
            notice = page.inner_text("#chatbot .notice")
            assert "failed" in notice or "longer than" in notice
            assert page.locator("#chatbot a.cite").count() > 0  # the cited passages instead
            screenshot(page, "llm-dropped")
            ask(page, "What is a residual block?")  # still serving
            wait_for(lambda: page.locator("#chatbot .answered-by").count() == 2, 90, "the second answer")
            page.context.close()


# ----------------------------------------------------------------------------------------------- the command
def test_coursemate_ui_command_serves_the_page(browser, course_settings, course_index):
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    command = [sys.executable, "-m", "coursemate.cli", "--home", str(course_settings.home), "ui",
               "--port", str(port), "--llm", UNREACHABLE_LLM]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        lines: list[str] = []
        while True:
            line = process.stdout.readline()
            assert line, f"coursemate ui exited early:\n{''.join(lines)}"
            lines.append(line)
            if "Running on local URL" in line:
                break
        output = "".join(lines)
        assert "passages" in output and "not reachable" in output
        assert "coursemate: Language model not reachable: " in output and "<span" not in output  # plain text
        assert f"OpenAI-compatible API at http://127.0.0.1:{port}/v1" in output
        assert f"http://127.0.0.1:{port}" in line and "gradio.live" not in output
        page = open_page(browser, f"http://127.0.0.1:{port}/")
        assert "not reachable" in status_line(page)
        page.context.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_coursemate_ui_rejects_a_bad_auth_value():
    result = subprocess.run([sys.executable, "-m", "coursemate.cli", "ui", "--auth", "nocolon"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "coursemate: error: --auth must look like USER:PASS (both non-empty)"
