"""The chat's intents, one module each: what the offline router can send a request to, and what happens then.

A module ``agents/intents/<name>.py`` holds everything about its intent: the example utterances and keyword cues
the router scores a request against, the extraction of the request's arguments, the call of the domain function
(the run manager, the summarizer, the spelling corrector...) and how the result reads in the chat (Markdown) and
in the terminal (plain text). It exposes ``INTENT``, an :class:`Intent`. :func:`load_intents` imports every
module of this package whose name does not start with "_": adding an intent is adding one file.

>>> intents = load_intents()
>>> intents["train"].arguments("train resnet18 on digits for 2 epochs", [])
{'model': 'resnet18', 'dataset': 'digits', 'epochs': 2}
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from coursemate.errors import CoursemateError
from coursemate.tools.grounding.citations import Citation

if TYPE_CHECKING:
    from coursemate.config import Settings
    from coursemate.retrieval import NotesIndex
    from coursemate.tools.training import RunManager

QUESTION = "question"
Documents = Sequence[tuple[str, str]]  # (doc_id, title) of the notes


class Clarify(Exception):
    """The request lacks an argument the intent needs; the message asks for it and states the defaults."""


@dataclass(frozen=True)
class Context:
    """What an intent's call may use: the notes' index, the run manager acting for the user, and the settings."""

    index: NotesIndex
    runs: RunManager
    settings: Settings


@dataclass(frozen=True)
class Outcome:
    """An intent's result: the arguments its domain function was called with, the result as plain text (the
    terminal and the trace) and as Markdown (the chat), JSON-able ``data``, and the passages it cites."""

    called: dict[str, Any]
    text: str
    markdown: str
    data: dict[str, Any] = field(default_factory=dict)
    citations: list[Citation] = field(default_factory=list)


class Intent:
    """One intent. Subclasses set the class attributes and override what applies.

    ``changes_runs``: the intent starts or stops training runs; it acts at once only on an explicit command (see
    :func:`agents.router.is_command`), else :meth:`proposal` describes the action and it waits for a confirmation
    (the button ``confirm_label``).
    ``question_cue``: a regular expression on the masked request; a question about the course (not addressed to
    the assistant) can still be a request for this intent only when it matches (none: it never is).
    """

    name: ClassVar[str]
    tool: ClassVar[str] = ""  # the tool's name in the trace (the agents' tool of the same domain function)
    examples: ClassVar[tuple[str, ...]] = ()
    cues: ClassVar[tuple[str, ...]] = ()
    changes_runs: ClassVar[bool] = False
    confirm_label: ClassVar[str] = "Yes"  # the button that confirms a proposed action
    question_cue: ClassVar[str | None] = None

    def arguments(self, text: str, documents: Documents) -> dict[str, Any]:
        """The arguments the request states (values as written: validating them is the domain function's job)."""
        return {}

    def complete(self, arguments: dict[str, Any]) -> bool:
        """Whether the arguments carry what the action needs, so that a command can act without a confirmation."""
        return True

    def proposal(self, arguments: dict[str, Any], context: Context) -> tuple[dict[str, Any], str]:
        """``(arguments as they will be called, the question shown)`` for an action that waits for a confirmation;
        CoursemateError or Clarify when it could not be carried out."""
        raise NotImplementedError

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        """Carry the request out; Clarify when an argument is missing, CoursemateError when one is invalid."""
        raise NotImplementedError

    def answers_question(self, masked_request: str) -> bool:
        """Whether a question about the course can be a request for this intent (see ``question_cue``)."""
        return self.question_cue is not None and re.search(self.question_cue, masked_request) is not None


@functools.lru_cache(maxsize=1)
def load_intents() -> dict[str, Intent]:
    """``{name: Intent}`` of every intent module of this package, "question" first; CoursemateError when a module
    does not define a well-formed ``INTENT``."""
    intents: dict[str, Intent] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
        intent = getattr(importlib.import_module(f"{__name__}.{module}"), "INTENT", None)
        if not isinstance(intent, Intent) or intent.name != module or not intent.examples:
            raise CoursemateError(f"agents/intents/{module}.py must define INTENT, an Intent named {module!r} "
                                  "with example utterances")
        intents[module] = intent
    if QUESTION not in intents:
        raise CoursemateError(f"agents/intents/ has no {QUESTION!r} intent")
    return {QUESTION: intents.pop(QUESTION), **intents}
