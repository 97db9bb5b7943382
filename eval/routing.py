"""Routing evaluation: does the offline router pick the right intent, with the right arguments, fast, and safely?

Over ``eval/datasets/chat_requests.jsonl`` (tool requests, many phrased indirectly, mixed with course questions
that use tool words and advice-seeking traps), for one split:

- intent accuracy: the routed intent is the gold one (a course question must stay a question);
- argument exact match: over the tool requests, the intent is right and the extracted arguments equal the gold
  ones exactly (values as written: validation is the tool's job);
- side effects: requests that would start or cancel a run at once although they are not an explicit command for
  it (gold ``command``: false, or another intent); nothing is started, the router's plan is read;
- tool calls on course questions: gold questions the router sends to a tool;
- routing latency: embedding the request, choosing the intent and extracting the arguments, p50 and p95.

:func:`course_question_tool_calls` counts the tool calls over whole course question sets (every question of
``eval/datasets/course_questions.jsonl``, and an external set in the same format).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from coursemate.agents.intents import QUESTION
from coursemate.errors import CoursemateError
from coursemate.eval.datasets import SPLITS
from coursemate.io import read_jsonl

DATASETS = Path(__file__).resolve().parent / "datasets"
CHAT_REQUESTS = DATASETS / "chat_requests.jsonl"
COURSE_QUESTIONS = DATASETS / "course_questions.jsonl"


def load_requests(split: str, path: Path | str = CHAT_REQUESTS) -> list[dict[str, Any]]:
    """The requests of ``split`` (dev | test | all)."""
    if split not in (*SPLITS, "all"):
        raise CoursemateError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}, all")
    rows = read_jsonl(path)
    return [r for r in rows if split == "all" or r["split"] == split]


def evaluate_routing(index, split: str = "test", path: Path | str = CHAT_REQUESTS,
                     router=None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(summary, rows)`` of the router over the requests of ``split`` (``router``: default one over ``index``)."""
    from coursemate.agents.router import IntentRouter

    router = router or IntentRouter(index)
    documents = [(d.doc_id, d.title) for d in index.documents.values()]
    requests = load_requests(split, path)
    router.plan("warm up")  # the first embedding call pays one-off session costs
    rows = []
    for request in requests:
        started = time.perf_counter()
        plan = router.plan(request["text"], documents)
        seconds = time.perf_counter() - started
        acts = plan.acts_now and router.intents[plan.intent].changes_runs
        commanded = plan.intent == request["intent"] and request.get("command", False)
        rows.append({"id": request["id"], "text": request["text"], "gold_intent": request["intent"],
                     "intent": plan.intent, "gold_arguments": request["arguments"], "arguments": plan.arguments,
                     "intent_ok": plan.intent == request["intent"],
                     "arguments_ok": plan.intent == request["intent"] and plan.arguments == request["arguments"],
                     "acts_now": acts, "side_effect": acts and not commanded,
                     "command_waited": bool(request.get("command")) and not acts,
                     "indirect": request["indirect"], "ms": round(1000 * seconds, 2)})
    return summarize_rows(rows, split), rows


def summarize_rows(rows: list[dict[str, Any]], split: str) -> dict[str, Any]:
    """The metrics of evaluated rows."""
    if not rows:
        raise CoursemateError(f"no chat requests in split {split!r}")
    tools = [r for r in rows if r["gold_intent"] != QUESTION]
    questions = [r for r in rows if r["gold_intent"] == QUESTION]
    latencies = sorted(r["ms"] for r in rows)
    confusions = Counter(f"{r['gold_intent']}->{r['intent']}" for r in rows if not r["intent_ok"])
    return {
        "split": split,
        "requests": len(rows),
        "tool_requests": len(tools),
        "course_questions": len(questions),
        "indirect_share": round(sum(r["indirect"] for r in rows) / len(rows), 3),
        "intent_accuracy": round(sum(r["intent_ok"] for r in rows) / len(rows), 3),
        "questions_kept_as_questions": round(sum(r["intent_ok"] for r in questions) / len(questions), 3)
        if questions else None,
        "argument_exact_match": round(sum(r["arguments_ok"] for r in tools) / len(tools), 3) if tools else None,
        "side_effects": sum(r["side_effect"] for r in rows),
        "course_question_tool_calls": sum(r["intent"] != QUESTION for r in questions),
        "commands_that_waited": sum(r["command_waited"] for r in rows),
        "routing_p50_ms": round(statistics.median(latencies), 2),
        "routing_p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 2),
        "confusions": dict(confusions),
    }


def course_question_tool_calls(index, paths: list[Path], router=None) -> dict[str, Any]:
    """Over every question of the course question files ``paths`` (``{"question": ...}`` rows): how many the router
    sends to a tool, and which (a course question must be answered from the notes)."""
    from coursemate.agents.router import IntentRouter

    router = router or IntentRouter(index)
    counts, routed = {}, []
    for path in paths:
        try:
            questions = [row["question"] for row in read_jsonl(path)]
        except (KeyError, TypeError):
            raise CoursemateError(f"{path}: every row needs a 'question'") from None
        tools = [(q, router.route(q).intent) for q in questions]
        tools = [(q, intent) for q, intent in tools if intent != QUESTION]
        counts[str(path)] = {"questions": len(questions), "tool_calls": len(tools)}
        routed += [{"question": q, "intent": intent} for q, intent in tools]
    return {"sets": counts, "tool_calls": len(routed), "routed": routed}
