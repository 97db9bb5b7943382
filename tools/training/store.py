"""A run's folder on disk, ``<runs_dir>/<id>/``, and atomic reads and writes of its files.

Ownership: the manager writes config.json, worker.json (the worker's process id) and the first summary;
the worker writes the summary while it lives; the manager writes it again only once the worker is dead.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

STATUSES = ("queued", "running", "completed", "failed", "cancelled")
ACTIVE_STATUSES = ("queued", "running")


def now() -> str:
    """Current UTC time, ISO 8601 (the timestamps of run records)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, value: Any) -> None:
    """Atomically write ``value`` as indented JSON."""
    write_atomic(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


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
        return json.loads(self.summary.read_text(encoding="utf-8"))

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
        return [json.loads(line) for line in self.metrics.read_text(encoding="utf-8").splitlines() if line.strip()]

    def write_metrics(self, rows: list[dict[str, Any]]) -> None:
        write_atomic(self.metrics, "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))

    def worker_pid(self) -> int | None:
        if not self.worker.exists():
            return None
        return int(json.loads(self.worker.read_text(encoding="utf-8"))["pid"])
