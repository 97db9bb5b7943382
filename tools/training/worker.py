"""The training worker: ``python -m tools.training.worker RUN_DIR`` trains the run described by
RUN_DIR/config.json and records everything in that folder (metrics, log, curves, checkpoint, summary).

It runs in its own process, started by :class:`tools.training.manager.RunManager`. A cancel request is the
file ``cancel.request`` in the run folder (checked every batch) or SIGTERM; either ends the run as cancelled.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from coursemate.errors import CoursemateError
from coursemate.io import atomic_write_with
from coursemate.retrieval.embeddings import resolve_device
from coursemate.tools.training.config import TrainingConfig
from coursemate.tools.training.data import ImageDataset, augment_batch, load_dataset
from coursemate.tools.training.models import build_model, count_parameters
from coursemate.tools.training.store import RunFolder, now


class Cancelled(Exception):
    """The run was asked to stop."""


class Worker:
    """Trains one run and keeps its folder up to date."""

    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder
        self.config = TrainingConfig.from_dict(json.loads(folder.config.read_text(encoding="utf-8")))
        self.rows: list[dict[str, Any]] = []
        self.started = time.monotonic()

    def log(self, message: str) -> None:
        with self.folder.log.open("a", encoding="utf-8") as handle:
            handle.write(f"{now()} {message}\n")

    def check_cancel(self) -> None:
        if self.folder.cancel_request.exists():
            raise Cancelled()

    def run(self) -> int:
        """Train, record, and return the process exit code (0 unless the run failed)."""
        self.folder.update_summary(status="running", started_at=now(), pid=os.getpid())
        status, error, model = "completed", None, None
        signal.signal(signal.SIGTERM, _raise_cancelled)
        try:
            self.check_cancel()
            model = self.train()
        except Cancelled:
            status = "cancelled"
            self.log("cancelled")
        except CoursemateError as exc:
            status, error = "failed", str(exc)
            self.log(f"failed: {exc}")
        except Exception as exc:  # noqa: BLE001 - any crash ends the run as failed, with its message
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            self.log("failed: " + traceback.format_exc())
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the records below are written whatever happens
        if model is not None and self.rows:
            state = {"model": model.state_dict(), "config": self.config.to_dict()}
            atomic_write_with(self.folder.checkpoint, lambda tmp: torch.save(state, tmp))
        if self.rows:
            self.plot_curves()
        self.folder.update_summary(
            status=status, error=error, finished_at=now(), wall_seconds=round(time.monotonic() - self.started, 3)
        )
        self.log(f"status {status}")
        return 1 if status == "failed" else 0

    def train(self) -> nn.Module:
        config = self.config = self.config.validated()  # the config file may have been edited by hand
        torch.set_num_threads(config.num_threads)
        seed_everything(config.seed)
        device = torch.device(resolve_device(config.device))
        data = load_dataset(config.dataset, Path(config.data_root or "datasets"), download=config.download)
        model = build_model(config.model, data.channels, data.image_size, len(data.classes)).to(device)
        params = count_parameters(model)
        self.folder.update_summary(params=params, device=str(device), classes=len(data.classes),
                                   train_size=len(data.train_labels), test_size=len(data.test_labels))
        self.log(f"{config.model} ({params:,} parameters) on {data.name} "
                 f"({len(data.train_labels)} train / {len(data.test_labels)} test, "
                 f"{data.channels}x{data.image_size}x{data.image_size}) "
                 f"device {device}, config {json.dumps(config.to_dict(), sort_keys=True)}")
        steps = (len(data.train_labels) + config.batch_size - 1) // config.batch_size
        optimizer = make_optimizer(config, model)
        scheduler = make_scheduler(config, optimizer, steps)
        generator = torch.Generator().manual_seed(config.seed)
        mean, std = data.mean.to(device), data.std.to(device)
        for epoch in range(1, config.epochs + 1):
            start = time.monotonic()
            lr = optimizer.param_groups[0]["lr"]
            train_loss, train_accuracy = self.train_epoch(model, data, optimizer, scheduler, generator, mean, std,
                                                          device)
            test_loss, test_accuracy = self.evaluate(model, data, mean, std, device)
            if config.scheduler == "plateau":
                scheduler.step(test_loss)
            elif config.scheduler == "step":
                scheduler.step()
            row = {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy, "test_loss": test_loss,
                   "test_accuracy": test_accuracy, "lr": lr, "seconds": round(time.monotonic() - start, 3)}
            self.record_epoch(row)
        return model

    def train_epoch(self, model, data: ImageDataset, optimizer, scheduler, generator, mean, std,
                    device) -> tuple[float, float]:
        model.train()
        order = torch.randperm(len(data.train_labels), generator=generator)
        total_loss, correct, seen = 0.0, 0, 0
        for start in range(0, len(order), self.config.batch_size):
            self.check_cancel()
            index = order[start:start + self.config.batch_size]
            if len(index) == 1 and seen:  # batch norm cannot train on a last batch of one image
                break
            images, labels = data.train_images[index].to(device), data.train_labels[index].to(device)
            if self.config.augment:
                images = augment_batch(images, data.augmentation, generator)
            logits = model((images - mean) / std)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if self.config.scheduler == "onecycle":
                scheduler.step()
            total_loss += loss.item() * len(index)
            correct += int((logits.argmax(1) == labels).sum())
            seen += len(index)
        return total_loss / seen, correct / seen

    @torch.no_grad()
    def evaluate(self, model, data: ImageDataset, mean, std, device) -> tuple[float, float]:
        model.eval()
        total_loss, correct, n = 0.0, 0, len(data.test_labels)
        for start in range(0, n, 1024):
            self.check_cancel()
            images = data.test_images[start:start + 1024].to(device)
            labels = data.test_labels[start:start + 1024].to(device)
            logits = model((images - mean) / std)
            total_loss += float(F.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(1) == labels).sum())
        return total_loss / n, correct / n

    def record_epoch(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.folder.write_metrics(self.rows)
        accuracies = [r["test_accuracy"] for r in self.rows]
        best = max(range(len(accuracies)), key=accuracies.__getitem__)
        self.folder.update_summary(
            epochs_completed=row["epoch"], best_test_accuracy=accuracies[best], best_epoch=self.rows[best]["epoch"],
            final_test_accuracy=row["test_accuracy"], final_train_accuracy=row["train_accuracy"],
            final_test_loss=row["test_loss"], train_seconds=round(sum(r["seconds"] for r in self.rows), 3),
        )
        self.log(f"epoch {row['epoch']}/{self.config.epochs} train_loss {row['train_loss']:.4f} "
                 f"train_acc {row['train_accuracy']:.4f} test_loss {row['test_loss']:.4f} "
                 f"test_acc {row['test_accuracy']:.4f} lr {row['lr']:.5f} {row['seconds']:.2f}s")

    def plot_curves(self) -> None:
        """loss.png and accuracy.png: train and test curves per epoch."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        epochs = [r["epoch"] for r in self.rows]
        for key, path in (("loss", self.folder.loss_plot), ("accuracy", self.folder.accuracy_plot)):
            figure, axes = plt.subplots(figsize=(6, 4))
            for split in ("train", "test"):
                axes.plot(epochs, [r[f"{split}_{key}"] for r in self.rows], marker="o", label=split)
            axes.set(xlabel="epoch", ylabel=key, title=f"{self.config.model} on {self.config.dataset}: {key}")
            axes.grid(alpha=0.3)
            axes.legend()
            atomic_write_with(path, lambda tmp, figure=figure: figure.savefig(tmp, format="png", dpi=80,
                                                                              bbox_inches="tight"))
            plt.close(figure)


def _raise_cancelled(signum: int, frame: Any) -> None:
    raise Cancelled()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def make_optimizer(config: TrainingConfig, model: nn.Module) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, nesterov=True)
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)


def make_scheduler(config: TrainingConfig, optimizer: torch.optim.Optimizer, steps_per_epoch: int):
    """The scheduler; onecycle steps per batch, step per epoch, plateau on the test loss."""
    if config.scheduler == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, epochs=config.epochs,
                                                   steps_per_epoch=steps_per_epoch)
    if config.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, config.epochs // 3), gamma=0.1)
    if config.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.1, patience=2)
    return None


def main(argv: list[str]) -> int:
    """Entry point: ``python -m tools.training.worker RUN_DIR``."""
    if len(argv) != 1:
        print("usage: python -m tools.training.worker RUN_DIR", file=sys.stderr)
        return 2
    return Worker(RunFolder(Path(argv[0]))).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
