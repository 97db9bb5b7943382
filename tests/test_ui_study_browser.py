"""The Study tab in real headless Chromium: practise three questions, reveal their sources, and the Leitner boxes
update and persist across a page reload (the browser keeps its study user in local storage)."""

from __future__ import annotations

import sqlite3

import pytest

from coursemate.state import state_path
from coursemate.tools.quiz import course_terms
from test_ui_browser import UNREACHABLE_LLM, open_page, open_tab, screenshot, serve_app, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def box_counts(page) -> dict[int, int]:
    cells = page.eval_on_selector_all(
        "#study-boxes .study-box", "els => els.map(e => [e.dataset.box, e.querySelector('.study-count').innerText])")
    return {int(b): int(n) for b, n in cells}


def question_id(page) -> str:
    return page.get_attribute("#study-question .study-question", "data-id") or ""


def test_practise_three_questions_and_the_boxes_persist_across_a_reload(browser, course_settings, course_index):
    settings = course_settings.replace(home=course_settings.home / "study-ui", index_dir=course_settings.index_dir,
                                       llm=UNREACHABLE_LLM, llm_timeout=5.0)
    course_terms(course_index, course_settings.quiz_dir)  # built once per index: tens of seconds
    with serve_app(settings, course_index) as (url, services):
        page = open_page(browser, url)
        open_tab(page, "Study")
        page.locator("#study-source input").click()
        page.get_by_role("option", name="Session 5", exact=True).click()
        page.click("#study-start")
        page.wait_for_selector("#study-question .study-question", timeout=300_000)

        seen = []
        for correct in (True, False, True):
            current = question_id(page)
            assert current and current not in seen
            seen.append(current)
            page.click("#study-reveal")
            page.wait_for_selector("#study-answer .study-key", timeout=30_000)
            key = page.inner_text("#study-answer .study-key")
            source = page.locator("#study-answer details.source")
            assert page.eval_on_selector("#study-answer details.source", "el => el.open")  # shown with the answer
            assert key.lower() in source.inner_text().lower()  # the key (truecased) is in the passage shown
            marked = page.eval_on_selector_all("#study-answer .source-text mark", "els => els.map(e => e.innerText)")
            assert marked and {m.lower() for m in marked} == {key.lower()}  # and marked there
            if correct is True and len(seen) == 3:
                screenshot(page, "study", docs_name="study.png")
            page.click("#study-right" if correct else "#study-wrong")
            wait_for(lambda current=current: question_id(page) != current, 30, "the next question")

        wait_for(lambda: sum(box_counts(page).values()) == 3, 10, "three questions in the boxes")
        assert box_counts(page) == {1: 1, 2: 2, 3: 0, 4: 0, 5: 0}
        progress = page.inner_text("#study-progress")
        assert "5" in progress and "learned" in progress

        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector("#chat-input textarea", timeout=60_000)
        open_tab(page, "Study")
        wait_for(lambda: page.locator("#study-boxes .study-box").count() == 5, 30, "the boxes after the reload")
        assert box_counts(page) == {1: 1, 2: 2, 3: 0, 4: 0, 5: 0}  # the same user's boxes, read from the store
        with sqlite3.connect(state_path(settings)) as db:
            assert db.execute("select count(*) from study_users").fetchone()[0] == 1
        screenshot(page, "study-after-reload")
        page.context.close()
