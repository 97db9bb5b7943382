"""What the summary and quiz intents share: the one source (a session, a document or a topic) a request names."""

from __future__ import annotations

from typing import Any

from coursemate.agents.intents import Clarify


def one_source(arguments: dict[str, Any], what: str, example: str) -> dict[str, Any]:
    """The source (session, doc_id or topic) of a summary or quiz; Clarify when none or two fit."""
    if "doc_candidates" in arguments:
        raise Clarify(f"Which document should I {what}: {'; '.join(arguments['doc_candidates'])}?")
    source = {k: arguments[k] for k in ("session", "doc_id", "topic") if k in arguments}
    if not source:
        raise Clarify(f'What should I {what}? Name a session ("{example} session 3"), a document or a topic.')
    return source
