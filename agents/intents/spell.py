"""Spell-check a text: 'spell-check "teh gradeint"', 'is "nueral network" spelled right?' (read only).

The text is the first one in real quotes, or what follows the first colon.
"""

from __future__ import annotations

import html
import re
from typing import Any

from coursemate.agents.intents import Clarify, Context, Documents, Intent, Outcome
from coursemate.agents.intents._parse import quotes
from coursemate.retrieval.spelling import SpellingCorrector

QUOTE = " this text "  # what the router reads in place of quoted text (agents/router.py masked())


class Spell(Intent):
    name = "spell"
    tool = "correct_spelling"
    # a question is about the spelling of a text when the quoted text is its subject ('is "x" spelled right?')
    question_cue = rf"^\W*(?:is|are|does|do|has|have)\s+{QUOTE.strip()}\b"
    cues = (r"\b(?:spell\w*|typos?|misspell\w*|proofread)\b",)
    examples = (
        "spell check this text",
        "fix the spelling of this sentence",
        "correct the typos in my text",
        "check my spelling",
        "proofread this paragraph for spelling mistakes",
        "are there spelling errors in this",
        "correct my spelling please",
    )

    def arguments(self, text: str, documents: Documents) -> dict[str, Any]:
        found = quoted_text(text)
        return {"text": found} if found else {}

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        if "text" not in arguments:
            raise Clarify('Which text should I spell-check? Put it in quotes, for example: spell-check "teh gradeint".')
        correction = (context.index.corrector or SpellingCorrector()).correct(arguments["text"])
        changes = [list(pair) for pair in correction.changes]
        text = correction.corrected + ("\n(changes: " + ", ".join(f"{w} -> {r}" for w, r in changes) + ")"
                                       if changes else "\n(no spelling changes)")
        listed = "".join(f"<li><del>{html.escape(w)}</del> → <ins>{html.escape(r)}</ins></li>" for w, r in changes)
        markdown = (f'<div class="tool-result spelling">{html.escape(correction.corrected)}</div>'
                    + (f'<ul class="spelling-changes">{listed}</ul>' if listed else "<p>(no spelling changes)</p>"))
        return Outcome(arguments, text, markdown, {"corrected": correction.corrected, "changes": changes})


def quoted_text(text: str) -> str | None:
    """The text to spell-check: the first one in real quotes, or what follows the first colon."""
    quoted = [q.strip() for q in quotes(text) if q.strip()]
    if quoted:
        return quoted[0]
    after = text.split(":", 1)[1].strip() if ":" in text else ""
    return re.sub(r"\s+", " ", after) or None


INTENT = Spell()
