"""CourseAssistant: the Python API of the agents, a facade over the answerers.

>>> from coursemate.agents import CourseAssistant
>>> answer = CourseAssistant().ask("Why does the course use global average pooling?")
>>> answer.answer, [c.title for c in answer.citations], answer.model

For each message: a follow-up is resolved (:mod:`agents.conversation`); without a served model, the offline router
(:mod:`agents.router`) first decides whether it is a question for the notes or a request for an intent (start,
watch, cancel, list or compare runs, summarize, spell-check, search, quiz; :mod:`agents.intents`), and a request is
carried out or proposed (:mod:`agents.routed`). A question is spelling-corrected once and searched (the corrected
phrasing, the typed one fused in at a lower weight, and the notes' abbreviation of its term), its coverage is
checked (including a named term the notes never use), and the answerer for the model at hand writes the answer
(:mod:`agents.answerers`: extractive, passages, grounded model or the agent team). A question the notes do not cover
gets "not in the notes". Every step is traced and streamed as typed events (:mod:`agents.events`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from coursemate.agents import routed
from coursemate.agents.answerers import (
    NOT_IN_NOTES_MODE,
    Answerer,
    AnswerRun,
    Draft,
    Retrieved,
    choose_answerer,
    model_label,
)
from coursemate.agents.conversation import Conversation, ConversationStore, Turn, resolve_follow_up
from coursemate.agents.events import Answer, AnswerEvent, Event, PendingAction
from coursemate.agents.intents import QUESTION, load_intents
from coursemate.agents.trace import Trace
from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.tools.grounding.acronyms import abbreviated
from coursemate.tools.grounding.coverage import coverage
from coursemate.tools.grounding.questions import analyze

if TYPE_CHECKING:
    from coursemate.retrieval.spelling import Correction

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
        self._runs = None
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

    def use_index(self, index) -> None:
        """Answer from ``index`` from now on (the notes changed); what was built over the previous one is dropped."""
        with self._lock:
            self._index, self._router, self._corrector = index, None, None

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

    @property
    def runs(self):
        """The assistant's training runs (:class:`tools.training.RunManager`), dataset paths confined to the data
        roots; ``runs.as_user(user)`` acts for one user."""
        with self._lock:
            if self._runs is None:
                from coursemate.tools.training import RunManager

                self._runs = RunManager(self.settings, confined=True)
            return self._runs

    def answerer(self) -> Answerer:
        """The answerer for the current model (:func:`agents.answerers.choose_answerer`)."""
        model, info = self.llm()
        return choose_answerer(model, info, self.settings.agent_mode)

    def mode(self) -> str:
        """How answers are made with the current model: agent, grounded, extractive (no model) or passages."""
        return self.answerer().mode

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
        run = self._run(trace, user)
        answerer = self.answerer()
        trace.model, trace.mode = model_label(answerer.info), answerer.mode
        if not answerer.routes_itself:  # no capable served model: the offline router decides
            t = time.perf_counter()
            plan = self.router.plan(question, [(d.doc_id, d.title) for d in self.index.documents.values()])
            trace.add("route", plan.intent, started=t, arguments=plan.route.to_dict())
            yield from run.new_steps()
            if plan.intent != QUESTION:
                trace.add("arguments", plan.intent, arguments={**plan.arguments, "acts_now": plan.acts_now})
                draft = yield from (routed.carry_out(run, plan.intent, plan.arguments) if plan.acts_now
                                    else routed.propose(run, plan.intent, plan.arguments))
                yield AnswerEvent(self._routed_answer(question, conversation_id, draft, trace, started, user))
                return

        did_you_mean, asked = yield from self._retrieve(question, resolved, conversation, run)
        draft = yield from answerer.answer(run, asked)
        trace.total_seconds = round(time.perf_counter() - started, 4)
        yield from run.new_steps()

        answer = Answer(question, draft.text, draft.citations, trace.model, draft.mode, conversation_id,
                        covered=asked.covered and draft.mode != NOT_IN_NOTES_MODE, did_you_mean=did_you_mean,
                        notice=draft.notice, sentences=draft.sentences, extractive=draft.extractive, trace=trace)
        self.conversations.add(conversation_id, Turn(question, resolved, answer.answer, answer.to_dict()), user)
        yield AnswerEvent(answer)

    def confirm(self, action: PendingAction, conversation_id: str = "default", user: str | None = None) -> Answer:
        """Carry out an action an answer proposed (``answer.pending``), for ``user`` (see :meth:`stream`)."""
        if action.intent not in load_intents():
            raise CoursemateError(f"cannot confirm an action of unknown intent {action.intent!r}")
        started = time.perf_counter()
        trace = Trace(action.prompt, conversation_id)
        trace.model, trace.mode = routed.ROUTER_MODEL, "confirm"
        trace.add("confirmed", action.intent, arguments=action.arguments, output=action.prompt)
        events = routed.carry_out(self._run(trace, user), action.intent, action.arguments)
        while True:
            try:
                next(events)
            except StopIteration as done:
                return self._routed_answer(action.prompt, conversation_id, done.value, trace, started, user)

    def _run(self, trace: Trace, user: str | None) -> AnswerRun:
        """An answer in the making, acting for ``user``."""
        return AnswerRun(self.index, self.settings, trace, runs=lambda: self.runs.as_user(user),
                         corrector=lambda: self.corrector)

    def _retrieve(self, question: str, resolved: str, conversation: Conversation,
                  run: AnswerRun) -> Generator[Event, None, tuple[str | None, Retrieved]]:
        """Correct, search and check the coverage of the (resolved) question: ``(did_you_mean, retrieved)``."""
        trace = run.trace
        did_you_mean, correction = self._correct(question, resolved, trace)
        yield from run.new_steps()
        corrected = correction.corrected if correction is not None else resolved
        t = time.perf_counter()
        short = abbreviated(corrected, self.index.vocabulary(), [d.text.lower() for d in self.index.documents.values()])
        hits = self.index.search(resolved, k=max(self.settings.answer_passages, 5), correct=correction or False,
                                 also=[short] if short else ()).hits
        wanted = corrected if short is None else f"{corrected} ({short})"  # what the extractive answer matches
        trace.add("retrieval", "search_notes", started=t, arguments={"query": corrected, "typed_query": resolved},
                  output=[f"{h.chunk.chunk_id} ({h.score:.4f})" for h in hits],
                  chunk_ids=[h.chunk.chunk_id for h in hits])
        signals = coverage(self.index, corrected, hits)
        unknown = analyze(corrected).missing(self.index.uses)  # "DDIM", "rotary": the notes never name it
        covered = signals.score() >= self.settings.coverage_min_score and unknown is None
        trace.add("coverage", "covered" if covered else "not covered",
                  arguments={**signals.to_dict(), "min_score": self.settings.coverage_min_score,
                             "missing_term": unknown})
        yield from run.new_steps()
        said = conversation.turns[-1].answer if resolved != question and conversation.turns else ""  # a follow-up
        return did_you_mean, Retrieved(resolved, wanted, hits, covered, conversation.history_text(), said)

    def _routed_answer(self, question: str, conversation_id: str, draft: Draft, trace: Trace,
                       started: float, user: str | None) -> Answer:
        """The answer of a routed request (or a confirmed action), recorded in its conversation."""
        trace.total_seconds = round(time.perf_counter() - started, 4)
        answer = Answer(question, draft.text, draft.citations, routed.ROUTER_MODEL, draft.mode, conversation_id,
                        covered=True, trace=trace, tool_result=draft.tool, pending=draft.pending)
        self.conversations.add(conversation_id, Turn(question, question, answer.answer, answer.to_dict()), user)
        return answer

    def _correct(self, question: str, resolved: str, trace: Trace) -> tuple[str | None, Correction | None]:
        """``(did_you_mean, the correction of the resolved question)``: each text corrected once (None when the
        ``spelling`` setting is off)."""
        corrector = self.corrector
        if corrector is None:
            return None, None
        t = time.perf_counter()
        typed = corrector.correct(question)
        correction = corrector.correct(resolved) if resolved != question else typed
        trace.add("spelling", "correct_spelling", started=t, arguments={"text": question},
                  output=typed.corrected if typed.changed else "(no change)")
        return (typed.corrected if typed.changed else None), correction


def _custom_info(model):
    from coursemate.agents.llm import LLMInfo

    name = getattr(model, "model_id", None) or type(model).__name__
    return LLMInfo("custom", name, None, True, f"{name} (given to CourseAssistant)")
