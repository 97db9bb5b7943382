"""The status line: which language model answers and whether it can be reached right now."""

from __future__ import annotations

from coursemate.config import Settings
from coursemate.errors import CoursemateError

UP = '<span class="dot up">●</span>'
DOWN = '<span class="dot down">●</span>'


def llm_status(settings: Settings) -> str:
    """One Markdown line naming the model in use and whether it is reachable."""
    from coursemate.agents.llm import resolve_llm

    try:
        _, info = resolve_llm(settings)
    except CoursemateError as exc:
        return f"{DOWN} **Language model unavailable:** {exc}"
    if info.kind == "extractive":
        return f"{UP} **Answers:** {info.detail}: sentences of the notes, each cited"
    if info.reachable:
        return f"{UP} **Language model:** {info.detail}"
    return f"{DOWN} **Language model not reachable:** {info.detail}. Answers quote the notes until it is back."


def index_status(index) -> str:
    """One Markdown line describing the notes index."""
    manifest = index.manifest
    return (f"**Notes:** {manifest.get('documents', len(index.documents))} documents, "
            f"{manifest.get('chunks', len(index.chunks))} passages")
