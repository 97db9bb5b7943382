"""The status line: which language model answers and whether it can be reached right now."""

from __future__ import annotations

from dataclasses import dataclass

from coursemate.config import Settings
from coursemate.errors import CoursemateError

UP = '<span class="dot up">●</span>'
DOWN = '<span class="dot down">●</span>'


@dataclass(frozen=True)
class ModelStatus:
    """The model in use: ``up`` (it answers, or no model is needed), a ``label`` and its ``detail``."""

    up: bool
    label: str
    detail: str

    def markdown(self) -> str:
        """The page's line: a green or red dot, the label in bold, the detail."""
        return f"{UP if self.up else DOWN} **{self.label}:** {self.detail}"

    def text(self) -> str:
        """The terminal's line: plain text."""
        return f"{self.label}: {self.detail}"


def model_status(settings: Settings) -> ModelStatus:
    """Which model answers and whether it is reachable now (probes a configured server)."""
    from coursemate.agents.llm import resolve_llm

    try:
        _, info = resolve_llm(settings)
    except CoursemateError as exc:
        return ModelStatus(False, "Language model unavailable", str(exc))
    if info.kind == "extractive":
        return ModelStatus(True, "Answers", f"{info.detail}: sentences of the notes, each cited")
    if info.reachable:
        return ModelStatus(True, "Language model", info.detail)
    return ModelStatus(False, "Language model not reachable",
                       f"{info.detail}. Answers quote the notes until it is back.")


def llm_status(settings: Settings) -> str:
    """One Markdown line naming the model in use and whether it is reachable."""
    return model_status(settings).markdown()


def index_status(index) -> str:
    """One Markdown line saying which notes are loaded and how many documents and passages they hold."""
    from coursemate.retrieval.library import corpus_label

    manifest = index.manifest
    return (f"**Notes:** {corpus_label(index.settings.corpus_paths)}: "
            f"{manifest.get('documents', len(index.documents))} documents, "
            f"{manifest.get('chunks', len(index.chunks))} passages")
