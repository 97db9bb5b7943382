"""The web UI's API through gradio_client, as a hostile but signed-in user would use it (issue 22).

One app serves on loopback with two users (alice, bob) and answers extractively from five notes. Every UI action
has a typed endpoint; bad values come back as one clear error; runs keep their owners; a run record out of range
(epochs 1e23, as an older version wrote it) is listed as damaged and neither the page nor a new client breaks;
over-long messages and histories are refused before any work (a body larger than any chat request before it is
read); uploads over ``max_file_size`` are refused;
failed logins are slowed per user and per address.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from gradio_client import Client

from test_ui_browser import free_port

pytestmark = pytest.mark.slow

USERS = [("alice", "wonderland-42"), ("bob", "builder-7")]
ENDPOINTS = {"/chat", "/confirm_action", "/decline_action", "/new_conversation", "/export_conversation",
             "/start_training", "/cancel_training", "/list_runs", "/run_status", "/compare_runs", "/search",
             "/list_notes", "/read_note", "/summarize_note", "/study_quiz", "/study_mark", "/model_status"}
MAX_FILE_SIZE = 1 << 20


@contextlib.contextmanager
def serve(settings, index) -> Iterator[str]:
    from coursemate.ui.app import launch
    from coursemate.ui.services import Services

    port = free_port()
    app = launch(Services(settings, index), "127.0.0.1", port, auth=USERS, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


@pytest.fixture(scope="module")
def api_settings(small_notes_index, tmp_path_factory):
    return small_notes_index.settings.replace(llm="extractive", runs_dir=tmp_path_factory.mktemp("api-runs"),
                                              home=tmp_path_factory.mktemp("api-home"), max_file_size=MAX_FILE_SIZE)


@pytest.fixture(scope="module")
def api_url(api_settings, small_notes_index):
    with serve(api_settings, small_notes_index) as url:
        yield url


def client(url: str, user: int = 0) -> Client:
    return Client(url, auth=USERS[user], verbose=False)


def refused(call, *args, api_name: str) -> str:
    """The error message the server sends back for ``call(*args)`` (the test fails when it succeeds)."""
    with pytest.raises(Exception) as error:  # gradio_client raises AppError (an Exception)
        call(*args, api_name=api_name)
    return str(error.value)


def test_every_ui_action_has_a_typed_endpoint(api_url):
    alice = client(api_url)
    assert ENDPOINTS <= set(alice.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert alice.predict(api_name="/list_notes")
    hits = alice.predict("what do the lstm gates do", "bm25", 3, api_name="/search")["hits"]
    assert len(hits) == 3 and hits[0]["rank"] == 1
    doc_id = alice.predict(api_name="/list_notes")[0]["doc_id"]
    assert alice.predict(doc_id, api_name="/read_note")["text"]
    assert alice.predict(doc_id, 60, api_name="/summarize_note")["citations"]
    quiz = alice.predict("all", "", "cloze", api_name="/study_quiz")
    marked = alice.predict(quiz[0], True, "", api_name="/study_mark")
    assert marked["student"] == "alice" and marked["reviews"] == 1
    assert "extractive" in alice.predict(api_name="/model_status")
    assert "k must be an integer from 1 to 50" in refused(alice.predict, "lstm", "hybrid", 1000, api_name="/search")
    assert "mode must be one of" in refused(alice.predict, "lstm", "fuzzy", 3, api_name="/search")
    alice.close()


def test_runs_are_started_and_cancelled_by_their_owner_only(api_url):
    """Defect 7: /cancel_training answered "not in the list of choices: []" even to the run's owner."""
    alice, bob = client(api_url, 0), client(api_url, 1)
    run = alice.predict("digits", "mlp", 300, 64, "sgd", 0.05, "onecycle", 0, False, api_name="/start_training")
    assert run["owner"] == "alice" and run["status"] in ("queued", "running")
    assert "only they can cancel it" in refused(bob.predict, run["id"], api_name="/cancel_training")
    assert alice.predict(run["id"], api_name="/run_status")["status"] in ("queued", "running")
    cancelled = alice.predict(run["id"], api_name="/cancel_training")
    assert cancelled["status"] == "cancelled"
    assert [r["id"] for r in bob.predict([run["id"]], api_name="/compare_runs")] == [run["id"]]
    assert "no training run" in refused(bob.predict, "../../etc", api_name="/cancel_training")
    assert "no training run" in refused(bob.predict, "a\x00b", api_name="/cancel_training")
    alice.close()
    bob.close()


