"""CourseAssistant: the Python API of the agents.

>>> from agents import CourseAssistant
>>> answer = CourseAssistant().ask("Why does the course use global average pooling?")
>>> answer.answer, [c.title for c in answer.citations], answer.model

Every question is spelling-corrected and searched first (the corrected phrasing, with the typed one fused in at a
lower weight). Then:

- "extractive" (no capable model configured or reachable, the CPU default): the sentences of the retrieved
  passages that answer the question, each followed by its ``[n]`` (:mod:`tools.grounding.extractive`);
- "passages" (``llm=none``): the best passages with their citations;
- "grounded" (the small embedded SmolLM2, ``llm=smollm2``): the model only writes the answer from the numbered
  passages, no agent loop;
- "agent" mode (a served model): the manager agent, given the passages already retrieved, delegates to the
  notes and training agents.

Without a served model, the offline router (:mod:`agents.router`) first decides whether the message is a
question for the notes or a request for an intent (start, watch, cancel, list or compare runs, summarize,
spell-check, search, quiz; :mod:`agents.intents`, one module each); a request calls its intent's domain function
and the answer is the result (mode "tool", or "clarify" / "error"). A request that would start or stop runs acts
at once only when it is an explicit command; otherwise the answer (mode "confirm") carries a
:class:`~agents.events.PendingAction` and :meth:`CourseAssistant.confirm` carries it out.

A question the notes do not cover gets "not in the notes". Every generated answer goes through
:func:`tools.grounding.verify.verify_citations`: markers are kept only where their passage supports the sentence, and
a sentence no passage supports is marked unsupported (an agent's answer then comes with the extractive one).
"""

from __future__ import annotations

import dataclasses
import html
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from coursemate.agents.conversation import ConversationStore, Turn, resolve_follow_up
from coursemate.agents.events import (
    Answer,
    AnswerEvent,
    Event,
    PendingAction,
    StepEvent,
    TokenEvent,
    ToolResult,
    ToolResultEvent,
)
from coursemate.agents.intents import QUESTION
from coursemate.agents.trace import Trace
from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.tools.grounding.acronyms import abbreviated
from coursemate.tools.grounding.citations import (
    NOT_IN_NOTES,
    Citation,
    PassageLog,
    cited_numbers,
    renumber_markers,
    says_not_in_notes,
)
from coursemate.tools.grounding.coverage import coverage
from coursemate.tools.grounding.extractive import extractive_answer
from coursemate.tools.grounding.prompts import grounded_prompt, system_prompt
from coursemate.tools.grounding.questions import analyze
from coursemate.tools.grounding.render import passages_answer
from coursemate.tools.grounding.verify import SentenceSupport, verify_citations

GROUNDED_KINDS = ("embedded",)  # models too small to drive an agent loop reliably
ROUTER_MODEL = "offline router (no language model)"
LLM_RETRY_SECONDS = 30.0  # how long an unreachable model stays unreachable before it is looked for again


