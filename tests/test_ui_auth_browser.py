"""``--auth`` in real Chromium: without credentials the app is not served, with them it is; runs have owners.

The app runs in this process on a loopback port with two users, alice and bob. A stranger (or a wrong
password) gets only the login form and no app config; alice signs in and chats; bob sees alice's training run
but cannot cancel it; alice can.
"""

from __future__ import annotations

import contextlib
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from test_ui_browser import ask, free_port, open_tab, screenshot, table_headers, table_rows, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

USERS = [("alice", "wonderland-42"), ("bob", "builder-7")]


@contextlib.contextmanager
def serve_with_auth(settings, index, users=USERS) -> Iterator[tuple[str, object]]:
    from coursemate.ui.app import launch
    from coursemate.ui.services import Services

    services = Services(settings, index)
    services.warm_up()
    port = free_port()
    app = launch(services, "127.0.0.1", port, auth=users, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", services
    finally:
        app.close()


@pytest.fixture(scope="module")
def app_with_auth(small_notes_index, tmp_path_factory):
    settings = small_notes_index.settings.replace(llm="extractive", runs_dir=tmp_path_factory.mktemp("auth-runs"))
    with serve_with_auth(settings, small_notes_index) as served:
        yield served


def login_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("button", name="Login").wait_for(timeout=60_000)
    return page


def sign_in(browser, url: str, user: str, password: str):
    page = login_page(browser, url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    return page


def test_without_credentials_the_app_is_not_served(browser, app_with_auth):
    url, _ = app_with_auth
    with pytest.raises(urllib.error.HTTPError) as refused:  # the app's config, as the page asks for it
        urllib.request.urlopen(url + "config")
    assert refused.value.code == 401 and "components" not in refused.value.read().decode()

    page = login_page(browser, url)
    assert page.locator("#chat-input").count() == 0 and page.locator("#chatbot").count() == 0
    screenshot(page, "auth-login")
    page.get_by_label("username").fill("alice")
    page.get_by_label("password").fill("wrong-password")
    page.get_by_role("button", name="Login").click()
    page.get_by_text("Incorrect Credentials").wait_for(timeout=15_000)
    assert page.locator("#chat-input").count() == 0
    page.context.close()


def test_gradio_client_needs_credentials(app_with_auth):
    from gradio_client import Client

    url, _ = app_with_auth
    with pytest.raises(Exception):  # noqa: B017 - gradio_client's error for a refused login differs by version
        Client(url, verbose=False)
    client = Client(url, auth=USERS[0], verbose=False)
    history = client.predict("What do the gates of an LSTM do?", [], api_name="/chat")[1]
    assert 'class="cite"' in str(history[-1]["content"])
    client.close()


def test_with_credentials_the_app_is_served_and_runs_have_owners(browser, app_with_auth):
    url, services = app_with_auth
    alice = sign_in(browser, url, *USERS[0])
    alice.wait_for_selector("#chat-input textarea", timeout=60_000)
    ask(alice, "What do the gates of an LSTM do?")
    alice.wait_for_selector("#chatbot a.cite", timeout=60_000)
    screenshot(alice, "auth-signed-in")

    open_tab(alice, "Training")
    alice.locator("#train-epochs input").fill("300")  # long enough to still be running while bob tries
    alice.click("#train-start")
    status = alice.locator("#train-status")
    wait_for(lambda: "Run " in status.inner_text(), 60, "alice's run to start")
    run_id = status.inner_text().split("Run ")[1].split(":")[0].strip("` ")
    assert services.runs.status(run_id).owner == "alice"

    bob = sign_in(browser, url, *USERS[1])
    bob.wait_for_selector("#chat-input textarea", timeout=60_000)
    open_tab(bob, "Training")
    wait_for(lambda: any(r and r[0] == run_id for r in table_rows(bob, "#train-runs")), 30,
             "alice's run in bob's table")
    headers = table_headers(bob, "#train-runs")
    row = next(dict(zip(headers, r)) for r in table_rows(bob, "#train-runs") if r[0] == run_id)
    assert row["owner"] == "alice"
    bob.locator("#train-watch input").click()
    bob.get_by_role("option", name=run_id).click()
    bob.click("#train-cancel")
    bob.get_by_text("only they can cancel it").first.wait_for(timeout=15_000)
    screenshot(bob, "auth-cancel-refused")
    assert services.runs.status(run_id).status in ("queued", "running")

    alice.locator("#train-watch input").click()
    alice.get_by_role("option", name=run_id).click()
    alice.click("#train-cancel")
    wait_for(lambda: services.runs.status(run_id).status == "cancelled", 30, "alice's cancel")
    alice.context.close()
    bob.context.close()
