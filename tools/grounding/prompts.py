"""The messages of a grounded answer: the system prompt and the numbered passages with the question (prompts
``grounded_system`` and ``grounded_user`` of :mod:`coursemate.prompts`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coursemate.config import Settings
from coursemate.prompts import load_prompts
from coursemate.tools.grounding.citations import NOT_IN_NOTES, Passage
from coursemate.tools.grounding.render import format_passages

if TYPE_CHECKING:
    from coursemate.retrieval import NotesIndex


def system_prompt(settings: Settings) -> str:
    """The system message of a grounded answer (prompt ``grounded_system``)."""
    return load_prompts(settings.prompts_path).format("grounded_system", not_in_notes=NOT_IN_NOTES)


def grounded_prompt(question: str, passages: list[Passage], settings: Settings, index: NotesIndex | None = None) -> str:
    """The user message of a grounded answer: the numbered passages, then the question (prompt ``grounded_user``)."""
    return load_prompts(settings.prompts_path).format("grounded_user", question=question,
                                                      passages=format_passages(passages, index))
