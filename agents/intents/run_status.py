"""A run's status: "how is my run doing?", "did my latest run finish?" (read only: acts at once)."""

from __future__ import annotations

from typing import Any

from coursemate.agents.intents import Context, Documents, Intent, Outcome
from coursemate.agents.intents._parse import run_reference
from coursemate.agents.intents._runs import OWN_RUN, run_ids
from coursemate.tools.training.report import describe_run, percent

RECENT_EPOCHS = 3


class RunStatus(Intent):
    name = "run_status"
    tool = "training_run_status"
    question_cue = OWN_RUN
    cues = (r"\b(?:run|training|experiment)\b.*"
            r"\b(?:done|finished|finish|progress|status|going|got|so far|reach(?:ed)?)\b",)
    examples = (
        "how is my run doing?",
        "status of my training run",
        "what is the accuracy of my last run?",
        "is the training finished yet?",
        "show the progress of run 20250101-120000-abc123",
        "how far along is the training?",
        "did my run finish?",
        "what epoch is the run at?",
        "check on the latest run",
        "how did my last run do",
    )

    def arguments(self, text: str, documents: Documents) -> dict[str, Any]:
        return run_reference(" ".join(text.lower().split())) or {"last": 1}

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        ids = run_ids(context.runs, arguments)
        blocks = []
        for run_id in ids:
            lines = [describe_run(context.runs.status(run_id))]
            lines += [f"epoch {row['epoch']}: train loss {row['train_loss']:.4f}, test loss {row['test_loss']:.4f}, "
                      f"test accuracy {percent(row['test_accuracy'])}"
                      for row in context.runs.metrics(run_id)[-RECENT_EPOCHS:]]
            blocks.append("\n".join(lines))
        text = "\n\n".join(blocks)
        return Outcome({"run_id": " ".join(ids)}, text, text, {"run_ids": ids})


INTENT = RunStatus()
