"""Short human-readable text for runs (shared by the CLI and the agent tools)."""

from __future__ import annotations

from typing import Any

from coursemate.tools.training.store import RunSummary

TABLE_COLUMNS = (  # (header, RunSummary field)
    ("id", "id"), ("status", "status"), ("model", "model"), ("dataset", "dataset"), ("params", "params"),
    ("epochs", "epochs"), ("best acc", "best_test_accuracy"), ("final acc", "final_test_accuracy"),
    ("seconds", "wall_seconds"),
)


def percent(value: float | None) -> str:
    """0.9833 -> '98.33%'; None -> '-'."""
    return "-" if value is None else f"{100 * value:.2f}%"


def describe_run(summary: RunSummary) -> str:
    """One or two sentences: status, progress, accuracy, parameters, time, error."""
    text = (f"run {summary.id} ({summary.model} on {summary.dataset}): {summary.status}, "
            f"epoch {summary.epochs_completed}/{summary.epochs}")
    if summary.best_test_accuracy is not None:
        text += (f", best test accuracy {percent(summary.best_test_accuracy)} (epoch {summary.best_epoch}),"
                 f" final {percent(summary.final_test_accuracy)}")
    if summary.params:
        text += f", {summary.params:,} parameters"
    if summary.wall_seconds is not None:
        text += f", {summary.wall_seconds:.1f} s"
    if summary.error:
        text += f". Error: {summary.error}"
    return text + "."


def describe_epoch(row: dict[str, Any], epochs: int) -> str:
    """One progress line for an epoch's metrics row."""
    return (f"epoch {row['epoch']}/{epochs}  train loss {row['train_loss']:.4f} acc {percent(row['train_accuracy'])}  "
            f"test loss {row['test_loss']:.4f} acc {percent(row['test_accuracy'])}  "
            f"lr {row['lr']:.5f}  {row['seconds']:.2f}s")


def runs_table(summaries: list[RunSummary]) -> str:
    """A plain-text table of runs, one per line."""
    if not summaries:
        return "no training runs"
    cells = [[header for header, _ in TABLE_COLUMNS]]
    for summary in summaries:
        cells.append([_cell(key, summary) for _, key in TABLE_COLUMNS])
    widths = [max(len(row[i]) for row in cells) for i in range(len(TABLE_COLUMNS))]
    return "\n".join("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip() for row in cells)


def _cell(key: str, summary: RunSummary) -> str:
    value = getattr(summary, key)
    if key.endswith("accuracy"):
        return percent(value)
    if key == "epochs":
        return f"{summary.epochs_completed}/{value}"
    if key == "wall_seconds":
        return "-" if value is None else f"{value:.1f}"
    if key == "params":
        return "-" if value is None else f"{value:,}"
    return str(value)
