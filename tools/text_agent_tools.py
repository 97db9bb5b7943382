"""smolagents tools over the text helpers: ``correct_spelling`` and ``summarize_notes``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smolagents import Tool

from coursemate.errors import CoursemateError
from coursemate.retrieval.spelling import SpellingCorrector
from coursemate.tools.grounding.render import text_with_sources
from coursemate.tools.summarize import DEFAULT_WORDS, Summary, summarize

if TYPE_CHECKING:
    from pathlib import Path

    from smolagents.models import Model

    from coursemate.retrieval import NotesIndex


class SpellTool(Tool):
    """smolagents tool: fix the spelling of a text, keeping course terms, numbers and code as they are."""

    name = "correct_spelling"
    description = (
        "Corrects spelling mistakes in a text (English words and the course's vocabulary such as resnet, softmax, "
        "dropout). Numbers, code and acronyms are left unchanged. Returns the corrected text and the changes made."
    )
    inputs = {"text": {"type": "string", "description": "the text to correct"}}
    output_type = "string"

    def __init__(self, corrector: SpellingCorrector | None = None):
        super().__init__()
        self._corrector = corrector

    def forward(self, text: str) -> str:
        if self._corrector is None:
            self._corrector = SpellingCorrector()
        result = self._corrector.correct(text)
        if not result.changed:
            return f"{result.corrected}\n(no spelling changes)"
        changes = ", ".join(f"{wrong} -> {right}" for wrong, right in result.changes)
        return f"{result.corrected}\n(changes: {changes})"


class SummarizeTool(Tool):
    """smolagents tool: summarize a note, a course session or a topic from the notes, with citations."""

    name = "summarize_notes"
    description = (
        "Summarizes course material with [n] citations to the notes. Give exactly one of: doc_id (a document id), "
        "session (a course session number), topic (a subject searched in the notes). words sets the length."
    )
    inputs = {
        "doc_id": {"type": "string", "description": "id of a document to summarize", "nullable": True},
        "session": {"type": "integer", "description": "course session number to summarize", "nullable": True},
        "topic": {"type": "string", "description": "a topic to find in the notes and summarize", "nullable": True},
        "words": {"type": "integer", "description": f"target length in words (default {DEFAULT_WORDS})",
                  "nullable": True},
    }
    output_type = "string"

    def __init__(self, index: NotesIndex, model: Model | None = None, prompts_path: Path | None = None):
        super().__init__()
        self.index = index
        self.model = model
        self.prompts_path = prompts_path

    def forward(self, doc_id: str | None = None, session: int | None = None, topic: str | None = None,
                words: int | None = None) -> str:
        try:
            summary = summarize(self.index, doc_id=doc_id, session=session, topic=topic,
                                words=DEFAULT_WORDS if words is None else words, model=self.model,
                                prompts_path=self.prompts_path)
        except CoursemateError as exc:
            return f"Error: {exc}"
        return self.render(summary)

    def render(self, summary: Summary) -> str:
        """The text handed back to the agent: the summary and its numbered sources."""
        return text_with_sources(summary.text, summary.citations)
