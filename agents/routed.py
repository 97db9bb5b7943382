"""Routed requests: what the offline router sends to an intent (:mod:`agents.intents`) is carried out at once (an
explicit command, or a confirmed action) or proposed for a confirmation; either way a traced
:class:`~agents.answerers.Draft`.

Modes of the draft: "tool" (the intent's result, ``tool``), "clarify" (the request needs more), "error" (an invalid
request) and "confirm" (an action that waits for a confirmation, ``pending``).
"""

from __future__ import annotations

import html
import time
from typing import Any

from coursemate.agents.answerers import Answering, AnswerRun, Draft
from coursemate.agents.events import PendingAction, ToolResult, ToolResultEvent
from coursemate.agents.intents import Clarify, Context, load_intents
from coursemate.errors import CoursemateError

ROUTER_MODEL = "offline router (no language model)"


def carry_out(run: AnswerRun, name: str, arguments: dict[str, Any]) -> Answering:
    """Carry out the request for intent ``name``: its call (a trace step), then its result."""
    intent = load_intents()[name]
    t = time.perf_counter()
    try:
        outcome = intent.call(arguments, _context(run))
    except Clarify as question:
        draft = _refusal(run, "clarify", "", name, arguments, str(question), t)
    except CoursemateError as exc:
        draft = _refusal(run, "error", intent.tool, name, arguments, str(exc), t)
    else:
        run.trace.add("tool_call", intent.tool, started=t, arguments=outcome.called, output=outcome.text,
                      chunk_ids=[c.chunk_id for c in outcome.citations])
        draft = Draft(outcome.text, outcome.citations, "tool", tool=ToolResult(
            name, intent.tool, outcome.called, outcome.text, outcome.markdown, outcome.data))
    yield from run.new_steps()
    yield ToolResultEvent(draft.tool)
    return draft


def propose(run: AnswerRun, name: str, arguments: dict[str, Any]) -> Answering:
    """An action that waits for a confirmation: what it would do, as a question (or why it cannot be done)."""
    intent = load_intents()[name]
    t = time.perf_counter()
    try:
        called, prompt = intent.proposal(arguments, _context(run))
    except Clarify as question:
        draft = _refusal(run, "clarify", "", name, arguments, str(question), t)
    except CoursemateError as exc:
        draft = _refusal(run, "error", intent.tool, name, arguments, str(exc), t)
    else:
        run.trace.add("proposal", intent.tool, started=t, arguments=called, output=prompt)
        draft = Draft(prompt, [], "confirm", pending=PendingAction(name, intent.tool, called, prompt,
                                                                   intent.confirm_label))
    yield from run.new_steps()
    return draft


def _refusal(run: AnswerRun, kind: str, tool: str, intent: str, arguments: dict[str, Any], message: str,
             started: float) -> Draft:
    """A clarifying question (``kind`` "clarify") or an invalid request's error ("error"), traced."""
    if kind == "clarify":
        run.trace.add("clarify", intent, started=started, arguments=arguments, output=message)
        text, markdown = message, message
    else:
        run.trace.add("tool_call", tool, started=started, arguments=arguments, error=message)
        text, markdown = f"Error: {message}", f"**Error:** {html.escape(message)}"
    data = {"intent": intent} | ({"error": message} if kind == "error" else {})
    return Draft(text, [], kind, tool=ToolResult(kind, tool, arguments, text, markdown, data))


def _context(run: AnswerRun) -> Context:
    return Context(run.index, run.runs(), run.settings)
