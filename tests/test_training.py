"""Real training runs: digits on CPU in worker processes, records on disk, cancel, restart, CLI, agent tools."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.tools.training import RunManager, TrainingConfig
from coursemate.tools.training.agent_tools import training_tools
from coursemate.tools.training.store import RunFolder, write_json

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

DIGITS = TrainingConfig(dataset="digits", model="mnist_cnn", epochs=5, batch_size=64, lr=0.05, optimizer="sgd",
                        scheduler="onecycle", seed=3, device="cpu")
SUMMARY_KEYS = {"id", "status", "params", "best_test_accuracy", "final_test_accuracy", "wall_seconds", "model",
                "dataset", "epochs", "error"}
METRIC_KEYS = {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds"}


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    home = tmp_path_factory.mktemp("coursemate-home")
    return Settings.load(home=home, max_concurrent_runs=2)


@pytest.fixture(scope="session")
def twin_runs(settings) -> tuple[RunManager, str, str]:
    """Two digits runs with the same seed, trained side by side (the limit is 2)."""
    manager = RunManager(settings)
    first, second = manager.start(DIGITS), manager.start(DIGITS)
    for run_id in (first, second):
        manager.wait(run_id, timeout=300)
    return manager, first, second


def test_digits_run_learns_and_writes_every_artifact(twin_runs):
    manager, run_id, _ = twin_runs
    summary = manager.status(run_id)
    assert summary.status == "completed", summary.error
    assert SUMMARY_KEYS <= json.loads((manager.run_dir(run_id) / "summary.json").read_text()).keys()  # the record
    assert summary.final_test_accuracy >= 0.95
    assert summary.best_test_accuracy >= summary.final_test_accuracy
    assert 0 < summary.params < 10_000
    assert summary.epochs_completed == DIGITS.epochs and summary.wall_seconds > 0

    folder = manager.run_dir(run_id)
    assert json.loads((folder / "config.json").read_text())["seed"] == DIGITS.seed
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == list(range(1, DIGITS.epochs + 1))
    assert all(METRIC_KEYS <= row.keys() for row in rows)
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert rows == manager.metrics(run_id)
    assert "epoch 5/5" in (folder / "train.log").read_text()
    for plot in ("loss.png", "accuracy.png"):
        assert (folder / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(folder.glob("*.tmp*"))


def test_checkpoint_reproduces_the_reported_accuracy(twin_runs):
    import torch

    from coursemate.tools.training.data import load_dataset
    from coursemate.tools.training.models import build_model

    manager, run_id, _ = twin_runs
    checkpoint = torch.load(manager.run_dir(run_id) / "model.pt", weights_only=True)
    data = load_dataset("digits", Path("unused"))
    model = build_model("mnist_cnn", data.channels, data.image_size, len(data.classes))
    model.load_state_dict(checkpoint["model"])
    model.eval()
    with torch.no_grad():
        predictions = model((data.test_images - data.mean) / data.std).argmax(1)
    accuracy = float((predictions == data.test_labels).float().mean())
    assert accuracy == pytest.approx(manager.status(run_id).final_test_accuracy, abs=1e-6)


def test_same_seed_same_result(twin_runs):
    manager, first, second = twin_runs
    assert first != second

    def without_time(rows):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    assert without_time(manager.metrics(first)) == without_time(manager.metrics(second))


def test_runs_survive_a_restart_and_dead_workers_are_marked_failed(twin_runs, settings):
    manager, first, second = twin_runs
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = RunFolder(settings.runs_dir / "20000101-000000-dead00")
    folder.path.mkdir()
    write_json(folder.config, DIGITS.to_dict())
    folder.write_summary({"id": folder.run_id, "status": "running", "model": "mnist_cnn", "dataset": "digits",
                          "epochs": 5, "created_at": "2000-01-01T00:00:00+00:00"})
    write_json(folder.worker, {"pid": dead.pid})

    restarted = RunManager(settings)
    listed = {summary.id: summary for summary in restarted.list()}
    assert listed[first].status == listed[second].status == "completed"
    assert listed[first].final_test_accuracy == manager.status(first).final_test_accuracy
    assert listed[folder.run_id].status == "failed"
    assert "died" in listed[folder.run_id].error


def test_crashing_worker_marks_the_run_failed_with_its_error(tmp_path):
    folder = RunFolder(tmp_path / "20000101-000000-crash0")
    folder.path.mkdir()
    write_json(folder.config, dict(DIGITS.to_dict(), epochs=0))  # edited by hand after the run was queued
    folder.write_summary({"id": folder.run_id, "status": "queued", "model": "mnist_cnn", "dataset": "digits",
                          "epochs": 0, "error": None})
    done = subprocess.run([sys.executable, "-m", "coursemate.tools.training.worker", str(folder.path)], timeout=120)
    assert done.returncode == 1
    summary = folder.run_summary()
    assert summary.status == "failed"
    assert summary.error == "epochs must be an integer from 1 to 10,000; got 0"


def test_killed_worker_marks_the_run_failed(tmp_path):
    manager = RunManager(Settings.load(home=tmp_path))
    run_id = manager.start(TrainingConfig(epochs=500))
    deadline = time.monotonic() + 120
    while manager.status(run_id).status != "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(RunFolder(manager.run_dir(run_id)).worker_pid(), signal.SIGKILL)
    summary = manager.wait(run_id, timeout=30)
    assert summary.status == "failed"
    assert "died" in summary.error


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is not None, reason="torchvision is installed")
def test_torchvision_datasets_name_the_offline_choice(tmp_path):
    with pytest.raises(CoursemateError, match="needs torchvision.*'digits'"):
        RunManager(Settings.load(home=tmp_path)).start(TrainingConfig(dataset="cifar10"))


def test_cancel_stops_within_seconds_and_limit_is_enforced(tmp_path):
    manager = RunManager(Settings.load(home=tmp_path, max_concurrent_runs=1))
    run_id = manager.start(TrainingConfig(epochs=500, batch_size=16))
    with pytest.raises(CoursemateError, match="max_concurrent_runs"):
        manager.start(TrainingConfig(epochs=1))
    deadline = time.monotonic() + 120
    while not manager.metrics(run_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert manager.status(run_id).status == "running"

    started = time.monotonic()
    summary = manager.cancel(run_id)
    assert time.monotonic() - started < 10
    assert summary.status == "cancelled"
    assert summary.epochs_completed < 500
    assert summary.wall_seconds is not None  # the worker saw the request and closed its records itself
    assert "cancelled" in (manager.run_dir(run_id) / "train.log").read_text()
    with pytest.raises(ProcessLookupError):
        os.kill(RunFolder(manager.run_dir(run_id)).worker_pid(), 0)
    assert RunManager(manager.settings).status(run_id).status == "cancelled"


@pytest.mark.parametrize(("changes", "message"), [
    ({"model": "vgg16"}, "mnist_cnn, resnet18, mlp"),
    ({"dataset": "imagenet"}, "digits, mnist, fashion-mnist, cifar10"),
    ({"optimizer": "rmsprop"}, "sgd, adam, adamw"),
    ({"scheduler": "cosine"}, "onecycle, step, plateau, none"),
    ({"epochs": 0}, "epochs must be an integer from 1 to 10,000"),
    ({"epochs": 10**23}, "epochs must be an integer from 1 to 10,000"),
    ({"batch_size": -8}, "batch_size must be an integer from 1 to 65,536"),
    ({"seed": 2**64}, "seed must be an integer from 0 to"),
    ({"lr": float("inf")}, "lr must be a finite number"),
    ({"lr": 0.0}, "learning rate must be in"),
    ({"lr": 50.0}, "learning rate must be in"),
    ({"device": "tpu"}, "auto, cpu, cuda"),
    ({"dataset": "imagefolder:/no/such/folder"}, "does not exist"),
])
def test_bad_settings_are_clear_errors(tmp_path, changes, message):
    manager = RunManager(Settings.load(home=tmp_path))
    with pytest.raises(CoursemateError, match=message):
        manager.start(TrainingConfig(**changes))
    assert manager.list() == []


def test_models_adapt_to_input_shapes():
    import torch

    from coursemate.tools.training.models import build_model, count_parameters

    for channels, size in ((1, 8), (1, 28), (3, 32)):
        for name in ("mnist_cnn", "resnet18", "mlp"):
            model = build_model(name, channels, size, 10).eval()
            assert model(torch.zeros(2, channels, size, size)).shape == (2, 10)
    assert count_parameters(build_model("mnist_cnn", 1, 28, 10)) < 10_000


def test_agent_tools(twin_runs):
    manager, first, second = twin_runs
    tools = {tool.name: tool for tool in training_tools(manager)}
    assert set(tools) == {"start_training_run", "training_run_status", "cancel_training_run",
                          "list_training_runs", "compare_training_runs"}
    assert tools["start_training_run"](model="vgg").startswith("Error: unknown model 'vgg'")
    assert "Error: no training run" in tools["training_run_status"](run_id="missing")
    status = tools["training_run_status"](run_id=first)
    assert first in status and "completed" in status and "epoch 5:" in status
    assert first in tools["list_training_runs"]()
    rows = json.loads(tools["compare_training_runs"](run_ids=f"{first}, {second}"))
    assert [row["id"] for row in rows] == [first, second]
    assert "completed" in tools["cancel_training_run"](run_id=first)


def _coursemate(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coursemate.cli", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)


def test_cli_train_json_end_to_end(tmp_path):
    runs_dir = tmp_path / "my-runs"
    done = _coursemate("train", "--dataset", "digits", "--model", "mlp", "--epochs", "2", "--lr", "0.01",
                       "--optimizer", "adam", "--json", "--runs-dir", str(runs_dir), home=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "completed" and summary["model"] == "mlp" and summary["epochs_completed"] == 2
    assert "epoch 2/2" in done.stderr
    assert (runs_dir / summary["id"] / "model.pt").exists()

    listed = _coursemate("runs", "list", "--json", "--runs-dir", str(runs_dir), home=tmp_path)
    assert [run["id"] for run in json.loads(listed.stdout)] == [summary["id"]]

    bad = _coursemate("train", "--model", "vgg", "--runs-dir", str(runs_dir), home=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "coursemate: error: unknown model 'vgg'; valid choices: mnist_cnn, resnet18, mlp"]
    missing = _coursemate("runs", "show", "nope", "--runs-dir", str(runs_dir), home=tmp_path)
    assert missing.returncode == 2 and "no training run 'nope'" in missing.stderr
