"""Chat requests the offline router sent to a tool: call it with the request's arguments, return its result.

The tools are those of the agents: the training agent's tool objects (:mod:`tools.training.agent_tools`), the
summarizer (:mod:`tools.summarize`), the notes' spelling corrector, the ``search_notes`` tool and the quiz
generator (:mod:`tools.quiz`). A request missing what the tool needs gets a short clarifying reply that says
what would be used by default; an invalid one gets the tool's own error (the one the CLI prints).
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from agents.events import ToolResult
from agents.trace import Trace
from coursemate.errors import CoursemateError
from tools.citations import Citation, PassageLog, passage_heading
from tools.training.config import TrainingConfig
from tools.training.store import ACTIVE_STATUSES

EXAMPLE_TRAINING = "train mnist_cnn on digits for 2 epochs"
COMPARE_COLUMNS = (("id", "id"), ("status", "status"), ("model", "model"), ("dataset", "dataset"),
                   ("epochs", "epochs_completed"), ("params", "params"), ("best acc", "best_test_accuracy"),
                   ("final acc", "final_test_accuracy"), ("train s", "train_seconds"))


class Clarify(Exception):
    """The request lacks an argument the tool needs; the message asks for it and states the defaults."""


def dispatch(intent: str, arguments: dict[str, Any], *, index, runs, trace: Trace) -> tuple[ToolResult, list[Citation]]:
    """Call the tool of ``intent`` with ``arguments`` (see :func:`agents.arguments.extract`); ``runs``: the
    RunManager acting for the user. Returns the result and the citations of the passages it shows."""
    handler, tool = HANDLERS[intent]
    started = time.perf_counter()
    try:
        called, text, data, citations = handler(arguments, index=index, runs=runs)
    except Clarify as question:
        trace.add("clarify", intent, started=started, arguments=arguments, output=str(question))
        return ToolResult("clarify", "", arguments, str(question), {"intent": intent}), []
    except CoursemateError as exc:
        trace.add("tool_call", tool, started=started, arguments=arguments, error=str(exc))
        return ToolResult("error", tool, arguments, f"Error: {exc}", {"intent": intent, "error": str(exc)}), []
    trace.add("tool_call", tool, started=started, arguments=called, output=text,
              chunk_ids=[c.chunk_id for c in citations])
    return ToolResult(intent, tool, called, text, data), citations


def _checked(output: str) -> str:
    """A training tool's output, or CoursemateError with its message when it reports an error."""
    if output.startswith("Error: "):
        raise CoursemateError(output[len("Error: "):])
    return output


# ------------------------------------------------------------------------------------------------ training
def _train(arguments, *, index, runs):
    from tools.training.agent_tools import StartTrainingRunTool, started_text

    if not {"model", "dataset"} & set(arguments):
        d = TrainingConfig()
        raise Clarify(f"Which model and dataset should I train? With the defaults I would train {d.model} on "
                      f"{d.dataset} for {d.epochs} epochs (batch size {d.batch_size}, {d.optimizer} lr {d.lr:g}); "
                      f'say for example "{EXAMPLE_TRAINING}".')
    run_id, config = StartTrainingRunTool(runs).start(**arguments)
    text = started_text(run_id, config) + " Its loss and accuracy curves plot live in the Training tab."
    return arguments, text, {"run_id": run_id, "config": config.to_dict()}, []


def _status(arguments, *, index, runs):
    from tools.training.agent_tools import TrainingRunStatusTool

    ids = run_ids(runs, arguments)
    tool = TrainingRunStatusTool(runs)
    text = "\n\n".join(_checked(tool(run_id=run_id)) for run_id in ids)
    return {"run_id": " ".join(ids)}, text, {"run_ids": ids}, []


def _cancel(arguments, *, index, runs):
    from tools.training.agent_tools import CancelTrainingRunTool

    ids = run_ids(runs, arguments, prefer_active=True)
    tool = CancelTrainingRunTool(runs)
    text = "\n".join(_checked(tool(run_id=run_id)) for run_id in ids)
    return {"run_id": " ".join(ids)}, text, {"run_ids": ids}, []


def _list(arguments, *, index, runs):
    from tools.training.agent_tools import ListTrainingRunsTool

    tool = ListTrainingRunsTool(runs)
    return {}, tool(), {}, []


def _compare(arguments, *, index, runs):
    from tools.training.agent_tools import CompareTrainingRunsTool

    if not arguments:
        recent = [s["id"] for s in runs.list()][-2:]
        default = f"your last two runs ({', '.join(recent)})" if len(recent) == 2 else "your last two runs"
        raise Clarify(f'Which runs should I compare? By default I would compare {default}: say "compare my last '
                      'two runs" or give the run ids.')
    ids = run_ids(runs, arguments)
    tool = CompareTrainingRunsTool(runs)
    rows = json.loads(_checked(tool(run_ids=" ".join(ids))))
    return {"run_ids": " ".join(ids)}, comparison_table(rows), {"rows": rows}, []


