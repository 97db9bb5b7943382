"""The chat reaches the tools without a language model, in real headless Chromium: a typed training command
starts a real run that shows in the Training tab and finishes, a question proposes a run that starts only on
[Start] (and not at all on [Not now]), a summary comes with its citations, and a comparison of the last two runs
is a table. Each tool call is a step of the trace, with its arguments."""

from __future__ import annotations

import re

import pytest

from test_ui_browser import ask, chat_text, open_page, open_tab, screenshot, serve_app, table_rows, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]
RUN_ID = re.compile(r"Started training run (\d{8}-\d{6}-[0-9a-f]{6})")


@pytest.fixture(scope="module")
def app_router(course_settings, course_index, tmp_path_factory):
    """The app with no language model (extractive answers, the offline router) and its own runs folder."""
    settings = course_settings.replace(llm="extractive", runs_dir=tmp_path_factory.mktemp("router-runs"))
    with serve_app(settings, course_index) as served:
        yield served


def started_run(page, request: str, count: int) -> str:
    """Type a training request; the id of the run the chat says it started (the ``count``-th of the page)."""
    ask(page, request)
    found = wait_for(lambda: (lambda ids: ids if len(ids) >= count else None)(RUN_ID.findall(chat_text(page))),
                     90, f"run {count} to start")
    return found[count - 1]


def test_a_typed_training_request_starts_a_run_that_shows_in_the_training_tab_and_finishes(browser, app_router):
    url, services = app_router
    page = open_page(browser, url)
    run_id = started_run(page, "train mnist_cnn on digits for 2 epochs", 1)
    text = chat_text(page)
    assert "tool call: start_training_run" in text and "Training" in text
    panel = page.locator("#chat-runs")
    wait_for(lambda: run_id in panel.inner_text(), 30, "the live status under the chat")
    wait_for(lambda: "completed" in panel.inner_text(), 240, "the live status to show the run completed")
    assert "epoch 2/2" in panel.inner_text()
    open_tab(page, "Training")
    wait_for(lambda: any(r[0] == run_id and r[1] == "completed" for r in table_rows(page, "#train-runs")), 30,
             "the run, completed, in the Training tab's table")
    assert len(services.runs.metrics(run_id)) == 2
    screenshot(page, "chat-routing-training")
    page.context.close()


def test_a_proposed_run_waits_for_start_and_not_now_starts_nothing(browser, app_router):
    url, services = app_router
    page = open_page(browser, url)
    before = {s.id for s in services.runs.list()}
    ask(page, "could you fit the mlp on digits, one pass?")
    confirm, decline = page.locator("#chat-confirm"), page.locator("#chat-decline")
    decline.wait_for(state="visible", timeout=60_000)
    assert "Start a run: mlp on digits, 1 epoch, batch 64?" in chat_text(page)
    assert confirm.inner_text().strip() == "Start" and decline.inner_text().strip() == "Not now"
    screenshot(page, "chat-routing-confirm")
    decline.click()
    wait_for(lambda: "nothing was started or stopped" in chat_text(page), 30, "the not-now reply")
    decline.wait_for(state="hidden", timeout=10_000)
    assert {s.id for s in services.runs.list()} == before  # Not now: no run

    ask(page, "maybe train the mlp on digits for 1 epoch?")
    confirm.wait_for(state="visible", timeout=60_000)
    assert {s.id for s in services.runs.list()} == before  # proposed, not started
    confirm.click()
    run_id = wait_for(lambda: (RUN_ID.findall(chat_text(page)) or [None])[0], 60, "the run started by Start")
    confirm.wait_for(state="hidden", timeout=10_000)
    assert {s.id for s in services.runs.list()} - before == {run_id}
    assert "tool call: start_training_run" in chat_text(page)
    wait_for(lambda: run_id in page.locator("#chat-runs").inner_text(), 30, "the live status under the chat")
    assert services.runs.wait(run_id, timeout=240).status == "completed"
    page.context.close()


def test_summarize_session_3_returns_a_cited_summary(browser, app_router):
    url, _ = app_router
    page = open_page(browser, url)
    ask(page, "summarize session 3")
    page.wait_for_selector("#chatbot a.cite", timeout=60_000)
    text = chat_text(page)
    assert "tool call: summarize_notes" in text and "mode tool" in text
    sources = page.inner_text("#sources-panel")
    assert "Session 3" in sources
    screenshot(page, "chat-routing-summary")
    page.context.close()


def test_compare_my_last_two_runs_shows_the_comparison(browser, app_router):
    url, services = app_router
    page = open_page(browser, url)
    first = started_run(page, "train the mlp on digits for 1 epoch", 1)
    second = started_run(page, "fit the small cnn on digits, one pass, batch size 128", 2)
    for run_id in (first, second):
        services.runs.wait(run_id, timeout=240)
    ask(page, "compare my last two runs")
    table = page.locator("#chatbot table").last
    wait_for(lambda: table.count() and second in table.inner_text(), 60, "the comparison table")
    rows = table.locator("tbody tr")
    assert rows.count() == 2 and {first, second} <= set(re.findall(r"\d{8}-\d{6}-[0-9a-f]{6}", table.inner_text()))
    assert "completed" in table.inner_text() and "tool call: compare_training_runs" in chat_text(page)
    screenshot(page, "chat-routing-compare")
    page.context.close()
