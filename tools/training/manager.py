"""``RunManager``: start, watch, cancel, list and compare training runs, each trained by a worker process.

Everything about a run lives in ``<settings.runs_dir>/<id>/`` (see :mod:`tools.training.store`), so a new
manager (after an app restart, or in another process such as the CLI) sees every run; a run left "queued" or
"running" by a worker that no longer exists is marked failed.

Runs have owners. A manager acts for one user (:meth:`RunManager.as_user`): every user sees every run, but only
its owner cancels it. ``user=None`` is the machine's owner (the CLI, the Python API, the UI without ``--auth``),
who may cancel any run. A ``confined`` manager (the chat, the agents, the web UI) accepts dataset paths only
inside ``settings.data_roots`` and never downloads.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.tools.training.config import IMAGEFOLDER_PREFIX, TrainingConfig, check_data_path
from coursemate.tools.training.store import RunFolder, RunSummary, now, write_json

SPAWN_GRACE_SECONDS = 30.0  # a queued run without a worker after this long was never started
CANCEL_WAIT_SECONDS = 10.0  # how long cancel() waits for the worker to stop by itself before killing it
COMPARE_COLUMNS = ("id", "status", "model", "dataset", "params", "epochs", "epochs_completed", "best_test_accuracy",
                   "final_test_accuracy", "train_seconds", "wall_seconds", "error", "owner")
RUN_ID = re.compile(r"[A-Za-z0-9_.-]{1,100}")  # what a run id may look like (a folder name, no path)
LOCAL_OWNER = "local"  # the owner recorded for runs started by the machine's owner (user None)


class RunManager:
    """Training runs under ``settings.runs_dir``, at most ``settings.max_concurrent_runs`` active at once."""

    def __init__(self, settings: Settings | None = None, user: str | None = None, confined: bool = False) -> None:
        self.settings = settings or Settings.load()
        self.user = user
        self.confined = confined
        self.runs_dir = Path(self.settings.runs_dir)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._processes: dict[str, subprocess.Popen] = {}
        self.list()  # marks runs whose worker died while this app was away

    def as_user(self, user: str | None, confined: bool | None = None) -> RunManager:
        """This manager acting for ``user`` (None: the machine's owner), sharing its worker processes."""
        view = copy.copy(self)
        view.user = user
        view.confined = self.confined if confined is None else confined
        return view

    @property
    def owner(self) -> str:
        """The owner recorded on the runs this manager starts."""
        return self.user if self.user is not None else LOCAL_OWNER

    # -- starting -------------------------------------------------------------------------------------

    def start(self, config: TrainingConfig | dict[str, Any]) -> str:
        """Validate ``config``, start its worker process and return the new run's id."""
        if isinstance(config, dict):
            config = TrainingConfig.from_dict(config)
        config = self._confine(config).validated()
        if config.data_root is None:
            config = dataclasses.replace(config, data_root=str(self.settings.data_roots[0]))
        active = [s.id for s in self.list() if s.active]
        limit = self.settings.max_concurrent_runs
        if len(active) >= limit:
            raise CoursemateError(
                f"{len(active)} training run(s) already active ({', '.join(active)}); the limit is {limit} "
                "(max_concurrent_runs): wait for one to finish or cancel it"
            )
        run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        folder = RunFolder(self.runs_dir / run_id)
        folder.path.mkdir(parents=True)
        write_json(folder.config, config.to_dict())
        folder.write_summary({
            "id": run_id, "status": "queued", "model": config.model, "dataset": config.dataset,
            "epochs": config.epochs, "epochs_completed": 0, "params": None, "best_test_accuracy": None,
            "final_test_accuracy": None, "wall_seconds": None, "train_seconds": None, "error": None,
            "created_at": now(), "started_at": None, "finished_at": None, "run_dir": str(folder.path),
            "owner": self.owner,
        })
        self._spawn(folder)
        return run_id

    def _confine(self, config: TrainingConfig) -> TrainingConfig:
        """For a confined manager: dataset and data-root paths inside the data roots, and no download."""
        if not self.confined:
            return config
        if config.download:
            raise CoursemateError("downloading datasets is only possible from the command line "
                                  "(coursemate train --download); here, use 'digits' or files under the data roots")
        roots, dataset = self.settings.data_roots, str(config.dataset).strip()
        if dataset.lower().startswith(IMAGEFOLDER_PREFIX):
            check_data_path(dataset[len(IMAGEFOLDER_PREFIX):], roots, "dataset folder")
        if config.data_root is not None:
            check_data_path(config.data_root, roots, "data root")
        return config

    def _spawn(self, folder: RunFolder) -> None:
        env = dict(os.environ)  # the worker imports the installed coursemate package; no PYTHONPATH needed
        with folder.worker_output.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "coursemate.tools.training.worker", str(folder.path)],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=env,
                start_new_session=True,  # survives the CLI that started it (--detach) and its Ctrl-C
            )
        self._processes[folder.run_id] = process
        write_json(folder.worker, {"pid": process.pid, "started_at": now()})

    # -- reading --------------------------------------------------------------------------------------

    def status(self, run_id: str) -> RunSummary:
        """The run's summary (id, status, params, accuracies, seconds, error ...)."""
        return self._refresh(self._folder(run_id))

    def metrics(self, run_id: str) -> list[dict[str, Any]]:
        """The per-epoch metrics written so far (live while the run trains)."""
        return self._folder(run_id).read_metrics()

    def list(self) -> list[RunSummary]:
        """Summaries of every run, oldest first (a run whose records are damaged is listed as "damaged")."""
        summaries = []
        for path in sorted(self.runs_dir.iterdir()):
            if (path / "summary.json").exists():
                try:
                    summaries.append(self._refresh(RunFolder(path)))
                except CoursemateError as exc:
                    summaries.append(_damaged(path.name, str(exc)))
        return sorted(summaries, key=lambda s: (s.created_at or "", s.id))

    def compare(self, run_ids: list[str]) -> list[RunSummary]:
        """The summaries of the runs, in the order asked (``COMPARE_COLUMNS``: the fields that compare them)."""
        if not run_ids:
            raise CoursemateError("give at least one run id to compare")
        return [self.status(run_id) for run_id in run_ids]

    def run_dir(self, run_id: str) -> Path:
        """The run's folder (config.json, metrics.jsonl, train.log, loss.png, accuracy.png, model.pt, summary.json)."""
        return self._folder(run_id).path

    # -- waiting and stopping -------------------------------------------------------------------------

    def wait(self, run_id: str, timeout: float | None = None,
             on_epoch: Callable[[dict[str, Any]], None] | None = None, poll_seconds: float = 0.2) -> RunSummary:
        """Wait until the run ends (or ``timeout`` seconds pass) and return its summary; ``on_epoch`` is
        called with each new metrics row as it appears."""
        deadline = None if timeout is None else time.monotonic() + timeout
        folder, seen = self._folder(run_id), 0
        while True:
            summary = self._refresh(folder)
            rows = folder.read_metrics()
            for row in rows[seen:]:
                if on_epoch:
                    on_epoch(row)
            seen = len(rows)
            if not summary.active or (deadline is not None and time.monotonic() >= deadline):
                return summary
            time.sleep(poll_seconds)

    def cancel(self, run_id: str) -> RunSummary:
        """Stop the run within seconds and mark it cancelled (a finished run is left as it is).

        Only the run's owner (or the machine's owner, user None) may cancel it; anyone else gets CoursemateError.
        """
        folder = self._folder(run_id)
        try:
            summary = self._refresh(folder)
        except CoursemateError as exc:  # a damaged record: only the machine's owner may stop its worker
            if self.user is not None:
                raise CoursemateError(f"{exc}; only the machine's owner can cancel this run") from None
            self._stop_worker(folder)
            return _damaged(run_id, str(exc))
        owner = summary.owner or LOCAL_OWNER
        if self.user is not None and owner != self.user:
            raise CoursemateError(f"run {run_id} belongs to {owner}; only they can cancel it")
        if not summary.active:
            return summary
        self._stop_worker(folder)
        summary = folder.run_summary()
        if summary.active:
            return RunSummary.from_dict(folder.update_summary(status="cancelled", finished_at=now()))
        return summary

    def _stop_worker(self, folder: RunFolder) -> None:
        """Ask the run's worker to stop, and end it with SIGTERM, then SIGKILL, when it does not in time."""
        folder.cancel_request.touch()
        pid = folder.worker_pid()
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while pid is not None and self._worker_alive(folder, pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            if pid is None or not self._worker_alive(folder, pid):
                break
            os.kill(pid, sig)
            stop = time.monotonic() + grace
            while self._worker_alive(folder, pid) and time.monotonic() < stop:
                time.sleep(0.1)

    # -- internals ------------------------------------------------------------------------------------

    def _folder(self, run_id: str) -> RunFolder:
        valid = isinstance(run_id, str) and RUN_ID.fullmatch(run_id) and not run_id.startswith(".")
        folder = RunFolder(self.runs_dir / (run_id if valid else "-"))
        if not valid or not folder.summary.exists():
            known = [p.name for p in sorted(self.runs_dir.iterdir()) if (p / "summary.json").exists()][-10:]
            raise CoursemateError(f"no training run {str(run_id)[:100]!r} in {self.runs_dir}; "
                                  + (f"recent runs: {', '.join(known)}" if known else "there are no runs yet"))
        return folder

    def _refresh(self, folder: RunFolder) -> RunSummary:
        """The summary, after marking the run failed if its worker is gone while it still looks active."""
        summary = folder.run_summary()
        if not summary.active:
            return summary
        pid = folder.worker_pid()
        if pid is None:  # only the manager has written to the folder yet
            if time.time() - folder.summary.stat().st_mtime < SPAWN_GRACE_SECONDS:
                return summary
            error = "the worker process was never started (the app stopped while starting the run)"
        elif self._worker_alive(folder, pid):
            return summary
        else:
            summary = folder.run_summary()  # the worker may have finished its records just now
            if not summary.active:
                return summary
            error = f"the worker process {pid} died while the run was {summary.status} ({self._death(folder, pid)})"
            tail = _tail(folder.worker_output)
            if tail:
                error += f": {tail}"
        return RunSummary.from_dict(folder.update_summary(status="failed", error=error, finished_at=now()))

    def _death(self, folder: RunFolder, pid: int) -> str:
        """Why a worker this manager started ended (its signal or exit code); else "app restart or crash"."""
        process = self._processes.get(folder.run_id)
        if process is None or process.pid != pid or process.returncode is None:
            return "app restart or crash"
        if process.returncode < 0:
            return f"killed by {signal.Signals(-process.returncode).name}"
        return f"exit code {process.returncode}"

    def _worker_alive(self, folder: RunFolder, pid: int) -> bool:
        process = self._processes.get(folder.run_id)
        if process is not None and process.pid == pid:
            return process.poll() is None
        return _process_alive(pid, folder.run_id)


def _damaged(run_id: str, error: str) -> RunSummary:
    """The listing row of a run whose records cannot be read."""
    return RunSummary(run_id, "damaged", "?", "?", 0, error=error)


def _process_alive(pid: int, run_id: str) -> bool:
    """Whether ``pid`` is a live process training ``run_id`` (a reused pid or a zombie counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return run_id in cmdline.read_bytes().decode(errors="replace")
        except OSError:
            return False
    return True


def _tail(path: Path, limit: int = 300) -> str:
    """The last non-empty line of a worker's output (its crash message), shortened."""
    if not path.exists():
        return ""
    lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    return lines[-1][-limit:] if lines else ""
