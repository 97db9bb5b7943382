"""Real PyTorch training runs in background worker processes: the course's MNIST CNN, ResNet18 and an MLP
on digits, MNIST, Fashion-MNIST, CIFAR-10 or an image folder.

    from coursemate.tools.training import RunManager, TrainingConfig
    manager = RunManager(settings)
    run_id = manager.start(TrainingConfig(dataset="digits", model="mnist_cnn", epochs=5))
    summary = manager.wait(run_id)

Importing this package does not import torch (only the worker process and ``tools.training.models`` do).
"""

from coursemate.tools.training.config import (
    DATASETS,
    MODELS,
    OPTIMIZERS,
    SCHEDULERS,
    TrainingConfig,
    TrainingConfigError,
)
from coursemate.tools.training.manager import COMPARE_COLUMNS, RunManager
from coursemate.tools.training.store import RunSummary

__all__ = [
    "COMPARE_COLUMNS", "DATASETS", "MODELS", "OPTIMIZERS", "SCHEDULERS", "RunManager", "RunSummary", "TrainingConfig",
    "TrainingConfigError",
]
