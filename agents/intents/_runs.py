"""What the run intents share: which runs a reference names, and a run in one line of the chat."""

from __future__ import annotations

from typing import Any

from coursemate.errors import CoursemateError
from coursemate.tools.training import RunManager, RunSummary

EXAMPLE_TRAINING = "train mnist_cnn on digits for 2 epochs"
TRAINING_TAB = "loss and accuracy curves plot live in the **Training** tab"
# a question about the user's own run ("did my run finish?", "should I stop the current run?")
OWN_RUN = (r"\b(?:my|our|the (?:last|latest|current|newest|most recent|previous|running)) "
           r"(?:training )?(?:run|training)\b")


def run_ids(runs: RunManager, reference: dict[str, Any], prefer_active: bool = False) -> list[str]:
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
                              f"{', '.join(s.id for s in summaries)}")
    active = [s.id for s in summaries if s.active]
    if prefer_active and n == 1 and active:
        return active[-1:]
    return [s.id for s in summaries[-n:]]


def run_line(summary: RunSummary) -> str:
    """A run in a few words: "run ID (mnist_cnn on digits, running, epoch 1/5)"."""
    return (f"run {summary.id} ({summary.model} on {summary.dataset}, {summary.status}, "
            f"epoch {summary.epochs_completed}/{summary.epochs})")
