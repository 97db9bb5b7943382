"""What :meth:`agents.assistant.CourseAssistant.stream` yields while it answers, one small type per kind.

>>> for event in assistant.stream("summarize session 3"):
...     if isinstance(event, AnswerEvent):
...         print(event.answer.answer)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coursemate.agents.assistant import Answer


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


@dataclass(frozen=True)
class ToolResultEvent:
    """A tool called for the request (by the offline router) has returned."""

    result: ToolResult


@dataclass(frozen=True)
class AnswerEvent:
    """The last event: the whole answer."""

    answer: Answer


Event = StepEvent | TokenEvent | ToolResultEvent | AnswerEvent
