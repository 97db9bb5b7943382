"""The OpenAI-compatible API on the UI's server, so other tools (a forum bot, an LMS plug-in, Open WebUI,
LibreChat, the ``openai`` client) can use the assistant:

- ``GET /v1/models``: the one model, ``coursemate``;
- ``POST /v1/chat/completions``: the last user message answered as the chat answers it (routing, citations,
  "not in the notes", a proposal rather than a run for a request that is not an explicit command), the earlier
  user and assistant messages being the conversation's history (system messages are not read: the assistant's
  own prompts apply). ``"stream": true`` sends Server-Sent Events: a comment line per step while it works, then
  the answer in pieces once its citations are checked. The Markdown carries the ``[n]`` markers and a Sources
  list; the extra field ``coursemate`` (on the completion, or on the last chunk) holds ``sources`` (the cited
  passages: n, chunk_id, doc_id, title, section, text, ranks), ``mode``, ``answered_by``, ``resolved_question``
  (a follow-up as it was read), ``covered``,
  ``did_you_mean``, ``notice``, ``pending`` (a proposed action) and ``tool_result``;
- ``POST /v1/search`` with ``{"query", "k", "mode"}``: the hits, as ``coursemate search --json`` prints them.

With ``--auth`` every request needs ``Authorization: Bearer TOKEN`` (``coursemate token create USER``); the runs a
request starts belong to that user. Requests are bounded (``max_message_chars`` per user message,
``max_history_messages``, the body size) and rate-limited per user (per client address without ``--auth``):
``api_requests_per_minute``. Errors have OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute

from coursemate.agents.events import AnswerEvent, Event, StepEvent
from coursemate.config import SEARCH_MODES, Settings
from coursemate.errors import CoursemateError
from coursemate.tools.grounding.render import sources_markdown
from coursemate.ui.chat import check_message
from coursemate.ui.errors import user_message
from coursemate.ui.services import Services
from coursemate.ui.tokens import token_store

MODEL_ID = "coursemate"
NOT_DONE = ("Nothing was done yet: confirm it in the coursemate chat, or send it as a command, for example "
            '"train resnet18 on digits for 2 epochs".')
BYTES_PER_CHAR = 8  # body limit per allowed character: JSON escapes and multi-byte UTF-8 with room to spare
MAX_SEARCH_HITS = 50
_PIECE = re.compile(r"\s*\S+")  # a streamed piece: a word with the blanks before it


class ApiError(Exception):
    """A request the API refuses: an HTTP status and an OpenAI-style error body."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.headers = status, message, kind, code, headers

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": None, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


class RateLimiter:
    """At most ``per_minute`` requests per key in any 60 seconds (a sliding window; ``clock`` injectable)."""

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        """Count a request of ``key``; ApiError 429 (with Retry-After) when it is one too many."""
        with self._lock:
            now = self._clock()
            times = self._times.setdefault(key, deque())
            while times and now - times[0] >= 60:
                times.popleft()
            if len(times) >= self.per_minute:
                wait = max(1, int(60 - (now - times[0])) + 1)
                raise ApiError(429, f"rate limit reached: at most {self.per_minute} requests per minute; "
                               f"retry in {wait} s", "rate_limit_error", "rate_limit_exceeded",
                               {"Retry-After": str(wait)})
            times.append(now)
            if len(self._times) > 1000:  # forget the keys idle for a minute
                self._times = {k: v for k, v in self._times.items() if v and now - v[-1] < 60}


