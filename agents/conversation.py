"""Conversations: per-id multi-turn history, and follow-up questions resolved against it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from coursemate.errors import CoursemateError
from coursemate.io import atomic_write_json
from coursemate.state import StateStore
from coursemate.tools.grounding.questions import analyze

_POINTERS = re.compile(
    r"\b(it|its|it's|itself|they|them|their|theirs|themselves|these|those|he|she|his|her)\b"
    r"|(?:^|\b(?:for|of|in|on|about|with|to|from|by|at|use|used|does|do|is|are|set|choose|pick|get)\s+)"
    r"(?:that|this)\s+(?!is\b|was\b|are\b|does\b|do\b|means?\b)[a-z]"
    r"|\bthe (?:above|previous|same|former|latter)\b|\bthere\W*$|^\W*(?:why|how) (?:is|was) (?:this|that)\b",
    re.I,
)
_CONTINUATIONS = re.compile(
    r"^\W*(?:and|also|but|so|then|what about|how about|what else|anything else|how so|in what way|more|"
    r"explain (?:more|further)|for example|an example|example|why\W*$|how\W*$|really\W*$)\b",
    re.I,
)
HISTORY_TURNS = 3
_JOINERS = frozenset({"of", "the", "a", "an", "in", "for", "and"})
_CLAUSE_SUBJECT = re.compile(r"\b(?:so|so that|because|when|if|until|while|since|once|and|but)\s+(it|they)\b", re.I)
_ABOUT = re.compile(r"^\W*(?:and |but )?(?:what|how) about (.+?)\W*$", re.I)
_DEFINITE = re.compile(r"\b(?:the|we|our)\b", re.I)  # "what is the margin for?", "why do we pool the gradients?"
_STEM = 5  # words compared by their first letters ("gradients" names "gradient")
_ARTICLE = re.compile(r"\b(an?) $", re.I)  # the article right before a topic: "What does an |LSTM cell do?"
_PLURAL = re.compile(r"(?<![siu])s$")  # "GRUs", "transformers"; not "loss", "focus", "analysis"
_HAS_ARTICLE = re.compile(r"^(?:an?|the)\s", re.I)
_VOWEL_SOUND = re.compile(r"[aeiou]|[AEFHILMNORSX](?:[A-Z]|\b)")  # "an encoder", "an LSTM", "an RNN"; "a GRU"
_SINGULAR_VERB = re.compile(r"\b(does|is|was|has) $", re.I)  # right before a plural topic, its article dropped
_PLURAL_OF = {"does": "do", "is": "are", "was": "were", "has": "have"}
_POINTER_WORD = re.compile(r"\b(?:it|its|itself|they|them|their)\b", re.I)
_DEMONSTRATIVE = re.compile(
    r"\b(that|this|these|those|the same)\s+(?!is\b|was\b|are\b|were\b|does\b|do\b|did\b|has\b|have\b|can\b|will\b"
    r"|would\b|should\b|means?\b|one\b)(?=[a-z])", re.I)


@dataclass
class Turn:
    """One question and what the conversation keeps of its answer: the text, and the whole answer as the UI shows
    and exports it (``Answer.to_dict()``, empty when nobody needs it)."""

    question: str
    resolved_question: str
    answer: str
    record: dict[str, Any] = field(default_factory=dict)


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
    """Conversations by id, kept in a :class:`~coursemate.state.StateStore`; each id has its own history, never
    shared with another.

    Bounded: at most ``max_conversations`` are kept (the least recently used goes first), and one left idle
    for ``idle_seconds`` is forgotten, so the store stays flat however many browser sessions come and go.
    ``state``: the store (default: in memory, gone with the process; the UI passes the home's, so conversations
    survive a restart). ``clock``: wall-clock seconds, injectable for tests.
    """

    def __init__(self, state: StateStore | None = None, max_conversations: int = 500, idle_seconds: float = 3600.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.state = state or StateStore()
        self.max_conversations = max_conversations
        self.idle_seconds = idle_seconds
        self._clock = clock

    def get(self, conversation_id: str) -> Conversation:
        """The conversation ``conversation_id`` as it stands (empty the first time or after it expired); marks it
        used."""
        turns = self.state.use_conversation(conversation_id, self._clock(), self.max_conversations, self.idle_seconds)
        return Conversation(conversation_id, [Turn(**turn) for turn in turns])

    def add(self, conversation_id: str, turn: Turn, user: str | None = None) -> None:
        """Append ``turn`` to the conversation of ``user`` (None: the machine's owner), in one transaction."""
        fields_of_turn = {f.name: getattr(turn, f.name) for f in fields(turn)}  # as asdict, without copying the record
        self.state.add_turn(conversation_id, user, fields_of_turn, self._clock())

    def replay(self, conversation_id: str, exchanges: Iterable[tuple[str, str]], user: str | None = None) -> None:
        """Add the ``(question, answer)`` exchanges of a history kept elsewhere (an API client's messages) as turns
        of ``conversation_id``, each follow-up resolved against the turns before it as if asked here."""
        for question, answer in exchanges:
            conversation = self.get(conversation_id)
            self.add(conversation_id, Turn(question, resolve_follow_up(question, conversation), answer), user)

    def reset(self, conversation_id: str) -> None:
        """Forget the history of ``conversation_id``."""
        self.state.forget_conversation(conversation_id)

    def ids(self) -> list[str]:
        """The ids kept now, least recently used first."""
        self.state.forget_idle_conversations(self._clock() - self.idle_seconds)
        return self.state.conversation_ids()


def is_follow_up(question: str) -> bool:
    """Whether ``question`` leans on earlier turns: it opens as a continuation ("and ...", "what about ...") or
    points back with a pronoun ("it", "they", "the previous"). A short question that names its own topic
    ("Summarize session 5", "What does the forget gate do?") stands alone, and so does one whose pronoun follows a
    term it names itself ("how do I train a CNN so it stops overfitting?")."""
    if _CONTINUATIONS.search(question):
        return True
    pointer = _POINTERS.search(question)
    own = _CLAUSE_SUBJECT.search(question)  # "... a CNN so it stops ...": the pronoun's noun comes before it
    return bool(pointer) and not (own and own.start(1) == pointer.start() and analyze(question[:own.start()]).specific)


def resolve_follow_up(question: str, conversation: Conversation) -> str:
    """The question to answer: a follow-up is rewritten to name the previous question's topic.

    "why are they needed?" after "What do the gates of an LSTM do?" becomes "why are the gates of an LSTM needed?";
    "what value is used for that small slope?" after "What is leaky ReLU?" becomes "what value is used for the
    small slope of leaky ReLU?"; "what about GRUs?" after "What does an LSTM cell do?" becomes "What do GRUs do?".
    A follow-up with nothing to replace gets the topic in parentheses.
    """
    if not conversation.turns:
        return question
    previous = conversation.turns[-1].resolved_question
    topic = topic_phrase(previous)
    if not topic:
        return question
    if not is_follow_up(question):
        continues = _continues_topic(question, conversation.turns[-1], topic)
        return f"{question.rstrip()} ({topic})" if continues else question
    about = _ABOUT.match(question)
    if about and topic in previous:
        return _swap_topic(previous, topic, about.group(1).strip())
    pointer = _POINTER_WORD.search(question)
    if pointer:
        word = pointer.group(0).lower()
        name = f"{topic}'s" if word in ("its", "their") else topic
        return question[:pointer.start()] + name + question[pointer.end():]
    demonstrative = _DEMONSTRATIVE.search(question)
    if demonstrative:
        start, end = demonstrative.span(1)
        phrase_end = _phrase_end(question, end)
        return f"{question[:start]}the{question[end:phrase_end]} of {topic}{question[phrase_end:]}"
    return f"{question.rstrip()} ({topic})"


def _swap_topic(question: str, topic: str, other: str) -> str:
    """``question`` asked of ``other`` instead of ``topic``, its article and verb made to fit: "What does an LSTM
    cell do?" asked of "GRUs" is "What do GRUs do?", of "a GRU" "What does a GRU do?"."""
    start = question.index(topic)
    before, after = question[:start], question[start + len(topic):]
    plural = bool(_PLURAL.search(other))
    article = _ARTICLE.search(before)
    if article:
        fitting = "" if plural or _HAS_ARTICLE.match(other) else ("an " if _VOWEL_SOUND.match(other) else "a ")
        before = before[:article.start(1)] + (fitting if article.group(1).islower() else fitting.capitalize())
    verb = _SINGULAR_VERB.search(before)
    if verb and plural:
        word = _PLURAL_OF[verb.group(1).lower()]
        word = word if verb.group(1).islower() else word.capitalize()
        before = before[:verb.start(1)] + word + before[verb.end(1):]
    return before + other + after


def _continues_topic(question: str, previous: Turn, topic: str) -> bool:
    """Whether a question without a pronoun still asks about the previous topic: it names something definite ("the
    margin", "we pool the gradients") that the previous answer's passages name, and nothing they do not."""
    passages = [c.get("text", "") for c in previous.record.get("citations", [])]
    if not _DEFINITE.search(question) or not passages:
        return False
    focus = analyze(question).focus
    if not focus or any(word in topic.lower() for word in focus):
        return False
    said = {word[:_STEM] for text in passages for word in re.findall(r"[a-z0-9]+", text.lower())}
    return all(word[:_STEM] in said for word in focus)


def topic_phrase(question: str) -> str:
    """What ``question`` is about: its first run of content words, joined through "of", "the", "a"... ("the gates
    of an LSTM", "leaky ReLU", "batch normalization")."""
    focus = set(analyze(question).focus)
    words = list(re.finditer(r"[A-Za-z0-9][\w'-]*", question))
    start = next((i for i, w in enumerate(words) if w.group().lower() in focus), None)
    if start is None:
        return ""
    end = start
    for i in range(start + 1, len(words)):
        word = words[i].group().lower()
        if word in focus:
            end = i
        elif word not in _JOINERS:
            break
    head = start - 1 if start > 0 and words[start - 1].group().lower() in ("the",) else start
    return question[words[head].start():words[end].end()]


def _phrase_end(text: str, start: int) -> int:
    """Where the noun phrase that begins at ``start`` ends: before the next preposition, verb-like word or mark."""
    stop = re.compile(r"\s+(?:is|are|was|were|do|does|did|in|for|of|on|to|with|when|that|and|or)\b|[?.,!;:]")
    match = stop.search(text, start)
    return match.start() if match else len(text)


def save_conversation(path: str | Path, conversation_id: str | None, turns: list[dict[str, Any]]) -> Path:
    """Write a conversation (every answer as a dict, with citations and trace) as JSON, atomically; its path."""
    path = Path(path).expanduser()
    payload = {"conversation_id": conversation_id, "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "turns": turns}
    try:
        atomic_write_json(path, payload)
    except OSError as exc:
        raise CoursemateError(f"could not write {path}: {exc}") from exc
    return path
