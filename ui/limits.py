"""What one request may send, checked before the app reads it: the body size, from the chat's own limits.

The chat checks a message and its history against ``max_message_chars`` and ``max_history_messages``
(:func:`ui.chat.check_history`); :class:`BodyLimit` refuses, with HTTP 413 and before reading it, any request body
larger than a full history and message could be (:func:`max_request_bytes`), so a 20 MB history is never parsed.
Uploads have their own limit, ``max_file_size`` (Gradio's upload route).
"""

from __future__ import annotations

from coursemate.config import Settings

HISTORY_CHARS_PER_MESSAGE = 20_000  # an answer with its links is a few thousand characters, a step at most 2,000
BYTES_PER_CHAR = 4  # UTF-8's longest character (JSON escapes of quotes and newlines take 2)
OTHER_FIELDS_BYTES = 64 * 1024  # the rest of a request: the event's other inputs, ids


def max_request_bytes(settings: Settings) -> int:
    """The largest body a request needs: a full chat history and message, plus room for everything else."""
    chars = settings.max_history_messages * HISTORY_CHARS_PER_MESSAGE + settings.max_message_chars
    return BYTES_PER_CHAR * chars + OTHER_FIELDS_BYTES


class BodyLimit:
    """ASGI middleware: HTTP 413 for a request body over ``max_bytes`` (uploads and the /v1 API, which bounds its
    own bodies, excepted), told by its
    Content-Length before anything is read, or cut off once that much arrived when it is sent in chunks."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.rstrip("/").endswith("/upload") or path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, send) -> None:
        text = (f"the request is larger than {self.max_bytes:,} bytes, more than a chat message and its history "
                "may be (max_message_chars, max_history_messages)").encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(text)).encode())]})
        await send({"type": "http.response.body", "body": text})
