"""The agents: a manager agent delegating to a notes agent and a training agent, grounded in the notes.

>>> from coursemate.agents import CourseAssistant
>>> CourseAssistant().ask("What do LSTM gates do?").answer

The names are imported on first use, so ``coursemate --help`` does not load smolagents.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Answer": "coursemate.agents.events",
    "CourseAssistant": "coursemate.agents.assistant",
    "Citation": "coursemate.tools.grounding.citations",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'coursemate.agents' has no attribute {name!r}")
