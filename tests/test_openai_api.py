"""The OpenAI-compatible ``/v1`` API of ``coursemate ui`` (ui/api.py), served for real on loopback.

The app runs in this process as ``coursemate ui --auth`` runs it (the Gradio app with the API's routes), over five of
the shipped notes with extractive answers; the official ``openai`` client talks to it, streaming included, and plain
HTTP checks the error cases: 401 without or with a wrong token, 400 for a message or a history over the limits,
404 for another model, 429 for a flood.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import openai
import pytest
from fastapi import Request

from coursemate.tools.grounding.citations import NOT_IN_NOTES, cited_numbers
from coursemate.ui.api import MODEL_ID, NOT_DONE, Api, ApiError, RateLimiter
from coursemate.ui.tokens import token_store
from llm_server import free_port

QUESTION = "What do the gates of an LSTM do?"
PER_MINUTE = 40  # above what the other tests send as alice


@contextlib.contextmanager
def serve(settings, index, auth) -> Iterator[str]:
    from coursemate.ui.app import launch
    from coursemate.ui.services import Services

    services = Services(settings, index)
    services.warm_up()
    port = free_port()
    app = launch(services, "127.0.0.1", port, auth=auth, block=False)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        app.close()


@pytest.fixture(scope="module")
def api(small_notes_index, tmp_path_factory):
    """``(base URL, tokens by user, settings)`` of an app served with ``--auth``."""
    home = tmp_path_factory.mktemp("api-home")
    settings = small_notes_index.settings.replace(home=home, runs_dir=home / "runs", llm="extractive",
                                                  api_requests_per_minute=PER_MINUTE)
    store = token_store(home)
    tokens = {user: store.create(user) for user in ("alice", "flood", "revoked")}
    with serve(settings, small_notes_index, auth=[("alice", "pw-1")]) as url:
        yield url, tokens, settings


def client(api, user: str = "alice") -> openai.OpenAI:
    url, tokens, _ = api
    return openai.OpenAI(base_url=url, api_key=tokens[user], max_retries=0)


def ask(api, messages: list[dict], user: str = "alice"):
    return client(api, user).chat.completions.create(model=MODEL_ID, messages=messages)


def user_says(text: str) -> dict:
    return {"role": "user", "content": text}


def post(api, path: str, body, token: str | None = "alice") -> httpx.Response:
    url, tokens, _ = api
    headers = {"Authorization": f"Bearer {tokens.get(token, token)}"} if token else {}
    if isinstance(body, bytes):
        return httpx.post(url + path, content=body, headers=headers, timeout=60)
    return httpx.post(url + path, json=body, headers=headers, timeout=60)


def assert_openai_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code and error["message"]
    return error


# ------------------------------------------------------------------ the openai client


def test_models_lists_the_assistant(api):
    assert [m.id for m in client(api).models.list()] == [MODEL_ID]


def test_openai_client_streams_a_cited_answer(api):
    stream = client(api).chat.completions.create(model=MODEL_ID, messages=[user_says(QUESTION)], stream=True)
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    text = "".join(pieces)
    extra = chunks[-1].model_extra["coursemate"]

    assert len(pieces) > 10  # sent in pieces, not as one message
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert extra["mode"] == "extractive" and extra["covered"]
    numbers = cited_numbers(text.split("**Sources**")[0])
    assert numbers and numbers == [s["n"] for s in extra["sources"]]  # every marker has its source, in order
    assert all(s["doc_id"] == "post-lstm-one-pager" and s["text"] for s in extra["sources"])
    assert "**Sources**\n\n- [1] LSTM One Pager" in text

    whole = ask(api, [user_says(QUESTION)])  # the same answer without streaming
    assert whole.choices[0].message.content == text
    assert whole.model_extra["coursemate"]["sources"] == extra["sources"]


def test_a_follow_up_is_read_with_the_conversation(api):
    first = ask(api, [user_says("What is leaky ReLU?")])
    follow_up = "what value is usually used for that small slope?"
    messages = [user_says("What is leaky ReLU?"), {"role": "assistant", "content": first.choices[0].message.content},
                user_says(follow_up)]

    extra = ask(api, messages).model_extra["coursemate"]
    alone = ask(api, [user_says(follow_up)]).model_extra["coursemate"]

    assert "leaky ReLU" in extra["resolved_question"]
    assert alone["resolved_question"] == follow_up  # no history, nothing to resolve


def test_a_question_the_notes_do_not_cover_says_so(api):
    answer = ask(api, [user_says("How does the DDIM sampler of a diffusion model work?")])
    extra = answer.model_extra["coursemate"]
    assert answer.choices[0].message.content.startswith(NOT_IN_NOTES)
    assert (extra["mode"], extra["covered"], extra["sources"]) == ("not_in_notes", False, [])


def test_a_training_request_is_proposed_never_started(api):
    _, _, settings = api
    answer = ask(api, [user_says("could you train the mlp on digits for 2 epochs?")])
    extra = answer.model_extra["coursemate"]
    content = answer.choices[0].message.content

    assert extra["mode"] == "confirm" and extra["pending"]["intent"] == "train"
    assert content.startswith(extra["pending"]["prompt"]) and NOT_DONE in content
    assert not settings.runs_dir.exists() or not any(settings.runs_dir.iterdir())  # nothing started


# ------------------------------------------------------------------ errors, plain HTTP


def test_a_missing_or_wrong_token_gets_401(api):
    url, _, _ = api
    missing = httpx.get(f"{url}/models", timeout=30)
    assert_openai_error(missing, 401, "invalid_api_key")
    assert missing.headers["www-authenticate"] == "Bearer"
    assert_openai_error(post(api, "/chat/completions", {"model": MODEL_ID, "messages": [user_says(QUESTION)]},
                             token="cm-not-a-token"), 401, "invalid_api_key")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=url, api_key="cm-wrong", max_retries=0).models.list()


def test_a_revoked_token_is_refused_at_once(api):
    _, tokens, settings = api
    assert client(api, "revoked").models.list()
    token_store(settings.home).revoke("revoked")
    assert_openai_error(httpx.get(f"{api[0]}/models", headers={"Authorization": f"Bearer {tokens['revoked']}"}),
                        401, "invalid_api_key")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"model": MODEL_ID, "messages": [user_says("x" * 4001)]}, 400, "message_too_long"),
        ({"model": MODEL_ID, "messages": [user_says("what is relu?")] * 41}, 400, "too_many_messages"),
        ({"model": MODEL_ID, "messages": []}, 400, "invalid_messages"),
        ({"model": MODEL_ID, "messages": [{"role": "assistant", "content": "hello"}]}, 400, "invalid_messages"),
        ({"model": MODEL_ID, "messages": [user_says("   ")]}, 400, "invalid_message"),
        ({"model": MODEL_ID, "messages": [{"role": "user", "content": 42}]}, 400, "invalid_messages"),
        ({"model": MODEL_ID, "messages": [user_says(QUESTION)], "stream": "yes"}, 400, "invalid_stream"),
        ({"model": "gpt-4o", "messages": [user_says(QUESTION)]}, 404, "model_not_found"),
        (b"{not json", 400, "invalid_json"),
        (b"x" * 2_000_000, 413, "request_too_large"),
    ],
    ids=["long-message", "long-history", "no-messages", "no-user-message", "blank", "bad-content", "bad-stream",
         "other-model",
         "not-json", "huge-body"],
)
def test_bad_requests_get_one_clear_error(api, body, status, code):
    assert_openai_error(post(api, "/chat/completions", body), status, code)


def test_a_flood_gets_429_for_that_user_only(api):
    url, tokens, _ = api
    headers = {"Authorization": f"Bearer {tokens['flood']}"}
    statuses = [httpx.get(f"{url}/models", headers=headers, timeout=30).status_code for _ in range(PER_MINUTE + 3)]

    assert statuses[:PER_MINUTE] == [200] * PER_MINUTE and statuses[PER_MINUTE:] == [429] * 3
    limited = httpx.get(f"{url}/models", headers=headers, timeout=30)
    assert_openai_error(limited, 429, "rate_limit_exceeded")
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    assert client(api, "alice").models.list()  # another user is not limited


def test_search_returns_the_hits_as_json(api):
    response = post(api, "/search", {"query": "lstm forget gate", "k": 3})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert len(hits) == 3 and hits[0]["doc_id"] == "post-lstm-one-pager" and hits[0]["chunk_id"]
    assert_openai_error(post(api, "/search", {"query": "relu", "k": 0}), 400, "invalid_k")
    assert_openai_error(post(api, "/search", {"query": "relu", "mode": "fuzzy"}), 400, "invalid_mode")
    assert_openai_error(post(api, "/search", {"query": "relu"}, token=None), 401, "invalid_api_key")


# ------------------------------------------------------------------ the parts


def test_rate_limiter_window_slides():
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    limiter.check("a")
    limiter.check("a")
    limiter.check("b")
    with pytest.raises(Exception, match="at most 2 requests per minute"):
        limiter.check("a")
    now[0] = 59.0
    with pytest.raises(Exception, match="retry in 2 s"):
        limiter.check("a")
    now[0] = 60.0
    limiter.check("a")  # the first request left the window


def test_without_auth_no_token_is_needed_and_each_address_has_its_limit(small_notes_index, tmp_path):
    from coursemate.ui.services import Services

    settings = small_notes_index.settings.replace(home=tmp_path, runs_dir=tmp_path / "runs", api_requests_per_minute=2)
    api = Api(Services(settings, small_notes_index), require_token=False)

    def request(address: str) -> Request:
        return Request({"type": "http", "headers": [], "client": (address, 50000)})

    assert [api.caller(request("10.0.0.1")) for _ in range(2)] == [None, None]
    with pytest.raises(ApiError) as refused:
        api.caller(request("10.0.0.1"))
    assert refused.value.status == 429
    assert api.caller(request("10.0.0.2")) is None


def test_token_store_keeps_only_hashes(tmp_path):
    store = token_store(tmp_path)
    token = store.create("alice")
    text = (tmp_path / "api_tokens.json").read_text()
    assert token not in text and store.user_for(token) == "alice" and store.user_for(token + "x") is None
    assert (tmp_path / "api_tokens.json").stat().st_mode & 0o077 == 0  # owner only
    assert store.revoke("alice") == 1 and store.user_for(token) is None