def test_epochs_out_of_range_are_refused_and_an_old_record_is_listed_as_damaged(api_settings, small_notes_index,
                                                                                   api_url):
    """Defect 1: epochs = 1e23 took the Training tab down, and after a restart GET / and gradio_client."""
    alice = client(api_url)
    message = refused(alice.predict, "digits", "mlp", 10**23, api_name="/start_training")
    assert "epochs must be an integer from 1 to 10,000" in message
    assert "epochs must be an integer" in refused(alice.predict, "digits", "mlp", 1e23, api_name="/start_training")

    old = api_settings.runs_dir / "20000101-000000-old001"  # what an older version wrote for epochs = 1e23
    old.mkdir()
    (old / "summary.json").write_text(json.dumps({"id": old.name, "status": "running", "model": "mlp",
                                                  "dataset": "digits", "epochs": 10**23, "owner": "local"}))
    listed = {r["id"]: r for r in alice.predict(api_name="/list_runs")}
    assert listed[old.name]["status"] == "damaged" and "epochs" in listed[old.name]["error"]
    alice.close()
    with serve(api_settings, small_notes_index) as restarted:  # the app restarted with the record present
        with urllib.request.urlopen(restarted) as page:
            assert page.status == 200
        again = client(restarted)
        assert any(r["status"] == "damaged" for r in again.predict(api_name="/list_runs"))
        assert 'class="cite"' in str(again.predict("What do the gates of an LSTM do?", [], api_name="/chat")[1][-1])
        again.close()
    assert json.loads((old / "summary.json").read_text())["epochs"] == 10**23  # left as it was: nothing lost


def test_message_and_history_sizes_are_checked_before_any_work(api_url):
    """Defect 6: an over-long message came back as an empty history; a 20 MB history was processed for 16 s."""
    alice = client(api_url)
    assert "the limit is 4,000 (max_message_chars)" in refused(alice.predict, "why " * 2_000, [], api_name="/chat")
    many = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}] * 41
    assert "the limit is 40 (max_history_messages)" in refused(alice.predict, "and why?", many, api_name="/chat")
    long = [{"role": "user", "content": [{"type": "text", "text": "x" * 1_000_000}]}]
    assert "the limit is 800,000: start a new conversation" in refused(alice.predict, "and why?", long,
                                                                       api_name="/chat")
    huge = [{"role": "user", "content": [{"type": "text", "text": "x" * 20_000_000}]}]
    started = time.monotonic()
    assert "413" in refused(alice.predict, "and why?", huge, api_name="/chat")  # refused before it is read
    print(f"20 MB history refused in {time.monotonic() - started:.2f} s (client upload included)")
    assert "the message is empty" in refused(alice.predict, "   ", [], api_name="/chat")
    history = alice.predict("What do the gates of an LSTM do?", [], api_name="/chat")[1]
    assert 'class="cite"' in str(history[-1]["content"])
    alice.close()


def _login(url: str, user: str, password: str) -> tuple[int, str]:
    """POST /login: its status code and the session cookie it sets (empty when refused)."""
    data = f"username={user}&password={password}".encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "login", data=data, method="POST")) as answer:
            return answer.status, "; ".join(c.split(";")[0] for c in answer.headers.get_all("set-cookie"))
    except urllib.error.HTTPError as error:
        return error.code, ""


def _upload(url: str, size: int, cookie: str) -> int:
    boundary = "coursemate-test"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n")
    body = head.encode() + b"0" * size + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "gradio_api/upload", data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": cookie})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_uploads_over_the_limit_are_refused(api_url):
    """Defect 6: /gradio_api/upload took 200 MB from any signed-in user."""
    cookie = _login(api_url, *USERS[1])[1]
    assert _upload(api_url, 1000, cookie) == 200
    assert _upload(api_url, 2 * MAX_FILE_SIZE, cookie) == 413


def test_failed_logins_are_slowed_per_user_and_per_address(api_settings, small_notes_index):
    """Defect 6: 200 wrong passwords in 2 s met no slowdown."""
    from coursemate.ui.login import FIRST_DELAY_SECONDS, FREE_FAILURES

    with serve(api_settings, small_notes_index) as url:
        started = time.monotonic()
        codes = [_login(url, "bob", f"guess-{i}")[0] for i in range(FREE_FAILURES + 3)]
        assert codes[:FREE_FAILURES] == [400] * FREE_FAILURES and set(codes[FREE_FAILURES:]) == {429}
        assert _login(url, "bob", USERS[1][1])[0] == 429  # even the right password waits its turn
        assert _login(url, "alice", USERS[0][1])[0] == 429  # this address too
        assert time.monotonic() - started < 10  # refused at once, no request held open
        time.sleep(FIRST_DELAY_SECONDS * 2 + 0.5)
        assert _login(url, "bob", USERS[1][1])[0] == 200
