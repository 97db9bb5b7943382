"""Compare runs side by side: "compare my last two runs" (read only: acts at once); a Markdown table in the chat."""

from __future__ import annotations

from typing import Any

from coursemate.agents.intents import Clarify, Context, Documents, Intent, Outcome
from coursemate.agents.intents._parse import run_reference
from coursemate.agents.intents._runs import run_ids
from coursemate.tools.training import COMPARE_COLUMNS, RunSummary
from coursemate.tools.training.report import percent, runs_table

TABLE = (("id", "id"), ("status", "status"), ("model", "model"), ("dataset", "dataset"),
         ("epochs", "epochs_completed"), ("params", "params"), ("best acc", "best_test_accuracy"),
         ("final acc", "final_test_accuracy"), ("train s", "train_seconds"))  # (header, RunSummary field)


class CompareRuns(Intent):
    name = "compare_runs"
    tool = "compare_training_runs"
    question_cue = r"\b(?:my|our) (?:\w+ ){0,3}(?:runs|experiments)\b"
    cues = (r"\b(?:compare|comparison|side by side|stack up|better|versus|vs\.?)\b",)
    examples = (
        "compare my previous runs",
        "compare run 20250101-120000-abc123 and run 20250102-120000-def456",
        "which of my runs is better?",
        "put my last runs side by side",
        "how do my last three runs compare",
        "show a comparison of the two runs",
        "compare the accuracy of my runs",
        "difference between my last two training runs",
    )

    def arguments(self, text: str, documents: Documents) -> dict[str, Any]:
        return run_reference(" ".join(text.lower().split()))

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        if not arguments:
            recent = [s.id for s in context.runs.list()][-2:]
            default = f"your last two runs ({', '.join(recent)})" if len(recent) == 2 else "your last two runs"
            raise Clarify(f'Which runs should I compare? By default I would compare {default}: say "compare my last '
                          'two runs" or give the run ids.')
        ids = run_ids(context.runs, arguments)
        summaries = context.runs.compare(ids)
        rows = [{c: getattr(s, c) for c in COMPARE_COLUMNS} for s in summaries]
        markdown = f"Comparison of {len(summaries)} runs:\n\n{comparison_table(summaries)}"
        return Outcome({"run_ids": " ".join(ids)}, runs_table(summaries), markdown, {"rows": rows})


def comparison_table(summaries: list[RunSummary]) -> str:
    """Compared runs as a Markdown table."""

    def cell(field: str, value: Any) -> str:
        if value is None:
            return "-"
        if field.endswith("accuracy"):
            return percent(value)
        if field == "train_seconds":
            return f"{value:.1f}"
        return f"{value:,}" if field == "params" else str(value)

    lines = ["| " + " | ".join(h for h, _ in TABLE) + " |", "|" + " --- |" * len(TABLE)]
    lines += ["| " + " | ".join(cell(f, getattr(s, f)) for _, f in TABLE) + " |" for s in summaries]
    return "\n".join(lines)


INTENT = CompareRuns()
