"""List the training runs: "list my runs", "what have I trained so far?" (read only: acts at once)."""

from __future__ import annotations

from typing import Any

from coursemate.agents.intents import Context, Intent, Outcome
from coursemate.tools.training.report import runs_table


class ListRuns(Intent):
    name = "list_runs"
    tool = "list_training_runs"
    question_cue = r"\b(?:my|our) (?:training )?(?:runs|experiments|history)\b|\bi (?:have )?trained\b"
    cues = (r"\b(?:list|show|which|what)\b.*\b(?:runs|experiments|trained|history)\b",)
    examples = (
        "list my runs",
        "show all training runs",
        "which runs have i started?",
        "what runs do i have?",
        "show me my training history",
        "list the experiments",
        "give me a table of my runs",
        "how many runs did i do",
    )

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        summaries = context.runs.list()
        text = runs_table(summaries)
        return Outcome({}, text, f"```text\n{text}\n```", {"run_ids": [s.id for s in summaries]})


INTENT = ListRuns()