class CourseAssistant:
    """Answers questions about the course notes, one isolated history per conversation id.

    ``settings``: coursemate settings (default ``Settings.load()``); ``index``: a loaded NotesIndex (default:
    load or build the configured one, on first use); ``llm``: a smolagents ``Model`` to use, or a
    ``settings.llm`` value such as ``"embedded"`` or a server URL (default: ``settings.llm``); ``conversations``:
    where histories are kept (default: in memory, bounded by the settings; the UI keeps them in the home's
    :class:`~coursemate.state.StateStore`, so they survive a restart).
    """

    def __init__(self, settings: Settings | None = None, index=None, llm=None,
                 conversations: ConversationStore | None = None) -> None:
        self.settings = settings or Settings.load()
        if isinstance(llm, str):
            self.settings = self.settings.replace(llm=llm)
            llm = None
        self._index = index
        self._llm = None if llm is None else (llm, _custom_info(llm))
        self._llm_resolved_at = 0.0
        self._corrector = None
        self._run_manager = None
        self._router = None
        self._lock = threading.Lock()
        self.conversations = conversations or ConversationStore(
            max_conversations=self.settings.max_conversations, idle_seconds=self.settings.conversation_idle_seconds)

    # ----------------------------------------------------------------- lazy components
    @property
    def index(self):
        with self._lock:
            if self._index is None:
                from coursemate.retrieval import NotesIndex

                self._index = NotesIndex.load_or_build(self.settings, progress=False)
            return self._index

    @property
    def router(self):
        """The offline intent router (:class:`agents.router.IntentRouter`) over the index's embedder."""
        index = self.index
        with self._lock:
            if self._router is None:
                from coursemate.agents.router import IntentRouter

                self._router = IntentRouter(index)
            return self._router

    @property
    def corrector(self):
        if not self.settings.spelling:
            return None
        index = self.index
        with self._lock:
            if self._corrector is None:
                self._corrector = index.corrector
            return self._corrector

    def llm(self):
        """``(model or None, LLMInfo)``, resolved from the settings on first use.

        A bad ``--llm`` value raises CoursemateError; a model that fails to load for another reason
        becomes ``(None, info)`` so that answers fall back to the cited passages with a notice. An
        unreachable model is looked for again after ``LLM_RETRY_SECONDS`` (a server may come back).
        """
        with self._lock:
            stale = (self._llm is not None and self._llm[0] is None
                     and time.monotonic() - self._llm_resolved_at > LLM_RETRY_SECONDS)
            if self._llm is None or stale:
                self._llm_resolved_at = time.monotonic()
                from coursemate.agents.llm import LLMInfo, resolve_llm

                try:
                    self._llm = resolve_llm(self.settings)
                except CoursemateError:
                    raise
                except Exception as exc:  # noqa: BLE001 - never a stack trace for a model that cannot load
                    reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
                    self._llm = (None, LLMInfo(self.settings.llm, None, None, False,
                                               f"the model {self.settings.llm!r} could not be loaded: {reason}"))
            return self._llm

    def mode(self) -> str:
        """How answers are made with the current model: agent, grounded, extractive (no model) or passages."""
        model, info = self.llm()
        if model is None:
            return "passages" if info.kind == "none" else "extractive"
        if self.settings.agent_mode != "auto":
            return self.settings.agent_mode
        return "grounded" if info.kind in GROUNDED_KINDS else "agent"

    # ----------------------------------------------------------------- answering
    def ask(self, question: str, conversation_id: str = "default", user: str | None = None) -> Answer:
        """Answer ``question`` in the conversation ``conversation_id`` (``user``: see :meth:`stream`)."""
        for event in self.stream(question, conversation_id, user):
            if isinstance(event, AnswerEvent):
                return event.answer
        raise AssertionError("stream() always ends with an answer event")

    def stream(self, question: str, conversation_id: str = "default", user: str | None = None) -> Iterator[Event]:
        """Events while answering (:mod:`agents.events`): a :class:`StepEvent` as each step ends, a
        :class:`TokenEvent` as the answer is generated, a :class:`ToolResultEvent` when a routed request's tool
        returns, and last an :class:`AnswerEvent`.

        ``user``: who asks (the UI's signed-in user; None = the machine's owner); the training runs the agents
        start belong to them, and they can cancel only their own."""
        from coursemate.retrieval.index import check_query

        check_query(question)
        started = time.perf_counter()
        conversation = self.conversations.get(conversation_id)
        resolved = resolve_follow_up(question, conversation)
        trace = Trace(question, conversation_id, resolved_question=resolved)
        run = _Run(self, trace, user)
        model, info = self.llm()
        mode = self.mode()
        trace.model, trace.mode = _model_label(info), mode
        if mode != "agent":  # no capable served model: the offline router decides
            t = time.perf_counter()
            plan = self.router.plan(question, [(d.doc_id, d.title) for d in self.index.documents.values()])
            trace.add("route", plan.intent, started=t, arguments=plan.route.to_dict())
            yield from run.new_steps()
            if plan.intent != QUESTION:
                trace.add("arguments", plan.intent, arguments={**plan.arguments, "acts_now": plan.acts_now})
                result = yield from (run.call(plan.intent, plan.arguments) if plan.acts_now
                                     else run.propose(plan.intent, plan.arguments))
                yield AnswerEvent(self._routed_answer(question, conversation_id, result, trace, started, user))
                return

        did_you_mean, corrected = self._correct(question, resolved, trace)
        yield from run.new_steps()
        t = time.perf_counter()
        k = max(self.settings.answer_passages, 5)
        short = abbreviated(corrected, self.index.vocabulary(), [d.text.lower() for d in self.index.documents.values()])
        if short is None:
            hits = self.index.search(resolved, k=k, correct=self.settings.spelling)
        else:  # the notes' abbreviation ("gap" for global average pooling) is searched too
            hits = self.index.search(corrected, k=k, correct=False, extra_queries=[short])
        wanted = corrected if short is None else f"{corrected} ({short})"  # what the extractive answer matches
        trace.add("retrieval", "search_notes", started=t, arguments={"query": corrected, "typed_query": resolved},
                  output=[f"{h.chunk.chunk_id} ({h.score:.4f})" for h in hits],
                  chunk_ids=[h.chunk.chunk_id for h in hits])
        signals = coverage(self.index, corrected, hits)
        unknown = analyze(corrected).missing(self.index.uses)  # "DDIM", "rotary": the notes never name it
        is_covered = signals.score() >= self.settings.coverage_min_score and unknown is None
        trace.add("coverage", "covered" if is_covered else "not covered",
                  arguments={**signals.to_dict(), "min_score": self.settings.coverage_min_score,
                             "missing_term": unknown})
        yield from run.new_steps()

        if mode == "agent":
            result = yield from run.agent(model, info, resolved, conversation.history_text(), hits, is_covered, wanted)
        elif not is_covered:
            result = _Result(NOT_IN_NOTES, [], "not_in_notes", _no_model_notice(info) if model is None else None)
        elif mode == "grounded":
            result = yield from run.grounded(model, info, resolved, hits, wanted)
        elif mode == "extractive":
            result = run.extractive(wanted, hits, None if info.reachable else _no_model_notice(info))
        else:
            result = run.passages_only(wanted, hits, _no_model_notice(info))
        trace.total_seconds = round(time.perf_counter() - started, 4)
        yield from run.new_steps()

        answer = Answer(question, result.text, result.citations, trace.model, result.mode, conversation_id,
                        covered=is_covered and result.mode != "not_in_notes", did_you_mean=did_you_mean,
                        notice=result.notice, sentences=result.sentences, extractive=result.extractive, trace=trace)
        self.conversations.add(conversation_id, Turn(question, resolved, answer.answer, answer.to_dict()), user)
        yield AnswerEvent(answer)

    def confirm(self, action: PendingAction, conversation_id: str = "default", user: str | None = None) -> Answer:
        """Carry out an action an answer proposed (``answer.pending``), for ``user`` (see :meth:`stream`)."""
        from coursemate.agents.intents import load_intents

        if action.intent not in load_intents():
            raise CoursemateError(f"cannot confirm an action of unknown intent {action.intent!r}")
        started = time.perf_counter()
        trace = Trace(action.prompt, conversation_id)
        trace.model, trace.mode = ROUTER_MODEL, "confirm"
        trace.add("confirmed", action.intent, arguments=action.arguments, output=action.prompt)
        run = _Run(self, trace, user)
        events = run.call(action.intent, action.arguments)
        while True:
            try:
                next(events)
            except StopIteration as done:
                return self._routed_answer(action.prompt, conversation_id, done.value, trace, started, user)

    def _routed_answer(self, question: str, conversation_id: str, result: _Result, trace: Trace,
                       started: float, user: str | None) -> Answer:
        """The answer of a routed request (or a confirmed action), recorded in its conversation."""
        trace.total_seconds = round(time.perf_counter() - started, 4)
        answer = Answer(question, result.text, result.citations, ROUTER_MODEL, result.mode, conversation_id,
                        covered=True, trace=trace, tool_result=result.tool, pending=result.pending)
        self.conversations.add(conversation_id, Turn(question, question, answer.answer, answer.to_dict()), user)
        return answer

    def _correct(self, question: str, resolved: str, trace: Trace) -> tuple[str | None, str]:
        """``(did_you_mean, corrected resolved question)``: the spelling-corrected phrasings."""
        corrector = self.corrector
        if corrector is None:
            return None, resolved
        t = time.perf_counter()
        correction = corrector.correct(question)
        corrected = corrector.correct(resolved).corrected if resolved != question else correction.corrected
        trace.add("spelling", "correct_spelling", started=t, arguments={"text": question},
                  output=correction.corrected if correction.changed else "(no change)")
        return (correction.corrected if correction.changed else None), corrected


