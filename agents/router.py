"""The offline intent router: which tool a chat request is for, without a language model.

A nearest-example router over the index's own embedding model (all-MiniLM-L6-v2): the example utterances of
each intent (``agents/routes.yaml``, data) are embedded once. A request (its quoted text and run ids masked) is
embedded once too; each intent scores its most similar example's cosine similarity, plus ``CUE_BONUS`` for each
of the intent's cue patterns (also in routes.yaml) that the request matches. The best intent wins, unless it is a
tool scoring under ``MIN_SCORE`` (``QUESTION_MARGIN`` more for a question about the subject rather than a
request addressed to the assistant): then the request is a question for the notes. (The ``semantic-router``
library does the same, but pulls in two dozen cloud client packages and takes five seconds to import.)

>>> router = IntentRouter(index)
>>> router.route("can you fit the small cnn on digits, three passes, lr 0.01?").intent
'train'
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from coursemate.errors import CoursemateError

ROUTES_PATH = Path(__file__).with_name("routes.yaml")
QUESTION = "question"
CUE_BONUS = 0.25  # added to an intent's similarity when one of its cues matches (dev split)
MIN_SCORE = 0.5  # a tool intent scoring less is a question for the notes (dev split)
QUESTION_MARGIN = 0.3  # a question about the course ("what is text summarization?") needs this much more (dev split)
_QUESTION_FORM = re.compile(r"^\W*(?:what|why|how(?! about)|which|when|where|who|whose|does|do|did|is|are|was|were|"
                            r"should|would|could|can|will|in what|besides|to what|at what|up to)\b")
_ADDRESSED = re.compile(r"\b(?:can|could|would|will) you\b|\b(?:me|my|mine|please)\b|\bi (?:have|started|ran|trained)\b"
                        r"|\b(?:which|what|where do the) notes\b")
_QUOTED = re.compile(r"[\"“”](.+?)[\"“”]|(?<!\w)'(.+?)'(?!\w)")
_RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{6}\b")


@dataclass(frozen=True)
class Route:
    """The intent chosen for a request, every intent's best similarity, and how long routing took."""

    intent: str
    scores: dict[str, float]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        top = sorted(self.scores.items(), key=lambda kv: -kv[1])[:3]
        return {"intent": self.intent, "scores": {k: round(v, 3) for k, v in top}, "ms": round(1000 * self.seconds, 1)}


def load_routes(path: Path = ROUTES_PATH) -> dict[str, dict[str, list[str]]]:
    """``{intent: {"examples": [...], "cues": [...]}}`` from the YAML file; CoursemateError when malformed."""
    try:
        routes = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CoursemateError(f"cannot read the routes file {path}: {exc}") from None
    well_formed = isinstance(routes, dict) and QUESTION in routes and all(
        isinstance(r, dict) and r.get("examples") and all(isinstance(u, str) for u in r["examples"] + r.get("cues", []))
        for r in routes.values())
    if not well_formed:
        raise CoursemateError(f"{path}: expected intents, each with a list of examples (and of cues), "
                              f"including {QUESTION!r}")
    return routes


def masked(text: str) -> str:
    """The request as the router embeds it: lowercased, quoted text and run ids replaced by placeholders."""
    text = _RUN_ID.sub("run", _QUOTED.sub(" this text ", text))
    return " ".join(text.lower().split())


def is_course_question(request: str) -> bool:
    """Whether ``request`` is phrased as a question about the subject, not addressed to the assistant's tools
    ("what is text summarization?" is; "can you summarize session 3?" and "how is my run doing?" are not)."""
    return bool(_QUESTION_FORM.match(request)) and not _ADDRESSED.search(request)


class IntentRouter:
    """Routes requests to the intents of ``routes`` (default: agents/routes.yaml) with ``index``'s embedder."""

    def __init__(self, index, routes: dict[str, dict[str, list[str]]] | None = None) -> None:
        self.index = index
        routes = routes or load_routes()
        self.intents = list(routes)
        self.labels = [intent for intent, route in routes.items() for _ in route["examples"]]
        self.vectors = index.embed([u for route in routes.values() for u in route["examples"]])
        try:
            self.cues = {intent: [re.compile(c) for c in route.get("cues", [])] for intent, route in routes.items()}
        except re.error as exc:
            raise CoursemateError(f"a cue of the routes file is not a valid regular expression: {exc}") from None

    def route(self, text: str) -> Route:
        """The intent of ``text`` (embedded once)."""
        started = time.perf_counter()
        request = masked(text)
        similarity = self.vectors @ self.index.embed([request])[0]
        scores = dict.fromkeys(self.intents, -1.0)
        for label, value in zip(self.labels, similarity.tolist()):
            scores[label] = max(value, scores[label])
        for intent, cues in self.cues.items():
            scores[intent] += CUE_BONUS * sum(bool(cue.search(request)) for cue in cues)
        best = max(self.intents, key=scores.__getitem__)
        floor = MIN_SCORE + (QUESTION_MARGIN if is_course_question(request) else 0.0)
        chosen = QUESTION if best != QUESTION and scores[best] < floor else best
        return Route(chosen, scores, time.perf_counter() - started)
