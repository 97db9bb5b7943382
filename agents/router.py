"""The offline intent router: which intent a chat request is for, and whether it may act at once, without a model.

A nearest-example router over the index's own embedding model (all-MiniLM-L6-v2): the example utterances of
each intent (:mod:`agents.intents`, one module per intent) are embedded once. A request (its quoted text and run
ids masked) is embedded once too; each intent scores its most similar example's cosine similarity, plus
``CUE_BONUS`` for each of the intent's cue patterns that the request matches. The best intent wins, unless it is a
tool scoring under ``MIN_SCORE``: then the request is a question for the notes. A question about the course (a
question not addressed to the assistant, :func:`is_course_question`) reaches a tool only when it matches that
intent's ``question_cue`` ("what is session 9 about?"), and the question intent's own cues count only for requests
not addressed to the assistant. (The ``semantic-router`` library does the same, but pulls in two dozen cloud
client packages and takes five seconds to import.)

:meth:`IntentRouter.plan` adds the arguments and, for an intent that starts or stops runs, whether it acts at
once: only an explicit command (:func:`is_command`) that carries what the action needs, routed with a clear
margin; anything else waits for a confirmation.

>>> router = IntentRouter(index)
>>> router.route("can you fit the small cnn on digits, three passes, lr 0.01?").intent
'train'
>>> router.plan("which optimizer should I use to train a CNN, SGD or Adam?", documents).intent
'question'
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from coursemate.agents.intents import QUESTION, Documents, Intent, load_intents
from coursemate.agents.intents._parse import QUOTED, RUN_ID

CUE_BONUS = 0.25  # added to an intent's similarity when one of its cues matches (dev split)
MIN_SCORE = 0.5  # a tool intent scoring less is a question for the notes (dev split)
ACT_MARGIN = 0.15  # an action acts at once only when its intent leads the next one by this much (dev split)
_QUESTION_FORM = re.compile(r"^\W*(?:what|why|how(?! about)|which|when|where|who|whose|does|do|did|is|are|was|were|"
                            r"should|would|could|can|will|in what|besides|to what|at what|up to)\b|\?\W*$")
_ADDRESSED = re.compile(r"^\W*(?:(?:so|ok|okay|hey|hi|and|now|please),? )?(?:can|could|would|will) you\b|"
                        r"\bdo you think\b|\b(?:me|my|mine|please)\b|\bi (?:have|started|ran|trained)\b|"
                        r"\b(?:have|did) i\b|\b(?:which|what|where do the) notes\b|\bthe notes (?:say|tell|cover)\b")
_HEDGED = re.compile(r"\b(?:should (?:i|we)|shall (?:i|we)|which [\w ]+ should|would it|is it (?:worth|better|a good)|"
                     r"do you think|maybe|perhaps|might|i (?:think|guess|wonder|was wondering|am thinking|'m thinking)|"
                     r"thinking (?:of|about)|considering|what if|not sure|recommend|advice|suggest|curious|"
                     r"see (?:how|what|if|whether))\b")


@dataclass(frozen=True)
class Route:
    """The intent chosen for a request, every intent's score, its lead over the next intent, and the time taken."""

    intent: str
    scores: dict[str, float]
    margin: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        top = sorted(self.scores.items(), key=lambda kv: -kv[1])[:3]
        return {"intent": self.intent, "scores": {k: round(v, 3) for k, v in top}, "margin": round(self.margin, 3),
                "ms": round(1000 * self.seconds, 1)}


@dataclass(frozen=True)
class Plan:
    """A routed request: its route, its arguments, and whether it acts at once (False: an action that waits for a
    confirmation; a read-only intent always acts at once)."""

    route: Route
    arguments: dict[str, Any]
    acts_now: bool

    @property
    def intent(self) -> str:
        return self.route.intent


def masked(text: str) -> str:
    """The request as the router reads it: lowercased, quoted text and run ids replaced by placeholders."""
    text = RUN_ID.sub("run", QUOTED.sub(" this text ", text))
    return " ".join(text.lower().split())


def is_addressed(request: str) -> bool:
    """Whether ``request`` is addressed to the assistant or is about the user's own runs and texts ("can you ...",
    "my run", "what do the notes say", a run id)."""
    return bool(RUN_ID.search(request) or _ADDRESSED.search(masked(request)))


def is_course_question(request: str) -> bool:
    """Whether ``request`` is phrased as a question about the subject, not addressed to the assistant's tools
    ("what is text summarization?" is; "can you summarize session 3?" and "how is my run doing?" are not)."""
    return bool(_QUESTION_FORM.search(masked(request))) and not is_addressed(request)


def is_command(request: str) -> bool:
    """Whether ``request`` is an explicit command: not a question (a polite "can you ...?" included), not hedged
    and not seeking advice ("should I", "which ... should I use", "maybe")."""
    request = masked(request)
    return not _QUESTION_FORM.search(request) and not _HEDGED.search(request)


class IntentRouter:
    """Routes requests to ``intents`` (default: every module of agents/intents/) with ``index``'s embedder."""

    def __init__(self, index, intents: dict[str, Intent] | None = None) -> None:
        self.index = index
        self.intents = intents or load_intents()
        self.labels = [name for name, intent in self.intents.items() for _ in intent.examples]
        self.vectors = index.embed([u for intent in self.intents.values() for u in intent.examples])
        self.cues = {name: [re.compile(c) for c in intent.cues] for name, intent in self.intents.items()}

    def route(self, text: str) -> Route:
        """The intent of ``text`` (embedded once)."""
        started = time.perf_counter()
        request = masked(text)
        similarity = self.vectors @ self.index.embed([request])[0]
        scores = dict.fromkeys(self.intents, -1.0)
        for label, value in zip(self.labels, similarity.tolist()):
            scores[label] = max(value, scores[label])
        addressed = is_addressed(text)
        for name, cues in self.cues.items():
            if name != QUESTION or not addressed:  # the question's cues are those of questions about the subject
                scores[name] += CUE_BONUS * sum(bool(cue.search(request)) for cue in cues)
        asked = bool(_QUESTION_FORM.search(request)) and not addressed
        eligible = [name for name, intent in self.intents.items()
                    if name == QUESTION or not asked or intent.answers_question(request)]
        best = max(eligible, key=scores.__getitem__)
        chosen = QUESTION if best != QUESTION and scores[best] < MIN_SCORE else best
        runner_up = max((scores[n] for n in self.intents if n != chosen), default=-1.0)
        return Route(chosen, scores, scores[chosen] - runner_up, time.perf_counter() - started)

    def plan(self, text: str, documents: Documents = ()) -> Plan:
        """The route of ``text``, its arguments, and whether it acts at once."""
        route = self.route(text)
        intent = self.intents[route.intent]
        arguments = intent.arguments(text, documents)
        acts_now = not intent.changes_runs or (is_command(text) and intent.complete(arguments)
                                              and route.margin >= ACT_MARGIN)
        return Plan(route, arguments, acts_now)
