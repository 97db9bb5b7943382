"""What :meth:`agents.assistant.CourseAssistant.stream` yields while it answers, one small type per kind, and the
records they carry (:class:`Answer`, :class:`ToolResult`, :class:`PendingAction`).

>>> for event in assistant.stream("summarize session 3"):
...     if isinstance(event, AnswerEvent):
...         print(event.answer.answer)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from coursemate.agents.trace import Trace
from coursemate.tools.grounding.citations import Citation
from coursemate.tools.grounding.verify import SentenceSupport


@dataclass(frozen=True)
class StepEvent:
    """A trace step that just ended (a tool call with its arguments, a search, an agent step...), as a dict."""

    step: dict[str, Any]


@dataclass(frozen=True)
class TokenEvent:
    """A piece of the answer as the model writes it."""

    text: str


@dataclass(frozen=True)
class ToolResult:
    """What an intent called for a chat request returned (see :mod:`agents.intents`).

    ``intent``: the router's intent (train, run_status, compare_runs, summarize, spell, ...; ``clarify`` and
    ``error`` when the request needs more or is invalid); ``tool``: the tool's name (empty for clarify/error);
    ``arguments``: what it was called with; ``text``: the plain-text result (the answer's text, as the terminal
    shows it); ``markdown``: the result as the chat shows it; ``data``: the structured result (run id, comparison
    rows, spelling changes...).
    """

    intent: str
    tool: str
    arguments: dict[str, Any]
    text: str
    markdown: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "tool": self.tool, "arguments": self.arguments, "text": self.text,
                "markdown": self.markdown, "data": self.data}


@dataclass(frozen=True)
class PendingAction:
    """An action a request proposed instead of carrying out (it starts or stops runs, and the request was not an
    explicit command): ``prompt`` asks for the confirmation ("Start a run: resnet18 on digits, 2 epochs, batch
    64?") and ``label`` names its button ("Start"); :meth:`agents.assistant.CourseAssistant.confirm` carries it
    out with ``arguments``."""

    intent: str
    tool: str
    arguments: dict[str, Any]
    prompt: str
    label: str = "Yes"

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "tool": self.tool, "arguments": self.arguments, "prompt": self.prompt,
                "label": self.label}


@dataclass
class Answer:
    """An answer with its citations, the model that wrote it, and the trace of how it was made.

    ``mode`` says how: extractive | agent | grounded | passages (quoted passages) | not_in_notes | tool (a tool's
    result, ``tool_result``) | clarify (the request needs more) | error (an invalid request) | confirm (an action
    that waits for a confirmation, ``pending``: see :meth:`CourseAssistant.confirm`).
    ``sentences``: each sentence of a generated answer with the passages that support it (``supported=False``
    when none does); ``extractive``: the extractive answer shown beside an agent answer with unsupported sentences.
    """

    question: str
    answer: str
    citations: list[Citation]
    model: str
    mode: str
    conversation_id: str
    covered: bool
    did_you_mean: str | None = None
    notice: str | None = None
    sentences: list[SentenceSupport] = field(default_factory=list)
    extractive: str | None = None
    trace: Trace = field(default_factory=lambda: Trace("", ""))
    tool_result: ToolResult | None = None
    pending: PendingAction | None = None

    @property
    def steps(self) -> list[dict[str, Any]]:
        """The trace's steps as dicts (tool calls with arguments, retrieved chunk ids, timings)."""
        return [s.to_dict() for s in self.trace.steps]

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "model": self.model,
            "mode": self.mode,
            "conversation_id": self.conversation_id,
            "covered": self.covered,
            "did_you_mean": self.did_you_mean,
            "notice": self.notice,
            "sentences": [s.to_dict() for s in self.sentences],
            "extractive": self.extractive,
            "tool_result": self.tool_result.to_dict() if self.tool_result else None,
            "pending": self.pending.to_dict() if self.pending else None,
            "steps": self.steps,
            "trace": self.trace.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class ToolResultEvent:
    """A tool called for the request (by the offline router) has returned."""

    result: ToolResult


@dataclass(frozen=True)
class AnswerEvent:
    """The last event: the whole answer."""

    answer: Answer


Event = StepEvent | TokenEvent | ToolResultEvent | AnswerEvent
