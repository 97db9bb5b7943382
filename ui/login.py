"""Who may sign in to the web UI, and how fast: user names checked at start, failed logins slowed down.

``--auth`` users are checked once (:func:`check_users`): a name the machine's owner uses for its own runs
(``local``) cannot be a web login. :class:`LoginGuard` is Gradio's auth callable: after
``FREE_FAILURES`` failed logins of one user name, or from one address, each further attempt must wait twice as
long as the last (1 s, 2 s, 4 s ... up to a minute) and is refused with HTTP 429 before its password is looked at.
The address comes from :class:`ClientAddress`, an ASGI middleware on the app. The state is bounded: at most
``MAX_TRACKED`` user names and addresses, each forgotten ``FORGET_SECONDS`` after its last failure.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from coursemate.errors import CoursemateError
from coursemate.tools.training.manager import LOCAL_OWNER

RESERVED_USERS = frozenset({LOCAL_OWNER})  # names the machine's owner records its own runs under
USER_NAME = re.compile(r"[^\s:]{1,64}")  # no blanks (Gradio strips them), no colon (--auth USER:PASS)
FREE_FAILURES = 5
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0
FAILURE_PAUSE_SECONDS = 0.5  # every wrong password answers this much later (an await: no thread is held)
FORGET_SECONDS = 900.0
MAX_TRACKED = 10_000

CLIENT_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("coursemate_client_address", default=None)


def check_users(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (user, password) pairs, or CoursemateError for a bad or reserved name, an empty password, a repeat."""
    checked = []
    for user, password in pairs:
        if not isinstance(user, str) or not USER_NAME.fullmatch(user):
            raise CoursemateError(f"--auth user name {str(user)[:64]!r} must be 1 to 64 characters "
                                  "without blanks or ':'")
        if user.casefold() in RESERVED_USERS:
            raise CoursemateError(f"--auth user name {user!r} is reserved for the machine's owner (the runs started "
                                  "from the command line); choose another name")
        if not isinstance(password, str) or not password:
            raise CoursemateError(f"--auth user {user!r} needs a non-empty password")
        checked.append((user, password))
    names = [user.casefold() for user, _ in checked]
    if len(set(names)) != len(names):
        raise CoursemateError("--auth names the same user twice")
    return checked


class LoginThrottle:
    """Failed attempts per key; how long a key must still wait before its next attempt."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, time of the last)

    def retry_after(self, key: str) -> float:
        """Seconds ``key`` must still wait (0: it may try now)."""
        count, last = self._failures.get(key, (0, 0.0))
        if count < FREE_FAILURES:
            return 0.0
        delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** (count - FREE_FAILURES))
        return max(0.0, last + delay - self.clock())

    def failed(self, key: str) -> None:
        now = self.clock()
        self._forget_old(now)
        count, _ = self._failures.pop(key, (0, 0.0))
        self._failures[key] = (count + 1, now)
        while len(self._failures) > MAX_TRACKED:
            self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)

    def _forget_old(self, now: float) -> None:
        while self._failures:
            key, (_, last) = next(iter(self._failures.items()))
            if now - last < FORGET_SECONDS:
                return
            del self._failures[key]


class LoginGuard:
    """The users' passwords, compared in constant time, behind a :class:`LoginThrottle` per user name and per
    client address; :meth:`check` is Gradio's ``auth`` callable (a coroutine function, so that Gradio awaits it)."""

    def __init__(self, users: Sequence[tuple[str, str]], throttle: LoginThrottle | None = None) -> None:
        self.passwords = dict(check_users(users))
        self.throttle = throttle or LoginThrottle()

    async def check(self, username: str, password: str) -> bool:
        """Whether the password is the user's; HTTP 429 while the user or the address must wait."""
        from fastapi import HTTPException

        keys = [f"user:{username.casefold()}"]
        address = CLIENT_ADDRESS.get()
        if address:
            keys.append(f"address:{address}")
        wait = max(self.throttle.retry_after(key) for key in keys)
        if wait > 0:
            seconds = math.ceil(wait)
            raise HTTPException(status_code=429, headers={"Retry-After": str(seconds)},
                                detail=f"too many failed logins: try again in {seconds} s")
        known = self.passwords.get(username)
        if known is not None and hmac.compare_digest(password.encode(), known.encode()):
            for key in keys:
                self.throttle.succeeded(key)
            return True
        for key in keys:
            self.throttle.failed(key)
        await asyncio.sleep(FAILURE_PAUSE_SECONDS)
        return False


class ClientAddress:
    """ASGI middleware: the client's address in :data:`CLIENT_ADDRESS` while its request is served."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = CLIENT_ADDRESS.set(client[0] if client else None)
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT_ADDRESS.reset(token)
