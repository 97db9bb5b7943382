"""The answerers: one class per way of answering a question from the notes, behind :class:`CourseAssistant`.

- :class:`ExtractiveAnswerer` (no capable model configured or reachable, the CPU default): the sentences of the
  retrieved passages that answer the question, each followed by its ``[n]`` (:mod:`tools.grounding.extractive`);
- :class:`PassagesAnswerer` (``llm=none``): the best passages with their citations;
- :class:`GroundedAnswerer` (the small embedded SmolLM2, ``llm=smollm2``): the model only writes the answer from the
  numbered passages, no agent loop;
- :class:`AgentTeam` (a served model): the manager agent, given the passages already retrieved, delegates to the
  notes and training agents.

Each gets the question as searched (:class:`Retrieved`) and the answer in the making (:class:`AnswerRun`: its trace
and passage log), yields events while it works and returns a :class:`Draft`. Every generated answer goes through
:func:`tools.grounding.verify.verify_citations`: markers are kept only where their passage supports the sentence,
and a sentence no passage supports is marked unsupported (an agent's answer then comes with the extractive one).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coursemate.agents.events import Event, PendingAction, StepEvent, TokenEvent, ToolResult
from coursemate.agents.trace import Trace
from coursemate.config import Settings
from coursemate.tools.grounding.citations import (
    NOT_IN_NOTES,
    Citation,
    Passage,
    PassageLog,
    cited_numbers,
    renumber_markers,
    says_not_in_notes,
)
from coursemate.tools.grounding.extractive import extractive_answer
from coursemate.tools.grounding.prompts import grounded_prompt, system_prompt
from coursemate.tools.grounding.render import passages_answer
from coursemate.tools.grounding.verify import SentenceSupport, verify_citations

if TYPE_CHECKING:
    from coursemate.agents.llm import LLMInfo
    from coursemate.retrieval import NotesIndex
    from coursemate.retrieval.spelling import SpellingCorrector
    from coursemate.retrieval.types import Hit
    from coursemate.tools.training import RunManager

NOT_IN_NOTES_MODE = "not_in_notes"


@dataclass
class Draft:
    """What an answerer (or a routed request) made: the text, its citations and how it was made (``mode``)."""

    text: str
    citations: list[Citation]
    mode: str
    notice: str | None = None
    sentences: list[SentenceSupport] = field(default_factory=list)
    extractive: str | None = None
    tool: ToolResult | None = None
    pending: PendingAction | None = None

    @classmethod
    def not_in_notes(cls, notice: str | None = None) -> Draft:
        """The refusal: the notes do not cover the question."""
        return cls(NOT_IN_NOTES, [], NOT_IN_NOTES_MODE, notice)


@dataclass(frozen=True)
class Retrieved:
    """A question as searched: ``question`` the resolved question as typed (what a model reads), ``wanted`` what an
    extractive answer matches (the corrected question, with the notes' abbreviation of its term), the ``hits``,
    whether the notes cover it, the conversation so far, and, for a follow-up, the previous answer (``said``: an
    extractive answer does not say it again)."""

    question: str
    wanted: str
    hits: list[Hit]
    covered: bool
    history: str = ""
    said: str = ""


@dataclass
class AnswerRun:
    """One answer in the making: the index and settings it uses, its trace, the passages it showed (numbered from
    1), the training runs of the user it acts for and the spelling corrector (``runs`` and ``corrector`` give them,
    made on first use)."""

    index: NotesIndex
    settings: Settings
    trace: Trace
    runs: Callable[[], RunManager]
    corrector: Callable[[], SpellingCorrector | None] = lambda: None
    log: PassageLog = field(default_factory=PassageLog)
    _sent: int = field(default=0, init=False, repr=False)

    def new_steps(self) -> Iterator[StepEvent]:
        """Step events for the trace steps recorded since the last call."""
        steps = self.trace.steps[self._sent:]
        self._sent += len(steps)
        for step in steps:
            yield StepEvent(step.to_dict())

    def passages(self, hits: list[Hit]) -> list[Passage]:
        """The answer's passages: the best ``answer_passages`` hits, numbered in the log."""
        return [self.log.add(h.chunk, h) for h in hits[: self.settings.answer_passages]]


Answering = Generator[Event, None, Draft]  # an answerer's events, then its draft


class ExtractiveAnswerer:
    """Sentences of the retrieved passages that answer the question, each cited."""

    mode = "extractive"
    routes_itself = False  # the offline router sends requests to intents first
    instant = True  # no model writes: the answer is ready at once (the UI sends it in one update)

    def __init__(self, info: LLMInfo) -> None:
        self.info = info

    def answer(self, run: AnswerRun, asked: Retrieved) -> Answering:
        if not asked.covered:  # a refusal says nothing of how an answer would have been made
            return Draft.not_in_notes()
        draft = self.sentences(run, asked, None if self.info.reachable else no_model_reason(self.info))
        yield from run.new_steps()
        return draft

    @staticmethod
    def sentences(run: AnswerRun, asked: Retrieved, why: str | None, renumber: bool = True) -> Draft:
        """The extractive answer (numbered 1, 2, ... in the order it cites, unless ``renumber`` is false: beside
        another answer, it shares that answer's numbers); the refusal when no sentence answers. ``why``: the reason
        no model writes the answer (it failed, none is reachable), which the notice gives."""
        t = time.perf_counter()
        text, citations = extractive_answer(run.index, asked.wanted, run.passages(asked.hits), said=asked.said)
        if renumber:
            order = {n: i for i, n in enumerate(cited_numbers(text), start=1)}
            text = renumber_markers(text, order.get)
            citations = sorted((dataclasses.replace(c, n=order[c.n]) for c in citations), key=lambda c: c.n)
        run.trace.add("extractive", "select_sentences", started=t, output=text,
                      chunk_ids=[c.chunk_id for c in citations])
        if not text:  # the reason alone: a refusal quotes nothing from the notes
            return Draft.not_in_notes(f"{why}." if why else None)
        return Draft(text, citations, ExtractiveAnswerer.mode, f"{why}; answering with sentences from the notes."
                     if why else None)


class PassagesAnswerer:
    """The best passages themselves, each cited (``llm=none``)."""

    mode = "passages"
    routes_itself = False
    instant = True

    def __init__(self, info: LLMInfo) -> None:
        self.info = info

    def answer(self, run: AnswerRun, asked: Retrieved) -> Answering:
        if not asked.covered:
            return Draft.not_in_notes()
        notice = f"{no_model_reason(self.info)}; showing the most relevant passages from the notes."
        text, citations = passages_answer(run.passages(asked.hits),
                                          lambda text: run.index.snippet(text, asked.wanted, 400))
        run.trace.add("passages", "passages", output=notice, chunk_ids=[c.chunk_id for c in citations])
        yield from run.new_steps()
        return Draft(text, citations, self.mode, notice)


class GroundedAnswerer:
    """The model writes the answer from the numbered passages (tokens streamed when it can), no agent loop."""

    mode = "grounded"
    routes_itself = False
    instant = False

    def __init__(self, model, info: LLMInfo) -> None:
        self.model = model
        self.info = info

    def answer(self, run: AnswerRun, asked: Retrieved) -> Answering:
        from smolagents import ChatMessage, MessageRole

        if not asked.covered:
            return Draft.not_in_notes()
        passages = run.passages(asked.hits)
        messages = [
            ChatMessage(role=MessageRole.SYSTEM, content=[{"type": "text", "text": system_prompt(run.settings)}]),
            ChatMessage(role=MessageRole.USER, content=[
                {"type": "text", "text": grounded_prompt(asked.question, passages, run.settings, run.index)}]),
        ]
        t = time.perf_counter()
        pieces: list[str] = []
        try:
            if hasattr(self.model, "generate_stream"):
                for delta in self.model.generate_stream(messages):
                    if delta.content:
                        pieces.append(delta.content)
                        yield TokenEvent(delta.content)
            else:
                pieces.append(self.model.generate(messages).content or "")
                yield TokenEvent(pieces[-1])
        except Exception as exc:  # noqa: BLE001 - a model failure must become a notice, never a stack trace
            run.trace.add("generation", model_label(self.info), started=t, error=f"{type(exc).__name__}: {exc}")
            return ExtractiveAnswerer.sentences(run, asked, failure_reason(self.info, exc))
        raw = "".join(pieces).strip()
        run.trace.add("generation", model_label(self.info), started=t, output=raw,
                      chunk_ids=[p.chunk.chunk_id for p in passages])
        return verified(run, raw, self.mode)


class AgentTeam:
    """The manager agent answers, delegating to the notes and training agents (it calls the tools itself)."""

    mode = "agent"
    routes_itself = True
    instant = False

    def __init__(self, model, info: LLMInfo) -> None:
        self.model = model
        self.info = info

    def answer(self, run: AnswerRun, asked: Retrieved) -> Answering:
        from smolagents.memory import FinalAnswerStep

        from coursemate.agents.manager import StepRecorder, build_team, manager_task

        settings = run.settings
        passages = run.passages(asked.hits) if asked.covered else []
        deadline = time.time() + settings.llm_timeout
        recorder = StepRecorder(run.trace, run.log, deadline)  # after the passages: the agents' steps record theirs
        manager = build_team(self.model, run.index, run.log, settings, recorder, corrector=run.corrector(),
                             run_manager=run.runs())
        final: Any = None
        try:
            task = manager_task(asked.question, asked.history, settings, passages, run.index)
            for event in manager.run(task, stream=True):
                yield from run.new_steps()
                if isinstance(event, FinalAnswerStep):
                    final = event.output
        except Exception as exc:  # noqa: BLE001 - model down or slow, agent interrupted: cited passages + notice
            timed_out = time.time() > deadline
            run.trace.add("agent_error", type(exc).__name__, error=str(exc)[:500])
            why = (f"The agents took longer than {settings.llm_timeout:g} s ({model_label(self.info)})" if timed_out
                   else failure_reason(self.info, exc))
            return ExtractiveAnswerer.sentences(run, asked, why) if asked.covered else Draft.not_in_notes(f"{why}.")
        raw = str(final or "").strip()
        notice = None
        if recorder.max_steps_reached:
            notice = (f"The agents stopped after {settings.agent_max_steps} steps "
                      f"({', '.join(dict.fromkeys(recorder.max_steps_reached))}); the answer may be incomplete.")
        delegated = {s.name for s in run.trace.steps if s.kind == "tool_call" and s.agent == "manager"}
        if "training_agent" in delegated and "notes_agent" not in delegated:  # a report of runs, not of the notes
            return Draft(raw, [], self.mode, notice)
        draft = verified(run, raw, self.mode, notice)
        if asked.covered and any(not s.supported for s in draft.sentences):
            beside = ExtractiveAnswerer.sentences(run, asked, None, renumber=False)
            if beside.mode == ExtractiveAnswerer.mode:
                draft.extractive = beside.text
                merged = {c.n: c for c in draft.citations + beside.citations}
                draft.citations = sorted(merged.values(), key=lambda c: c.n)
        return draft


Answerer = ExtractiveAnswerer | PassagesAnswerer | GroundedAnswerer | AgentTeam
GROUNDED_KINDS = ("embedded",)  # models too small to drive an agent loop reliably
BY_AGENT_MODE = {"agent": AgentTeam, "grounded": GroundedAnswerer}  # the agent_mode setting, when not "auto"


def choose_answerer(model, info: LLMInfo, agent_mode: str) -> Answerer:
    """The answerer for the model at hand: none (``info.kind`` "none": passages, else extractive), the embedded
    model (grounded), a served one (the agent team); ``agent_mode`` ("agent" or "grounded") overrides "auto"."""
    if model is None:
        return PassagesAnswerer(info) if info.kind == "none" else ExtractiveAnswerer(info)
    if agent_mode != "auto":
        return BY_AGENT_MODE[agent_mode](model, info)
    return GroundedAnswerer(model, info) if info.kind in GROUNDED_KINDS else AgentTeam(model, info)


def verified(run: AnswerRun, raw: str, mode: str, notice: str | None = None) -> Draft:
    """A generated answer with its citations verified against the passages shown (tools/grounding/verify.py)."""
    if says_not_in_notes(raw) or not raw:
        return Draft.not_in_notes(notice)
    t = time.perf_counter()
    checked = verify_citations(run.index, raw, run.log.passages())
    unsupported = [s.text for s in checked.sentences if not s.supported]
    supported = f"{len(checked.sentences) - len(unsupported)}/{len(checked.sentences)} supported"
    run.trace.add("verify_citations", supported,
                  started=t, output="\n".join(unsupported), chunk_ids=[c.chunk_id for c in checked.citations])
    return Draft(checked.text, checked.citations, mode, notice, checked.sentences)


def model_label(info: LLMInfo) -> str:
    """The model as an answer names it ("extractive (no language model)", "qwen (openai, http://...)")."""
    if info.kind == "extractive":
        return "extractive (no language model)"
    if not info.reachable:
        return f"none ({info.detail})"
    return f"{info.model or info.kind} ({info.kind}{', ' + info.url if info.url else ''})"


def no_model_reason(info: LLMInfo) -> str:
    return f"No language model is available ({info.detail})"


def failure_reason(info: LLMInfo, exc: Exception) -> str:
    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    return f"The language model {info.model or ''} at {info.url or info.kind} failed ({reason})"
