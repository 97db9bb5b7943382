"""smolagents tools over a :class:`RunManager`: ``training_tools(manager)``.

Each tool calls the run manager (the domain functions the chat's intents call too) and returns a short
human-readable string for the model; a bad request comes back as text starting with "Error:", so the agent can
read it and try again instead of crashing.
"""

from __future__ import annotations

import json

from smolagents import Tool

from coursemate.errors import CoursemateError
from coursemate.tools.training.config import DATASETS, MODELS, OPTIMIZERS, SCHEDULERS, TrainingConfig
from coursemate.tools.training.manager import COMPARE_COLUMNS, RunManager
from coursemate.tools.training.report import describe_run, runs_table


def _error(exc: CoursemateError) -> str:
    return f"Error: {exc}"


class _RunTool(Tool):
    """A tool over the shared RunManager."""

    def __init__(self, manager: RunManager) -> None:
        super().__init__()
        self.manager = manager


class StartTrainingRunTool(_RunTool):
    name = "start_training_run"
    description = (
        "Start a real PyTorch training run in the background and return its run id at once. "
        f"Models: {'; '.join(f'{k}: {v}' for k, v in MODELS.items())}. "
        f"Datasets: {'; '.join(f'{k}: {v}' for k, v in DATASETS.items())}. "
        "Use training_run_status with the id to follow it."
    )
    inputs = {
        "dataset": {"type": "string", "description": f"one of {', '.join(DATASETS)}; 'digits' works offline",
                    "nullable": True},
        "model": {"type": "string", "description": f"one of {', '.join(MODELS)}", "nullable": True},
        "epochs": {"type": "integer", "description": "number of epochs (e.g. 5)", "nullable": True},
        "batch_size": {"type": "integer", "description": "batch size (e.g. 64)", "nullable": True},
        "lr": {"type": "number", "description": "(peak) learning rate, e.g. 0.05 for sgd, 0.01 for adam",
               "nullable": True},
        "optimizer": {"type": "string", "description": f"one of {', '.join(OPTIMIZERS)}", "nullable": True},
        "scheduler": {"type": "string", "description": f"one of {', '.join(SCHEDULERS)}", "nullable": True},
        "augment": {"type": "boolean", "description": "random shifts/rotations of training images", "nullable": True},
        "seed": {"type": "integer", "description": "random seed (same seed, same result)", "nullable": True},
    }
    output_type = "string"

    def forward(self, dataset: str | None = None, model: str | None = None, epochs: int | None = None,
                batch_size: int | None = None, lr: float | None = None, optimizer: str | None = None,
                scheduler: str | None = None, augment: bool | None = None, seed: int | None = None) -> str:
        given = {"dataset": dataset, "model": model, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                 "optimizer": optimizer, "scheduler": scheduler, "augment": augment, "seed": seed}
        try:
            config = TrainingConfig.from_dict({k: v for k, v in given.items() if v is not None}).validated()
            run_id = self.manager.start(config)
        except CoursemateError as exc:
            return _error(exc)
        return started_text(run_id, config)


def started_text(run_id: str, config: TrainingConfig) -> str:
    """What the tool says about a run it started."""
    return (f"Started training run {run_id}: {config.model} on {config.dataset}, {config.epochs} epochs, "
            f"batch size {config.batch_size}, {config.optimizer} lr {config.lr:g}, scheduler {config.scheduler}, "
            f"augment {'on' if config.augment else 'off'}, seed {config.seed}.")


class TrainingRunStatusTool(_RunTool):
    name = "training_run_status"
    description = ("Status of a training run: progress, test accuracy, parameters, time, error, and the last epochs' "
                   "metrics.")
    inputs = {"run_id": {"type": "string", "description": "the run id returned by start_training_run"}}
    output_type = "string"

    def forward(self, run_id: str) -> str:
        try:
            summary = self.manager.status(run_id)
            rows = self.manager.metrics(run_id)
        except CoursemateError as exc:
            return _error(exc)
        lines = [describe_run(summary)]
        for row in rows[-3:]:
            lines.append(f"epoch {row['epoch']}: train loss {row['train_loss']:.4f}, "
                         f"test loss {row['test_loss']:.4f}, test accuracy {100 * row['test_accuracy']:.2f}%")
        return "\n".join(lines)


class CancelTrainingRunTool(_RunTool):
    name = "cancel_training_run"
    description = "Stop a queued or running training run (within seconds) and mark it cancelled."
    inputs = {"run_id": {"type": "string", "description": "the run id"}}
    output_type = "string"

    def forward(self, run_id: str) -> str:
        try:
            return describe_run(self.manager.cancel(run_id))
        except CoursemateError as exc:
            return _error(exc)


class ListTrainingRunsTool(_RunTool):
    name = "list_training_runs"
    description = ("A table of all training runs: id, status, model, dataset, parameters, epochs, best and final test "
                   "accuracy, seconds.")
    inputs = {}
    output_type = "string"

    def forward(self) -> str:
        return runs_table(self.manager.list())


class CompareTrainingRunsTool(_RunTool):
    name = "compare_training_runs"
    description = ("Compare training runs side by side; returns JSON rows (status, model, dataset, params, accuracies, "
                   "seconds).")
    inputs = {"run_ids": {"type": "string", "description": "run ids separated by commas or spaces"}}
    output_type = "string"

    def forward(self, run_ids: str) -> str:
        try:
            summaries = self.manager.compare(run_ids.replace(",", " ").split())
        except CoursemateError as exc:
            return _error(exc)
        return json.dumps([{c: getattr(s, c) for c in COMPARE_COLUMNS} for s in summaries], indent=1)


def training_tools(manager: RunManager) -> list[Tool]:
    """The five training tools, sharing ``manager``."""
    return [tool(manager) for tool in (StartTrainingRunTool, TrainingRunStatusTool, CancelTrainingRunTool,
                                       ListTrainingRunsTool, CompareTrainingRunsTool)]
