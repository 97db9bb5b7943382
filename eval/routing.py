"""Routing evaluation: does the offline router pick the right tool, with the right arguments, fast?

Over ``eval/datasets/chat_requests.jsonl`` (tool requests, many phrased indirectly, mixed with course questions
that use training words), for one split:

- intent accuracy: the routed intent is the gold one (a course question must stay a question);
- argument exact match: over the tool requests, the intent is right and the extracted arguments equal the gold
  ones exactly (values as written: validation is the tool's job);
- routing latency: embedding the request, choosing the intent and extracting the arguments, p50 and p95.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from coursemate.errors import CoursemateError
from coursemate.io import read_jsonl
from eval.datasets import SPLITS

CHAT_REQUESTS = Path(__file__).resolve().parent / "datasets" / "chat_requests.jsonl"
QUESTION = "question"


def load_requests(split: str, path: Path | str = CHAT_REQUESTS) -> list[dict[str, Any]]:
    """The requests of ``split`` (dev | test | all)."""
    if split not in (*SPLITS, "all"):
        raise CoursemateError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}, all")
    rows = read_jsonl(path)
    return [r for r in rows if split == "all" or r["split"] == split]


def evaluate_routing(index, split: str = "test", path: Path | str = CHAT_REQUESTS,
                     router=None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(summary, rows)`` of the router over the requests of ``split`` (``router``: default one over ``index``)."""
    from agents.arguments import extract
    from agents.router import IntentRouter

    router = router or IntentRouter(index)
    documents = [(d.doc_id, d.title) for d in index.documents.values()]
    requests = load_requests(split, path)
    router.route("warm up")  # the first embedding call pays one-off session costs
    rows = []
    for request in requests:
        started = time.perf_counter()
        intent = router.route(request["text"]).intent
        arguments = extract(intent, request["text"], documents)
        seconds = time.perf_counter() - started
        rows.append({"id": request["id"], "text": request["text"], "gold_intent": request["intent"],
                     "intent": intent, "gold_arguments": request["arguments"], "arguments": arguments,
                     "intent_ok": intent == request["intent"],
                     "arguments_ok": intent == request["intent"] and arguments == request["arguments"],
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
        "routing_p50_ms": round(statistics.median(latencies), 2),
        "routing_p95_ms": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 2),
        "confusions": dict(confusions),
    }
