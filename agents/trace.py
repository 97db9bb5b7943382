"""The trace of one answer: every step (spelling, retrieval, model calls, tool calls) with its timing."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

OUTPUT_PREVIEW_CHARS = 600


@dataclass
class TraceStep:
    """One step: ``kind`` is spelling | retrieval | coverage | extractive | passages | generation | verify_citations |
    agent_step | tool_call | agent_error."""

    kind: str
    name: str
    agent: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    chunk_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Trace:
    """Everything that happened while answering ``question``; exportable as JSON."""

    question: str
    conversation_id: str
    resolved_question: str = ""
    model: str = ""
    mode: str = ""
    started_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    total_seconds: float = 0.0
    steps: list[TraceStep] = field(default_factory=list)

    def add(self, kind: str, name: str, *, started: float | None = None, output: Any = "", **details: Any) -> TraceStep:
        """Record a step; ``started`` (a ``time.perf_counter()`` value) sets its duration."""
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        if len(text) > OUTPUT_PREVIEW_CHARS:
            text = text[:OUTPUT_PREVIEW_CHARS] + " ..."
        seconds = round(time.perf_counter() - started, 4) if started is not None else details.pop("seconds", 0.0)
        step = TraceStep(kind=kind, name=name, output=text, seconds=seconds, **details)
        self.steps.append(step)
        return step

    def to_dict(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "steps": [s.to_dict() for s in self.steps]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)
