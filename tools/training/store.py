"""A run's folder on disk, ``<runs_dir>/<id>/``, and atomic reads and writes of its files.

Ownership: the manager writes config.json, worker.json (the worker's process id) and the first summary;
the worker writes the summary while it lives; the manager writes it again only once the worker is dead.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, get_type_hints

from coursemate.errors import CoursemateError
from coursemate.io import atomic_write_text
from coursemate.tools.training.config import MAX_EPOCHS

STATUSES = ("queued", "running", "completed", "failed", "cancelled", "damaged")  # damaged: unreadable records
ACTIVE_STATUSES = ("queued", "running")
MAX_RECORD_INT = 2**53  # counts, sizes and process ids of a record (exact in JSON and in a table's int64 column)
MAX_RECORD_TEXT = 100_000  # characters of a text field of a record
RECORD_INT_LIMITS = {"epochs": MAX_EPOCHS, "epochs_completed": MAX_EPOCHS, "best_epoch": MAX_EPOCHS}
NON_FINITE_ALLOWED = frozenset({"final_test_loss"})  # a diverged run's loss is NaN or infinite, and still a result


def now() -> str:
    """Current UTC time, ISO 8601 (the timestamps of run records)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, value: Any) -> None:
    """Atomically write ``value`` as indented JSON (keys sorted, so records diff well)."""
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> Any:
    """The JSON in ``path``; a damaged file is one CoursemateError naming it (never a stack trace)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CoursemateError(f"run record {path} is damaged or unreadable ({type(exc).__name__}); "
                              "it was left as it is") from None


@dataclass(frozen=True)
class RunSummary:
    """A run's summary (``summary.json``): what it trains, where it stands, its results; None until known."""

    id: str
    status: str
    model: str
    dataset: str
    epochs: int
    epochs_completed: int = 0
    params: int | None = None
    best_test_accuracy: float | None = None
    best_epoch: int | None = None
    final_test_accuracy: float | None = None
    final_train_accuracy: float | None = None
    final_test_loss: float | None = None
    train_seconds: float | None = None
    wall_seconds: float | None = None
    error: str | None = None
    owner: str | None = None
    device: str | None = None
    classes: int | None = None
    train_size: int | None = None
    test_size: int | None = None
    pid: int | None = None
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    run_dir: str | None = None

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE_STATUSES

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        """The summary of a record (keys it does not know are left out; a missing count is 0); CoursemateError
        naming the field when one has the wrong type or is out of range (a record damaged, or written by an older
        version without today's bounds)."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["epochs_completed"] = values.get("epochs_completed") or 0
        for name, value in values.items():
            _check_field(name, value, _FIELD_TYPES[name])
        if values["status"] not in STATUSES:
            raise CoursemateError(f"status {values['status']!r} is not one of {', '.join(STATUSES)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_FIELD_TYPES = get_type_hints(RunSummary)


def _check_field(name: str, value: Any, hint: Any) -> None:
    """CoursemateError when a summary field's ``value`` does not fit its type ``hint`` and the record bounds."""
    if value is None and hint in (int | None, float | None, str | None):
        return
    if hint in (int, int | None):
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= RECORD_INT_LIMITS.get(
            name, MAX_RECORD_INT)
    elif hint in (float, float | None):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (
            name in NON_FINITE_ALLOWED or (math.isfinite(value) and abs(value) <= MAX_RECORD_INT))
    else:
        ok = isinstance(value, str) and len(value) <= MAX_RECORD_TEXT
    if not ok:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
        raise CoursemateError(f"{name} is {shown}, which is not a valid value")


@dataclass(frozen=True)
class RunFolder:
    """The files of one run."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def summary(self) -> Path:
        return self.path / "summary.json"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def log(self) -> Path:
        return self.path / "train.log"

    @property
    def worker(self) -> Path:
        return self.path / "worker.json"

    @property
    def worker_output(self) -> Path:
        return self.path / "worker.out"

    @property
    def cancel_request(self) -> Path:
        return self.path / "cancel.request"

    @property
    def checkpoint(self) -> Path:
        return self.path / "model.pt"

    @property
    def loss_plot(self) -> Path:
        return self.path / "loss.png"

    @property
    def accuracy_plot(self) -> Path:
        return self.path / "accuracy.png"

    def read_summary(self) -> dict[str, Any]:
        """The summary record as written (the worker adds to it as it trains)."""
        summary = read_json(self.summary)
        if not isinstance(summary, dict) or not {"id", "status", "model", "dataset", "epochs"} <= set(summary):
            raise CoursemateError(f"run record {self.summary} is damaged (not a run summary); it was left as it is")
        return summary

    def run_summary(self) -> RunSummary:
        """The summary record as a :class:`RunSummary` (CoursemateError naming the file when it is damaged)."""
        summary = self.read_summary()
        try:
            return RunSummary.from_dict(summary)
        except CoursemateError as exc:
            raise CoursemateError(f"run record {self.summary} is damaged ({exc}); it was left as it is") from None

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_json(self.summary, summary)

    def update_summary(self, **changes: Any) -> dict[str, Any]:
        """Read, change and atomically rewrite the summary; returns the new one."""
        summary = self.read_summary()
        summary.update(changes)
        self.write_summary(summary)
        return summary

    def read_metrics(self) -> list[dict[str, Any]]:
        """The per-epoch rows written so far (empty before the first epoch ends)."""
        if not self.metrics.exists():
            return []
        try:
            rows = [json.loads(line) for line in self.metrics.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CoursemateError(f"run record {self.metrics} is damaged or unreadable ({type(exc).__name__}); "
                                  "it was left as it is") from None
        return [row for row in rows if isinstance(row, dict)]

    def write_metrics(self, rows: list[dict[str, Any]]) -> None:
        atomic_write_text(self.metrics, "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))

    def worker_pid(self) -> int | None:
        """The worker's process id, or None before it was recorded (or when its record is damaged)."""
        if not self.worker.exists():
            return None
        try:
            return int(read_json(self.worker)["pid"])
        except (CoursemateError, KeyError, TypeError, ValueError):
            return None
