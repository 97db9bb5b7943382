"""What a training run is asked to do: :class:`TrainingConfig`, its valid choices and its validation.

This module imports no torch, so the CLI and the agents can validate a request before a worker starts.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from coursemate.errors import CoursemateError

MODELS: dict[str, str] = {
    "mnist_cnn": "the course's small MNIST CNN (batch norm, dropout, global average pooling, <10k parameters)",
    "resnet18": "ResNet18 for 32x32 images (CIFAR-10 variant: 3x3 stem, no max pooling), about 11M parameters",
    "mlp": "fully connected baseline (two hidden layers with dropout)",
}
DATASETS: dict[str, str] = {
    "digits": "scikit-learn's 8x8 handwritten digits (1797 images, works offline)",
    "mnist": "MNIST 28x28 digits (torchvision; found under the data root, or fetched by `coursemate train --download`)",
    "fashion-mnist": "Fashion-MNIST 28x28 clothes (torchvision; under the data root, or `coursemate train --download`)",
    "cifar10": "CIFAR-10 32x32 colour images (torchvision; under the data root, or `coursemate train --download`)",
    "imagefolder:PATH": "your own images: PATH/<class>/*.png, or PATH/train/<class> and PATH/test/<class> "
                        "(torchvision)",
}
OPTIMIZERS: dict[str, str] = {
    "sgd": "SGD with momentum 0.9 (and Nesterov)",
    "adam": "Adam",
    "adamw": "AdamW (decoupled weight decay 0.01)",
}
SCHEDULERS: dict[str, str] = {
    "onecycle": "one-cycle: warm up to the learning rate, then anneal (per batch)",
    "step": "divide the learning rate by 10 every third of the epochs",
    "plateau": "divide the learning rate by 10 when the test loss stops improving for 2 epochs",
    "none": "constant learning rate",
}
IMAGEFOLDER_PREFIX = "imagefolder:"
MAX_LEARNING_RATE = 10.0
MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 65_536
MAX_THREADS = 256
MAX_SEED = 2**32 - 1  # numpy's seeds


class TrainingConfigError(CoursemateError, ValueError):
    """A training setting is invalid; the message names the valid choices."""


@dataclass
class TrainingConfig:
    """Settings of one training run (all JSON-friendly; saved as the run's config.json)."""

    dataset: str = "digits"
    model: str = "mnist_cnn"
    epochs: int = 5
    batch_size: int = 64
    lr: float = 0.05
    optimizer: str = "sgd"
    scheduler: str = "onecycle"
    augment: bool = False
    seed: int = 0
    device: str = "auto"  # auto (CUDA when present) | cpu | cuda | cuda:N
    num_threads: int = 1  # CPU threads of the worker (fixed so results repeat; 1 suits small models)
    data_root: str | None = None  # where torchvision datasets are looked for (and downloaded to, with download)
    download: bool = False  # fetch a missing torchvision dataset; only the CLI's --download asks for it

    def validated(self) -> TrainingConfig:
        """A normalized copy, or :class:`TrainingConfigError` naming what is wrong and the valid choices."""
        for name in ("dataset", "model", "optimizer", "scheduler", "device"):
            if not isinstance(getattr(self, name), str):
                raise TrainingConfigError(f"{name} must be text; got {getattr(self, name)!r}")
        if self.data_root is not None and not isinstance(self.data_root, str):
            raise TrainingConfigError(f"data_root must be a folder path; got {self.data_root!r}")
        dataset = self.dataset.strip()
        if dataset.lower().startswith(IMAGEFOLDER_PREFIX):
            folder = Path(dataset[len(IMAGEFOLDER_PREFIX):]).expanduser()
            if not folder.is_dir():
                raise TrainingConfigError(f"dataset {dataset!r}: folder {str(folder)!r} does not exist")
            dataset = IMAGEFOLDER_PREFIX + str(folder.resolve())
        else:
            dataset = dataset.lower()
            _check_choice("dataset", dataset, DATASETS)
        if dataset != "digits" and importlib.util.find_spec("torchvision") is None:
            raise TrainingConfigError(
                f"dataset {dataset!r} needs torchvision, which is not installed (pip install torchvision); "
                "the offline choice is 'digits'"
            )
        model, optimizer, scheduler = self.model.lower(), self.optimizer.lower(), self.scheduler.lower()
        _check_choice("model", model, MODELS)
        _check_choice("optimizer", optimizer, OPTIMIZERS)
        _check_choice("scheduler", scheduler, SCHEDULERS)
        _check_int("epochs", self.epochs, 1, MAX_EPOCHS)
        _check_int("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        _check_int("num_threads", self.num_threads, 1, MAX_THREADS)
        _check_int("seed", self.seed, 0, MAX_SEED)
        lr = _as_float("lr", self.lr)
        if not 0 < lr <= MAX_LEARNING_RATE:
            raise TrainingConfigError(
                f"learning rate must be in (0, {MAX_LEARNING_RATE:g}]; got {self.lr!r} (try 0.01 to 0.1)")
        device = _check_device(self.device)
        data_root = str(Path(self.data_root).expanduser()) if self.data_root else None
        return dataclasses.replace(
            self, dataset=dataset, model=model, optimizer=optimizer, scheduler=scheduler, lr=lr,
            augment=bool(self.augment), device=device, data_root=data_root, download=bool(self.download),
        )

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict (what config.json holds)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingConfig:
        """Build from a dict; unknown keys are an error naming the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TrainingConfigError(
                f"unknown training setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        return cls(**values)


def check_data_path(path: Path | str, roots: list[Path], what: str) -> Path:
    """``path`` resolved (links followed), or CoursemateError when it is not inside one of the data ``roots``.

    Paths chosen through the chat, the agents or the web UI go through this (the ``data_roots`` setting);
    the CLI, run by the machine's owner, may name any path.
    """
    resolved = Path(path).expanduser().resolve()
    for root in roots:
        if resolved.is_relative_to(Path(root).expanduser().resolve()):
            return resolved
    allowed = ", ".join(str(r) for r in roots) or "(none configured)"
    raise CoursemateError(f"{what} {str(path)!r} is outside the data roots ({allowed}); "
                          "put the data there or add a root with COURSEMATE_DATA_ROOTS")


def _check_choice(what: str, value: str, choices: dict[str, str]) -> None:
    if value not in choices:
        raise TrainingConfigError(f"unknown {what} {value!r}; valid choices: {', '.join(choices)}")


def _check_int(what: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TrainingConfigError(f"{what} must be an integer from {low:,} to {high:,}; got {value!r}")


def _as_float(what: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TrainingConfigError(f"{what} must be a number; got {value!r}") from None
    if not math.isfinite(number):
        raise TrainingConfigError(f"{what} must be a finite number; got {value!r}")
    return number


def _check_device(device: str) -> str:
    device = str(device).strip().lower()
    base, _, index = device.partition(":")
    if base not in ("auto", "cpu", "cuda") or (index and (base != "cuda" or not index.isdigit())):
        raise TrainingConfigError(f"unknown device {device!r}; valid choices: auto, cpu, cuda, cuda:N")
    if base == "cuda":
        import torch  # only when CUDA is asked for explicitly

        if not torch.cuda.is_available():
            raise TrainingConfigError(f"device {device!r} asked for but CUDA is not available here; use auto or cpu")
    return device