def run_ids(runs, reference: dict[str, Any], prefer_active: bool = False) -> list[str]:
    """The run ids a reference names: ``{"run_ids": [...]}`` as given, ``{"last": n}`` the n newest runs (with
    ``prefer_active``, ``{"last": 1}`` is the newest run still training, when there is one)."""
    if "run_ids" in reference:
        return list(reference["run_ids"])
    n = reference.get("last", 1)
    summaries = runs.list()
    if not summaries:
        raise CoursemateError(f'there are no training runs yet; start one, for example "{EXAMPLE_TRAINING}"')
    if n < 1:
        raise CoursemateError(f"the number of runs must be at least 1; got {n}")
    if len(summaries) < n:
        raise CoursemateError(f"you asked for your last {n} runs but there are only {len(summaries)}: "
                              f"{', '.join(s['id'] for s in summaries)}")
    active = [s["id"] for s in summaries if s["status"] in ACTIVE_STATUSES]
    if prefer_active and n == 1 and active:
        return active[-1:]
    return [s["id"] for s in summaries[-n:]]


def comparison_table(rows: list[dict[str, Any]]) -> str:
    """Compared runs as a Markdown table."""
    from tools.training.report import percent

    def cell(key: str, value: Any) -> str:
        if value is None:
            return "-"
        if key.endswith("accuracy"):
            return percent(value)
        if key == "train_seconds":
            return f"{value:.1f}"
        return f"{value:,}" if isinstance(value, int) and key == "params" else str(value)

    lines = ["| " + " | ".join(h for h, _ in COMPARE_COLUMNS) + " |", "|" + " --- |" * len(COMPARE_COLUMNS)]
    lines += ["| " + " | ".join(cell(k, row.get(k)) for _, k in COMPARE_COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ notes
def _source(arguments, what: str, example: str) -> dict[str, Any]:
    """The one source (session, doc_id or topic) of a summary or quiz; Clarify when none or two fit."""
    if "doc_candidates" in arguments:
        raise Clarify(f"Which document should I {what}: {'; '.join(arguments['doc_candidates'])}?")
    source = {k: arguments[k] for k in ("session", "doc_id", "topic") if k in arguments}
    if not source:
        raise Clarify(f'What should I {what}? Name a session ("{example} session 3"), a document or a topic.')
    return source


def _summarize(arguments, *, index, runs):
    from tools.summarize import summarize

    source = _source(arguments, "summarize", "summarize")
    summary = summarize(index, **source)
    return source, summary.text, {"method": summary.method}, summary.citations


def _spell(arguments, *, index, runs):
    from retrieval.spelling import SpellingCorrector

    if "text" not in arguments:
        raise Clarify('Which text should I spell-check? Put it in quotes, for example: spell-check "teh gradeint".')
    correction = (index.corrector or SpellingCorrector()).correct(arguments["text"])
    changes = [list(pair) for pair in correction.changes]
    text = correction.corrected + ("\n(changes: " + ", ".join(f"{w} -> {r}" for w, r in changes) + ")"
                                   if changes else "\n(no spelling changes)")
    return arguments, text, {"corrected": correction.corrected, "changes": changes}, []


def _search(arguments, *, index, runs):
    from tools.notes import SearchNotesTool

    if "query" not in arguments:
        raise Clarify('What should I search the notes for? For example: "search the notes for dropout".')
    log = PassageLog()
    tool = SearchNotesTool(index, log)
    tool(query=arguments["query"])
    passages = log.passages()
    text = "\n".join(passage_heading(p) for p in passages) or "No passages found."
    return {"query": arguments["query"], "k": 4}, text, {}, [p.citation() for p in passages]


def _quiz(arguments, *, index, runs):
    from tools.quiz import generate_quiz

    source = _source(arguments, "quiz you on", "quiz me on")
    options = {k: arguments[k] for k in ("n", "kind") if k in arguments}
    items = generate_quiz(index, **source, **{"n": 5, **options})
    numbers: dict[str, int] = {}
    for item in items:
        numbers.setdefault(item.citation.chunk_id, len(numbers) + 1)
    lines = [f"{i}. {item.question} [{numbers[item.citation.chunk_id]}]" + (
        f" ({' / '.join(item.choices)})" if item.choices else "") for i, item in enumerate(items, start=1)]
    lines += ["", "Answers: " + "; ".join(f"{i}. {item.answer}" for i, item in enumerate(items, start=1))]
    citations = list({item.citation.chunk_id: dataclasses.replace(item.citation, n=numbers[item.citation.chunk_id])
                      for item in items}.values())
    return {**source, "n": 5, **options}, "\n".join(lines), {"items": [item.to_dict() for item in items]}, citations


HANDLERS = {  # intent -> (handler, the tool it calls)
    "train": (_train, "start_training_run"), "run_status": (_status, "training_run_status"),
    "cancel_run": (_cancel, "cancel_training_run"), "list_runs": (_list, "list_training_runs"),
    "compare_runs": (_compare, "compare_training_runs"), "summarize": (_summarize, "summarize_notes"),
    "spell": (_spell, "correct_spelling"), "search": (_search, "search_notes"), "quiz": (_quiz, "generate_quiz"),
}
