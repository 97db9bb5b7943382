"""Conversations: per-id multi-turn history, and follow-up questions resolved against it."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursemate.errors import CoursemateError
from coursemate.io import atomic_write_json
from tools.citations import Citation

_POINTERS = re.compile(
    r"\b(it|its|it's|itself|they|them|their|theirs|themselves|these|those|he|she|his|her)\b"
    r"|\bthe (?:above|previous|same|former|latter)\b|\bthere\W*$|^\W*(?:why|how) (?:is|was) (?:this|that)\b",
    re.I,
)
_CONTINUATIONS = re.compile(
    r"^\W*(?:and|also|but|so|then|what about|how about|what else|anything else|how so|in what way|more|"
    r"explain (?:more|further)|for example|an example|example|why\W*$|how\W*$|really\W*$)\b",
    re.I,
)
HISTORY_TURNS = 3


@dataclass
class Turn:
    """One question and what the conversation keeps of its answer: the text, how it was made and its citations."""

    question: str
    resolved_question: str
    answer: str
    mode: str = ""
    citations: list[Citation] = field(default_factory=list)


@dataclass
class Conversation:
    """The turns of one conversation id, in order."""

    conversation_id: str
    turns: list[Turn] = field(default_factory=list)

    def history_text(self, turns: int = HISTORY_TURNS) -> str:
        """The last ``turns`` exchanges as ``User: ... / Assistant: ...`` lines."""
        lines = []
        for turn in self.turns[-turns:]:
            lines.append(f"User: {turn.question}")
            lines.append(f"Assistant: {turn.answer}")
        return "\n".join(lines)


class ConversationStore:
    """Conversations by id; each id has its own history, never shared with another.

    Bounded: at most ``max_conversations`` are kept (the least recently used goes first), and one left idle
    for ``idle_seconds`` is forgotten, so a long-running server's memory stays flat however many browser
    sessions come and go. ``clock`` is injectable for tests.
    """

    def __init__(self, max_conversations: int = 500, idle_seconds: float = 3600.0, clock=time.monotonic) -> None:
        self.max_conversations = max_conversations
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._conversations: OrderedDict[str, tuple[Conversation, float]] = OrderedDict()

    def get(self, conversation_id: str) -> Conversation:
        """The conversation ``conversation_id`` (a new, empty one the first time or after it expired)."""
        with self._lock:
            now = self._clock()
            self._evict_idle(now)
            conversation = self._conversations.pop(conversation_id, (Conversation(conversation_id), now))[0]
            self._conversations[conversation_id] = (conversation, now)
            while len(self._conversations) > self.max_conversations:
                self._conversations.popitem(last=False)
            return conversation

    def reset(self, conversation_id: str) -> None:
        """Forget the history of ``conversation_id``."""
        with self._lock:
            self._conversations.pop(conversation_id, None)

    def ids(self) -> list[str]:
        """The ids kept now, least recently used first."""
        with self._lock:
            self._evict_idle(self._clock())
            return list(self._conversations)

    def _evict_idle(self, now: float) -> None:
        while self._conversations:
            oldest_id, (_, last_used) = next(iter(self._conversations.items()))
            if now - last_used < self.idle_seconds:
                return
            del self._conversations[oldest_id]


def is_follow_up(question: str) -> bool:
    """Whether ``question`` leans on earlier turns: it opens as a continuation ("and ...", "what about ...") or
    points back with a pronoun ("it", "they", "the previous"). A short question that names its own topic
    ("Summarize session 5", "What does the forget gate do?") stands alone."""
    return bool(_CONTINUATIONS.search(question) or _POINTERS.search(question))


def resolve_follow_up(question: str, conversation: Conversation) -> str:
    """The question to search the notes with: a follow-up gets the previous question's topic attached.

    "why are they needed?" after "What do LSTM gates do?" becomes
    "why are they needed? (follow-up to: What do LSTM gates do?)".
    """
    if not conversation.turns or not is_follow_up(question):
        return question
    previous = conversation.turns[-1].resolved_question
    topic = previous.split(" (follow-up to: ")[-1].rstrip(")") if "(follow-up to: " in previous else previous
    return f"{question} (follow-up to: {topic})"


def save_conversation(path: str | Path, conversation_id: str | None, turns: list[dict[str, Any]]) -> Path:
    """Write a conversation (every answer as a dict, with citations and trace) as JSON, atomically; its path."""
    path = Path(path).expanduser()
    payload = {"conversation_id": conversation_id, "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "turns": turns}
    try:
        atomic_write_json(path, payload)
    except OSError as exc:
        raise CoursemateError(f"could not write {path}: {exc}") from exc
    return path
