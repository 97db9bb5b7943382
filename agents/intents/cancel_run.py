"""Cancel a run: "cancel my run", "kill run 20260101-101010-a1b2c3".

It changes runs, so it acts at once only on an explicit command; otherwise it names the run it would stop
("Cancel run ID (mnist_cnn on digits, running, epoch 1/5)?") and waits for a confirmation.
"""

from __future__ import annotations

from typing import Any

from coursemate.agents.intents import Context, Documents, Intent, Outcome
from coursemate.agents.intents._parse import run_reference
from coursemate.agents.intents._runs import OWN_RUN, run_ids, run_line
from coursemate.tools.training.report import describe_run


class CancelRun(Intent):
    name = "cancel_run"
    tool = "cancel_training_run"
    changes_runs = True
    confirm_label = "Cancel the run"
    question_cue = OWN_RUN
    cues = (r"\b(?:cancel|abort|kill|stop|halt|terminate)\b",)
    examples = (
        "cancel my run",
        "stop the training",
        "abort the current training run",
        "kill run 20250101-120000-abc123",
        "stop my last run, it is taking too long",
        "halt the job that is training",
        "please cancel the training",
        "terminate the running experiment",
    )

    def arguments(self, text: str, documents: Documents) -> dict[str, Any]:
        return run_reference(" ".join(text.lower().split())) or {"last": 1}

    def proposal(self, arguments: dict[str, Any], context: Context) -> tuple[dict[str, Any], str]:
        ids = run_ids(context.runs, arguments, prefer_active=True)
        runs = "; ".join(run_line(context.runs.status(run_id)) for run_id in ids)
        return {"run_ids": ids}, f"Cancel {runs}?"

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        ids = run_ids(context.runs, arguments, prefer_active=True)
        text = "\n".join(describe_run(context.runs.cancel(run_id)) for run_id in ids)
        return Outcome({"run_id": " ".join(ids)}, text, text, {"run_ids": ids})


INTENT = CancelRun()
