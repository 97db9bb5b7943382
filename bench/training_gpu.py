"""Training speed on CPU vs CUDA: the course's MNIST CNN, through real RunManager runs.

    python bench/training_gpu.py [--dataset mnist|digits] [--epochs 3] [--batch-size 128] [--threads N]

Uses MNIST when torchvision and the data are available (under --data-root), otherwise digits. Prints one
row per device with the time per epoch, the final test accuracy and the speed-up over CPU; the CUDA row says
"CUDA not available" on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.tools.training import RunManager, TrainingConfig


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def pick_dataset(requested: str | None, data_root: str) -> str:
    """MNIST when it can be loaded, digits otherwise (or what was asked for)."""
    if requested:
        return requested
    try:
        from coursemate.tools.training.data import load_dataset

        load_dataset("mnist", Path(data_root))
        return "mnist"
    except CoursemateError as exc:
        print(f"MNIST unavailable ({exc}); using digits", file=sys.stderr)
        return "digits"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", help="default: mnist when available, else digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads for the CPU run")
    parser.add_argument("--data-root", default=str(Path.home() / ".coursemate" / "datasets"))
    args = parser.parse_args()

    dataset = pick_dataset(args.dataset, args.data_root)
    rows = []
    with tempfile.TemporaryDirectory() as home:
        manager = RunManager(Settings.load(home=home, max_concurrent_runs=1))
        for device in ("cpu", "cuda"):
            if device == "cuda" and not cuda_available():
                rows.append((device, None))
                continue
            config = TrainingConfig(dataset=dataset, model="mnist_cnn", epochs=args.epochs, batch_size=args.batch_size,
                                    lr=0.05, device=device, num_threads=args.threads, data_root=args.data_root)
            summary = manager.wait(manager.start(config))
            if summary.status != "completed":
                print(f"{device} run {summary.status}: {summary.error}", file=sys.stderr)
                return 1
            rows.append((device, summary))

    cpu_epoch = rows[0][1]["train_seconds"] / args.epochs
    print(f"mnist_cnn on {dataset}, {args.epochs} epochs, batch size {args.batch_size}, CPU threads {args.threads}")
    print(f"{'device':8} {'params':>7} {'s/epoch':>9} {'total s':>8} {'test acc':>9} {'speed-up':>9}")
    for device, summary in rows:
        if summary is None:
            print(f"{device:8} CUDA not available")
            continue
        per_epoch = summary.train_seconds / args.epochs
        print(f"{device:8} {summary.params:>7,} {per_epoch:>9.3f} {summary.wall_seconds:>8.1f} "
              f"{100 * summary.final_test_accuracy:>8.2f}% {cpu_epoch / per_epoch:>8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
