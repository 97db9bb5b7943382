"""Bearer tokens of the ``/v1`` API: one or more per user, stored hashed in ``HOME/api_tokens.json``.

``coursemate token create USER`` prints a new token once; only its SHA-256 is kept (a token is 32 random bytes, so
a plain hash cannot be searched back). The server reads the file on every request, so a token created or revoked
while it runs counts at once. The file is written atomically, readable by its owner only.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from coursemate.errors import CoursemateError
from coursemate.io import atomic_write_json

TOKEN_PREFIX = "cm-"
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


@dataclass(frozen=True)
class TokenRecord:
    """A token as stored: its ``user``, a short ``id`` to name it by (the hash's first 8 digits), its
    ``sha256`` and when it was ``created``."""

    id: str
    user: str
    sha256: str
    created: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """The API tokens kept in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def records(self) -> list[TokenRecord]:
        """Every stored token (none when the file does not exist); CoursemateError when it is damaged."""
        if not self.path.exists():
            return []
        try:
            return [TokenRecord(**row) for row in json.loads(self.path.read_text(encoding="utf-8"))["tokens"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CoursemateError(f"the token file {self.path} is damaged ({exc}); remove it and create "
                                  "the tokens again with: coursemate token create USER") from None

    def create(self, user: str) -> str:
        """A new token for ``user`` (returned once, stored hashed)."""
        if not USER_NAME.fullmatch(user or ""):
            raise CoursemateError(f"user names are 1-64 letters, digits, '.', '_', '@' or '-'; got {user!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = _digest(token)
        record = TokenRecord(digest[:8], user, digest, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self._write([*self.records(), record])
        return token

    def revoke(self, name: str) -> int:
        """Remove the tokens of the user ``name``, or the one token whose id is ``name``; how many were removed."""
        records = self.records()
        kept = [r for r in records if name not in (r.user, r.id)]
        if len(kept) == len(records):
            raise CoursemateError(f"no token of a user or with an id {name!r} (see: coursemate token list)")
        self._write(kept)
        return len(records) - len(kept)

    def user_for(self, token: str) -> str | None:
        """The user ``token`` belongs to, or None when it is not a stored token."""
        digest = _digest(token)
        return next((r.user for r in self.records() if secrets.compare_digest(r.sha256, digest)), None)

    def _write(self, records: list[TokenRecord]) -> None:
        atomic_write_json(self.path, {"tokens": [asdict(r) for r in records]})  # mkstemp: owner-only (0600)


def token_store(home: Path) -> TokenStore:
    """The token store of the coursemate home ``home``."""
    return TokenStore(Path(home) / "api_tokens.json")