class Api:
    """The handlers, over one app's services."""

    def __init__(self, services: Services, require_token: bool) -> None:
        self.services = services
        self.settings: Settings = services.settings
        self.require_token = require_token
        self.tokens = token_store(self.settings.home)
        self.limiter = RateLimiter(self.settings.api_requests_per_minute)
        self.created = int(time.time())

    # ------------------------------------------------------------------ checks
    def caller(self, request: Request) -> str | None:
        """The token's user (None without ``--auth``), after the rate limit; ApiError 401 or 429."""
        user = None
        if self.require_token:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise _unauthorized("missing API token: send the header Authorization: Bearer TOKEN "
                                    "(create one with: coursemate token create USER)")
            try:
                user = self.tokens.user_for(token.strip())
            except CoursemateError as exc:
                raise ApiError(500, str(exc), "server_error") from None
            if user is None:
                raise _unauthorized("invalid API token (create one with: coursemate token create USER)")
        self.limiter.check(f"user {user}" if user else f"address {request.client.host if request.client else '?'}")
        return user

    async def read_json(self, request: Request) -> dict[str, Any]:
        """The request's JSON object, read up to the body limit; ApiError 413 or 400."""
        limit = self.settings.max_history_messages * self.settings.max_message_chars * BYTES_PER_CHAR + 65536
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise ApiError(413, f"the request body is over {limit:,} bytes", code="request_too_large")
        try:
            value = json.loads(body)
        except ValueError:
            raise ApiError(400, "the request body is not valid JSON", code="invalid_json") from None
        if not isinstance(value, dict):
            raise ApiError(400, "the request body must be a JSON object", code="invalid_json")
        return value

    def chat_request(self, body: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bool]:
        """``(question, earlier (question, answer) exchanges, stream)`` of a chat completion request."""
        if body.get("model", MODEL_ID) != MODEL_ID:
            raise ApiError(404, f"the model {body.get('model')!r} does not exist; use {MODEL_ID!r}",
                           code="model_not_found")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(400, "messages must be a non-empty list of {role, content}", code="invalid_messages")
        if len(messages) > self.settings.max_history_messages:
            raise ApiError(400, f"{len(messages)} messages: at most {self.settings.max_history_messages} per request "
                                "(send the latest ones)", code="too_many_messages")
        turns = [(role, _text(m)) for m in messages if (role := _role(m)) in ("user", "assistant")]
        if not turns or turns[-1][0] != "user":
            raise ApiError(400, "the last message must be the user's", code="invalid_messages")
        for role, text in turns:
            if role == "user" and len(text) > self.settings.max_message_chars:
                raise ApiError(400, f"a message is {len(text):,} characters long; the limit is "
                                    f"{self.settings.max_message_chars:,}", code="message_too_long")
        try:
            question = check_message(turns[-1][1], self.settings)
        except CoursemateError as exc:
            raise ApiError(400, str(exc), code="invalid_message") from None
        exchanges: list[tuple[str, str]] = []
        for role, text in turns[:-1]:
            if role == "user":
                exchanges.append((text, ""))
            elif exchanges and not exchanges[-1][1]:
                exchanges[-1] = (exchanges[-1][0], text[: self.settings.max_message_chars])
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise ApiError(400, f"stream must be true or false; got {stream!r}", code="invalid_stream")
        return question, exchanges, stream

    # ------------------------------------------------------------------ answers
    def events(self, question: str, exchanges: list[tuple[str, str]], user: str | None) -> Iterator[Event]:
        """The assistant's events for ``question`` in a conversation made of ``exchanges`` (forgotten after)."""
        assistant = self.services.assistant()
        conversation_id = f"api-{uuid.uuid4().hex}"
        assistant.conversations.replay(conversation_id, exchanges, user)
        try:
            yield from assistant.stream(question, conversation_id, user=user)
        finally:
            assistant.conversations.reset(conversation_id)

    def answer(self, question: str, exchanges: list[tuple[str, str]], user: str | None):
        for event in self.events(question, exchanges, user):
            if isinstance(event, AnswerEvent):
                return event.answer
        raise AssertionError("stream() always ends with an answer event")

    def sse(self, question: str, exchanges: list[tuple[str, str]], user: str | None) -> Iterator[str]:
        """Server-Sent Events of one streamed completion: a comment per step, the answer's pieces, [DONE]."""
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            payload = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                       "model": MODEL_ID, "choices": [choice], **extra}
            return f"data: {json.dumps(payload, ensure_ascii=False, default=str)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        try:
            for event in self.events(question, exchanges, user):
                if isinstance(event, StepEvent):
                    yield f": {event.step.get('kind', 'step')} {event.step.get('name', '')}\n\n"
                elif isinstance(event, AnswerEvent):
                    for piece in _PIECE.findall(answer_markdown(event.answer)):
                        yield chunk({"content": piece})
                    yield chunk({}, "stop", coursemate=answer_extra(event.answer))
        except Exception as exc:  # noqa: BLE001 - the stream ends with an error event, the server keeps serving
            kind, status = ("invalid_request_error", 400) if isinstance(exc, CoursemateError) else ("server_error", 500)
            yield f"data: {json.dumps(ApiError(status, user_message(exc), kind).body())}\n\n"
        yield "data: [DONE]\n\n"

    def completion(self, answer) -> dict[str, Any]:
        message = {"role": "assistant", "content": answer_markdown(answer)}
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": MODEL_ID, "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "coursemate": answer_extra(answer)}

    # ------------------------------------------------------------------ routes
    async def models(self, request: Request) -> Response:
        try:
            self.caller(request)
        except ApiError as exc:
            return exc.response()
        model = {"id": MODEL_ID, "object": "model", "created": self.created, "owned_by": "coursemate"}
        return JSONResponse({"object": "list", "data": [model]})

    async def chat_completions(self, request: Request) -> Response:
        try:
            user = self.caller(request)
            question, exchanges, stream = self.chat_request(await self.read_json(request))
        except ApiError as exc:
            return exc.response()
        if stream:
            return StreamingResponse(self.sse(question, exchanges, user), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache"})
        try:
            answer = await run_in_threadpool(self.answer, question, exchanges, user)
        except CoursemateError as exc:
            return ApiError(400, str(exc)).response()
        except Exception as exc:  # noqa: BLE001 - one failed answer, never a dead server
            return ApiError(500, user_message(exc), "server_error").response()
        return JSONResponse(self.completion(answer))

    async def search(self, request: Request) -> Response:
        try:
            self.caller(request)
            body = await self.read_json(request)
            query, k, mode = body.get("query"), body.get("k", 5), body.get("mode", "hybrid")
            if not isinstance(query, str) or len(query) > self.settings.max_message_chars:
                raise ApiError(400, f"query must be a string of at most {self.settings.max_message_chars:,} "
                                    "characters", code="invalid_query")
            if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_SEARCH_HITS:
                raise ApiError(400, f"k must be an integer from 1 to {MAX_SEARCH_HITS}; got {k!r}", code="invalid_k")
            if mode not in SEARCH_MODES:
                raise ApiError(400, f"mode must be one of {', '.join(SEARCH_MODES)}; got {mode!r}", code="invalid_mode")
            results = await run_in_threadpool(self.services.index.search, query, k=k, mode=mode)
        except ApiError as exc:
            return exc.response()
        except CoursemateError as exc:
            return ApiError(400, str(exc), code="invalid_query").response()
        return JSONResponse(results.to_dict())


def api_routes(services: Services, require_token: bool) -> list[APIRoute]:
    """The ``/v1`` routes over ``services``; ``require_token``: every request needs a user's bearer token."""
    api = Api(services, require_token)
    router = APIRouter(prefix="/v1")
    router.add_api_route("/models", api.models, methods=["GET"])
    router.add_api_route("/chat/completions", api.chat_completions, methods=["POST"])
    router.add_api_route("/search", api.search, methods=["POST"])
    return list(router.routes)


def answer_markdown(answer) -> str:
    """The answer as an API client shows it: "did you mean", the text with its ``[n]`` markers (a sentence no
    passage supports is flagged), what the notes say beside it, how to carry out a proposed action, the notice and
    the Sources list."""
    text = answer.tool_result.markdown if answer.tool_result else answer.answer
    for sentence in (s.text for s in answer.sentences if not s.supported):
        text = text.replace(sentence, f"{sentence} *(not in the notes)*", 1)
    parts = [f"*Did you mean: {answer.did_you_mean}?*" if answer.did_you_mean else "", text,
             f"**What the notes say:** {answer.extractive}" if answer.extractive else "",
             NOT_DONE if answer.pending else "", f"> {answer.notice}" if answer.notice else "",
             sources_markdown(answer.citations)]
    return "\n\n".join(p for p in parts if p)


def answer_extra(answer) -> dict[str, Any]:
    """The ``coursemate`` field of a completion: the sources and how the answer was made."""
    return {"sources": [c.to_dict() for c in answer.citations], "mode": answer.mode, "answered_by": answer.model,
            "resolved_question": answer.trace.resolved_question or answer.question, "covered": answer.covered,
            "did_you_mean": answer.did_you_mean, "notice": answer.notice,
            "pending": answer.pending.to_dict() if answer.pending else None,
            "tool_result": answer.tool_result.to_dict() if answer.tool_result else None}


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


def _role(message: Any) -> str:
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise ApiError(400, "each message must be an object with a role and a content", code="invalid_messages")
    return message["role"]


def _text(message: dict[str, Any]) -> str:
    """A message's text: its content string, or the text parts of a content list."""
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        return "\n".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    raise ApiError(400, "a message's content must be a string or a list of text parts", code="invalid_messages")