@dataclass
class _Result:
    text: str
    citations: list[Citation]
    mode: str
    notice: str | None = None
    sentences: list[SentenceSupport] = field(default_factory=list)
    extractive: str | None = None
    tool: ToolResult | None = None
    pending: PendingAction | None = None


class _Run:
    """One answer in the making: its passage log and trace, and the three ways to write the answer."""

    def __init__(self, assistant: CourseAssistant, trace: Trace, user: str | None = None) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.trace = trace
        self.user = user
        self.log = PassageLog()
        self._sent = 0

    def new_steps(self) -> Iterator[StepEvent]:
        """Step events for the trace steps recorded since the last call."""
        steps = self.trace.steps[self._sent:]
        self._sent += len(steps)
        for step in steps:
            yield StepEvent(step.to_dict())

    def call(self, name: str, arguments: dict[str, Any]) -> Iterator[Event]:
        """Carry out a routed request: its intent's call (a trace step), then its result."""
        from coursemate.agents.intents import Clarify, load_intents

        intent = load_intents()[name]
        t = time.perf_counter()
        try:
            outcome = intent.call(arguments, self._context())
        except Clarify as question:
            result = self._refusal("clarify", "", name, arguments, str(question), t)
        except CoursemateError as exc:
            result = self._refusal("error", intent.tool, name, arguments, str(exc), t)
        else:
            self.trace.add("tool_call", intent.tool, started=t, arguments=outcome.called, output=outcome.text,
                           chunk_ids=[c.chunk_id for c in outcome.citations])
            result = _Result(outcome.text, outcome.citations, "tool", tool=ToolResult(
                name, intent.tool, outcome.called, outcome.text, outcome.markdown, outcome.data))
        yield from self.new_steps()
        yield ToolResultEvent(result.tool)
        return result

    def propose(self, name: str, arguments: dict[str, Any]) -> Iterator[Event]:
        """An action that waits for a confirmation: what it would do, as a question (or why it cannot be done)."""
        from coursemate.agents.intents import Clarify, load_intents

        intent = load_intents()[name]
        t = time.perf_counter()
        try:
            called, prompt = intent.proposal(arguments, self._context())
        except Clarify as question:
            result = self._refusal("clarify", "", name, arguments, str(question), t)
        except CoursemateError as exc:
            result = self._refusal("error", intent.tool, name, arguments, str(exc), t)
        else:
            self.trace.add("proposal", intent.tool, started=t, arguments=called, output=prompt)
            result = _Result(prompt, [], "confirm", pending=PendingAction(name, intent.tool, called, prompt,
                                                                               intent.confirm_label))
        yield from self.new_steps()
        return result

    def _refusal(self, kind: str, tool: str, intent: str, arguments: dict[str, Any], message: str,
                 started: float) -> _Result:
        """A clarifying question (``kind`` "clarify") or an invalid request's error ("error"), traced."""
        if kind == "clarify":
            self.trace.add("clarify", intent, started=started, arguments=arguments, output=message)
            text, markdown = message, message
        else:
            self.trace.add("tool_call", tool, started=started, arguments=arguments, error=message)
            text, markdown = f"Error: {message}", f"**Error:** {html.escape(message)}"
        data = {"intent": intent} | ({"error": message} if kind == "error" else {})
        return _Result(text, [], kind, tool=ToolResult(kind, tool, arguments, text, markdown, data))

    def _context(self):
        from coursemate.agents.intents import Context

        return Context(self.assistant.index, self._run_manager())

    def passages_only(self, question: str, hits, notice: str | None) -> _Result:
        passages = [self.log.add(h.chunk, h) for h in hits[: self.settings.answer_passages]]
        text, citations = passages_answer(passages, lambda text: self.assistant.index.snippet(text, question, 400))
        self.trace.add("passages", "passages", output=notice or "", chunk_ids=[c.chunk_id for c in citations])
        return _Result(text, citations, "passages", notice)

    def extractive(self, question: str, hits, notice: str | None, renumber: bool = True) -> _Result:
        """Sentences of the retrieved passages that answer the question, each cited (numbered 1, 2, ... in the
        order the answer cites them, unless ``renumber`` is false: beside another answer, they share its numbers)."""
        t = time.perf_counter()
        passages = [self.log.add(h.chunk, h) for h in hits[: self.settings.answer_passages]]
        text, citations = extractive_answer(self.assistant.index, question, passages)
        if renumber:
            order = {n: i for i, n in enumerate(cited_numbers(text), start=1)}
            text = renumber_markers(text, order.get)
            citations = sorted((dataclasses.replace(c, n=order[c.n]) for c in citations), key=lambda c: c.n)
        self.trace.add("extractive", "select_sentences", started=t, output=text,
                       chunk_ids=[c.chunk_id for c in citations])
        if not text:
            return _Result(NOT_IN_NOTES, [], "not_in_notes", notice)
        return _Result(text, citations, "extractive", notice)

    def verified(self, raw: str, mode: str, notice: str | None = None) -> _Result:
        """A generated answer with its citations verified against the passages shown (tools/grounding/verify.py)."""
        if says_not_in_notes(raw) or not raw:
            return _Result(NOT_IN_NOTES, [], "not_in_notes", notice)
        t = time.perf_counter()
        checked = verify_citations(self.assistant.index, raw, self.log.passages())
        unsupported = [s.text for s in checked.sentences if not s.supported]
        supported = f"{len(checked.sentences) - len(unsupported)}/{len(checked.sentences)} supported"
        self.trace.add("verify_citations", supported,
                       started=t, output="\n".join(unsupported), chunk_ids=[c.chunk_id for c in checked.citations])
        return _Result(checked.text, checked.citations, mode, notice, checked.sentences)

    def grounded(self, model, info, question: str, hits, wanted: str) -> Iterator[Event]:
        """The model writes the answer from the numbered passages (tokens streamed when it can); ``wanted``:
        the question as the extractive answer matches it, when the model fails."""
        from smolagents import ChatMessage, MessageRole

        passages = [self.log.add(h.chunk, h) for h in hits[: self.settings.answer_passages]]
        messages = [
            ChatMessage(role=MessageRole.SYSTEM, content=[{"type": "text", "text": system_prompt(self.settings)}]),
            ChatMessage(role=MessageRole.USER,
                        content=[{"type": "text",
                                  "text": grounded_prompt(question, passages, self.settings, self.assistant.index)}]),
        ]
        t = time.perf_counter()
        pieces: list[str] = []
        try:
            if hasattr(model, "generate_stream"):
                for delta in model.generate_stream(messages):
                    if delta.content:
                        pieces.append(delta.content)
                        yield TokenEvent(delta.content)
            else:
                pieces.append(model.generate(messages).content or "")
                yield TokenEvent(pieces[-1])
        except Exception as exc:  # noqa: BLE001 - a model failure must become a notice, never a stack trace
            self.trace.add("generation", _model_label(info), started=t, error=f"{type(exc).__name__}: {exc}")
            return self.extractive(wanted, hits, _failure_notice(info, exc))
        raw = "".join(pieces).strip()
        self.trace.add("generation", _model_label(info), started=t, output=raw,
                       chunk_ids=[p.chunk.chunk_id for p in passages])
        return self.verified(raw, "grounded")

    def agent(self, model, info, question: str, history: str, hits, is_covered: bool,
              wanted: str) -> Iterator[Event]:
        """The manager agent answers, delegating to the notes and training agents."""
        from smolagents.memory import FinalAnswerStep

        from coursemate.agents.manager import StepRecorder, build_team, manager_task

        passages = [self.log.add(h.chunk, h) for h in hits[: self.settings.answer_passages]] if is_covered else []
        deadline = time.time() + self.settings.llm_timeout
        recorder = StepRecorder(self.trace, self.log, deadline)  # after the passages: the agents' steps record theirs
        manager = build_team(model, self.assistant.index, self.log, self.settings, recorder,
                             corrector=self.assistant.corrector, run_manager=self._run_manager())
        final: Any = None
        try:
            task = manager_task(question, history, self.settings, passages, self.assistant.index)
            for event in manager.run(task, stream=True):
                yield from self.new_steps()
                if isinstance(event, FinalAnswerStep):
                    final = event.output
        except Exception as exc:  # noqa: BLE001 - model down or slow, agent interrupted: cited passages + notice
            timed_out = time.time() > deadline
            self.trace.add("agent_error", type(exc).__name__, error=str(exc)[:500])
            notice = (f"The agents took longer than {self.settings.llm_timeout:g} s ({_model_label(info)}); "
                      "here is what the notes say instead." if timed_out else _failure_notice(info, exc))
            if is_covered:
                return self.extractive(wanted, hits, notice)
            return _Result(NOT_IN_NOTES, [], "not_in_notes", notice)
        raw = str(final or "").strip()
        notice = None
        if recorder.max_steps_reached:
            notice = (f"The agents stopped after {self.settings.agent_max_steps} steps "
                      f"({', '.join(dict.fromkeys(recorder.max_steps_reached))}); the answer may be incomplete.")
        delegated = {s.name for s in self.trace.steps if s.kind == "tool_call" and s.agent == "manager"}
        if "training_agent" in delegated and "notes_agent" not in delegated:  # a report of runs, not of the notes
            return _Result(raw, [], "agent", notice)
        result = self.verified(raw, "agent", notice)
        if is_covered and any(not s.supported for s in result.sentences):
            beside = self.extractive(wanted, hits, None, renumber=False)
            if beside.mode == "extractive":
                result.extractive = beside.text
                merged = {c.n: c for c in result.citations + beside.citations}
                result.citations = sorted(merged.values(), key=lambda c: c.n)
        return result

    def _run_manager(self):
        """The assistant's training runs, acting for this answer's user; dataset paths confined to the data roots."""
        if self.assistant._run_manager is None:
            from coursemate.tools.training import RunManager

            self.assistant._run_manager = RunManager(self.settings, confined=True)
        return self.assistant._run_manager.as_user(self.user)


def _custom_info(model):
    from coursemate.agents.llm import LLMInfo

    name = getattr(model, "model_id", None) or type(model).__name__
    return LLMInfo("custom", name, None, True, f"{name} (given to CourseAssistant)")


def _model_label(info) -> str:
    if info.kind == "extractive":
        return "extractive (no language model)"
    if not info.reachable:
        return f"none ({info.detail})"
    return f"{info.model or info.kind} ({info.kind}{', ' + info.url if info.url else ''})"


def _no_model_notice(info) -> str:
    shown = "showing the most relevant passages" if info.kind == "none" else "answering with sentences"
    return f"No language model is available ({info.detail}); {shown} from the notes."


def _failure_notice(info, exc: Exception) -> str:
    reason = " ".join(str(exc).split())[:200] or type(exc).__name__
    return (f"The language model {info.model or ''} at {info.url or info.kind} failed ({reason}); "
            "answering with sentences from the notes.")
