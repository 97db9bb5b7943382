"""The embedded store of what users leave behind: conversations, study boxes and the instructor's question log.

One SQLite database per home, ``HOME/state.sqlite3``, in WAL mode: readers never wait for the writer, and several
processes serving one home share it (a writer waits up to ``BUSY_SECONDS`` for another). Every change is one
transaction, so a crash leaves each conversation, study card and logged question whole or absent, never half
written (``synchronous=NORMAL``: a power cut may lose the last commits, never corrupt the file).

The store only keeps records; what they mean lives with their users: :mod:`agents.conversation` (turns and
follow-ups), :mod:`tools.study` (Leitner boxes). The question log is typed here (:class:`LoggedQuestion`), for
the instructor's views. ``StateStore()`` without a path is an in-memory store (the Python API and the CLI: a
conversation there ends with the process).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from coursemate.config import Settings
from coursemate.errors import CoursemateError

STATE_FILE = "state.sqlite3"
BUSY_SECONDS = 10.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, user TEXT, last_used REAL NOT NULL, use_order INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_by_use ON conversations (use_order);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE, n INTEGER NOT NULL,
    turn TEXT NOT NULL, PRIMARY KEY (conversation_id, n));
CREATE TABLE IF NOT EXISTS study_users (user TEXT PRIMARY KEY, reviews INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS study_cards (
    user TEXT NOT NULL, item_id TEXT NOT NULL, card TEXT NOT NULL, PRIMARY KEY (user, item_id));
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at REAL NOT NULL, user TEXT, conversation_id TEXT,
    question TEXT NOT NULL, outcome TEXT NOT NULL, coverage REAL, cited_sources TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS questions_by_time ON questions (asked_at);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_OPEN: dict[Path, StateStore] = {}
_OPEN_LOCK = threading.Lock()


@dataclass(frozen=True)
class CitedSource:
    """A passage an answer cited: its chunk, document and where it sits in the notes."""

    chunk_id: str
    doc_id: str
    title: str
    section: str


@dataclass(frozen=True)
class LoggedQuestion:
    """One question a student asked in the chat and how it was answered.

    ``outcome``: the answer's mode (extractive, not_in_notes, tool, ...); ``coverage``: the notes' coverage score of
    the question (None for a request routed to a tool); ``user``: None unless the reader asked for user names."""

    asked_at: datetime
    conversation_id: str
    question: str
    outcome: str
    coverage: float | None
    cited_sources: tuple[CitedSource, ...]
    user: str | None = None


def state_path(settings: Settings) -> Path:
    """The database of ``settings.home``."""
    return settings.home / STATE_FILE


def open_state(settings: Settings) -> StateStore:
    """The store of ``settings.home`` (one connection per home and process, shared by every thread)."""
    path = state_path(settings)
    with _OPEN_LOCK:
        if path not in _OPEN:
            _OPEN[path] = StateStore(path)
        return _OPEN[path]


class StateStore:
    """The records of one SQLite database (``path``; None: in memory), safe to share between threads."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path or ":memory:"), timeout=BUSY_SECONDS, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise CoursemateError(f"the state store {self.path} cannot be opened ({exc}); "
                                  "check that the home is writable and move a damaged file away") from None
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: takes the write lock first, so it never deadlocks)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise CoursemateError(f"the state store {self.path} cannot be written ({exc})") from None
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise CoursemateError(f"the state store {self.path} cannot be written ({exc})") from None

    def _read(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, parameters).fetchall()
            except sqlite3.Error as exc:
                raise CoursemateError(f"the state store {self.path} cannot be read ({exc})") from None

    # ------------------------------------------------------------------------------------------ conversations
    def use_conversation(self, conversation_id: str, now: float, max_conversations: int,
                         idle_seconds: float) -> list[dict[str, Any]]:
        """Mark ``conversation_id`` used at ``now`` and return its turns (none when it is new); conversations idle
        for ``idle_seconds`` are forgotten first, then the least recently used beyond ``max_conversations``."""
        with self._transaction() as db:
            db.execute("DELETE FROM conversations WHERE last_used <= ?", (now - idle_seconds,))
            order = db.execute("SELECT coalesce(max(use_order), 0) + 1 FROM conversations").fetchone()[0]
            db.execute("INSERT INTO conversations (id, user, last_used, use_order) VALUES (?, NULL, ?, ?) "
                       "ON CONFLICT (id) DO UPDATE SET last_used = excluded.last_used, use_order = excluded.use_order",
                       (conversation_id, now, order))
            db.execute("DELETE FROM conversations WHERE id IN (SELECT id FROM conversations ORDER BY use_order DESC "
                       "LIMIT -1 OFFSET ?)", (max_conversations,))
            rows = db.execute("SELECT turn FROM turns WHERE conversation_id = ? ORDER BY n",
                              (conversation_id,)).fetchall()
        return [json.loads(turn) for (turn,) in rows]

    def add_turn(self, conversation_id: str, user: str | None, turn: dict[str, Any], now: float) -> None:
        """Append ``turn`` to the conversation (created if it was forgotten meanwhile), owned by ``user``."""
        with self._transaction() as db:
            order = db.execute("SELECT coalesce(max(use_order), 0) + 1 FROM conversations").fetchone()[0]
            db.execute("INSERT INTO conversations (id, user, last_used, use_order) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (id) DO UPDATE SET user = excluded.user, last_used = excluded.last_used, "
                       "use_order = excluded.use_order", (conversation_id, user, now, order))
            n = db.execute("SELECT coalesce(max(n), 0) + 1 FROM turns WHERE conversation_id = ?",
                           (conversation_id,)).fetchone()[0]
            db.execute("INSERT INTO turns (conversation_id, n, turn) VALUES (?, ?, ?)",
                       (conversation_id, n, json.dumps(turn, ensure_ascii=False, default=str)))

    def conversation(self, conversation_id: str) -> tuple[str | None, list[dict[str, Any]]] | None:
        """``(owner, turns)`` of a kept conversation, read only (None when it is not kept)."""
        owner = self._read("SELECT user FROM conversations WHERE id = ?", (conversation_id,))
        if not owner:
            return None
        rows = self._read("SELECT turn FROM turns WHERE conversation_id = ? ORDER BY n", (conversation_id,))
        return owner[0][0], [json.loads(turn) for (turn,) in rows]

    def forget_conversation(self, conversation_id: str) -> None:
        """Delete a conversation and its turns."""
        with self._transaction() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def forget_idle_conversations(self, before: float) -> None:
        """Delete the conversations last used at or before ``before``."""
        with self._transaction() as db:
            db.execute("DELETE FROM conversations WHERE last_used <= ?", (before,))

    def conversation_ids(self) -> list[str]:
        """The kept conversations, least recently used first."""
        return [i for (i,) in self._read("SELECT id FROM conversations ORDER BY use_order")]

    # ------------------------------------------------------------------------------------------ study boxes
    def study_state(self, user: str) -> tuple[int, dict[str, dict[str, Any]]] | None:
        """``(reviews, cards by item id)`` of ``user``; None for a user who never answered."""
        reviews = self._read("SELECT reviews FROM study_users WHERE user = ?", (user,))
        if not reviews:
            return None
        rows = self._read("SELECT item_id, card FROM study_cards WHERE user = ?", (user,))
        return reviews[0][0], {item_id: json.loads(card) for item_id, card in rows}

    def record_study(self, user: str, item_id: str,
                     update: Callable[[dict[str, Any] | None, int], dict[str, Any]]) -> dict[str, Any]:
        """Count one more review of ``user`` and store ``update(card or None, reviews)`` as the card of
        ``item_id``, in one transaction; the stored card."""
        with self._transaction() as db:
            db.execute("INSERT INTO study_users (user, reviews) VALUES (?, 1) "
                       "ON CONFLICT (user) DO UPDATE SET reviews = reviews + 1", (user,))
            reviews = db.execute("SELECT reviews FROM study_users WHERE user = ?", (user,)).fetchone()[0]
            known = db.execute("SELECT card FROM study_cards WHERE user = ? AND item_id = ?",
                               (user, item_id)).fetchone()
            card = update(json.loads(known[0]) if known else None, reviews)
            db.execute("INSERT OR REPLACE INTO study_cards (user, item_id, card) VALUES (?, ?, ?)",
                       (user, item_id, json.dumps(card, ensure_ascii=False)))
        return card

    def import_study(self, user: str, reviews: int, cards: dict[str, dict[str, Any]]) -> bool:
        """Store the boxes of a user who has none yet (a file of an earlier version); False if they had some."""
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM study_users WHERE user = ?", (user,)).fetchone():
                return False
            db.execute("INSERT INTO study_users (user, reviews) VALUES (?, ?)", (user, reviews))
            db.executemany("INSERT INTO study_cards (user, item_id, card) VALUES (?, ?, ?)",
                           [(user, i, json.dumps(c, ensure_ascii=False)) for i, c in cards.items()])
        return True

    # ------------------------------------------------------------------------------------------ question log
    def log_question(self, user: str | None, conversation_id: str, question: str, outcome: str,
                     coverage: float | None, cited_sources: list[CitedSource], max_logged: int,
                     asked_at: float | None = None) -> None:
        """Log a question the chat answered; only the newest ``max_logged`` questions are kept."""
        sources = json.dumps([asdict(s) for s in cited_sources], ensure_ascii=False)
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO questions (asked_at, user, conversation_id, question, outcome, coverage, cited_sources) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time() if asked_at is None else asked_at, user, conversation_id, question, outcome, coverage,
                 sources))
            db.execute("DELETE FROM questions WHERE id <= ?", (cursor.lastrowid - max_logged,))

    def logged_questions(self, since: datetime | None = None, until: datetime | None = None,
                         with_users: bool = False) -> list[LoggedQuestion]:
        """The questions logged in ``[since, until)`` (both optional), oldest first; user names only when
        ``with_users``."""
        rows = self._read("SELECT asked_at, user, conversation_id, question, outcome, coverage, cited_sources "
                          "FROM questions WHERE asked_at >= ? AND asked_at < ? ORDER BY asked_at, id",
                          _period(since, until))
        return [LoggedQuestion(datetime.fromtimestamp(at, timezone.utc), conversation_id, question, outcome,
                               coverage, tuple(CitedSource(**s) for s in json.loads(sources)),
                               user if with_users else None)
                for at, user, conversation_id, question, outcome, coverage, sources in rows]

    def questions_per_day(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, int]:
        """How many questions were logged each day (UTC, ``YYYY-MM-DD``) of ``[since, until)``."""
        rows = self._read("SELECT date(asked_at, 'unixepoch'), count(*) FROM questions "
                          "WHERE asked_at >= ? AND asked_at < ? GROUP BY 1 ORDER BY 1", _period(since, until))
        return dict(rows)

    # ------------------------------------------------------------------------------------------ secrets
    def secret(self, name: str) -> str:
        """A random secret named ``name``, made once and kept (the same after a restart)."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, secrets.token_hex(16)))
            return db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0]


def _period(since: datetime | None, until: datetime | None) -> tuple[float, float]:
    return (since.timestamp() if since else float("-inf"), until.timestamp() if until else float("inf"))
