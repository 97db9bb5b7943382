"""``coursemate train`` and ``coursemate runs``: start, follow, list, show, cancel and compare training runs."""

from __future__ import annotations

import argparse
import json
import sys

from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.tools.training.config import DATASETS, MODELS, OPTIMIZERS, SCHEDULERS, TrainingConfig

RUN_ACTIONS = ("list", "show", "cancel", "compare")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` and ``runs`` subcommands."""
    defaults = TrainingConfig()
    train = subparsers.add_parser("train", help="train a model (a real PyTorch run in a worker process)",
                                  description="Train a model in a background worker; prints per-epoch progress to "
                                              "stderr.")
    train.add_argument("--dataset", default=defaults.dataset,
                       help=f"one of {', '.join(DATASETS)} (default {defaults.dataset})")
    train.add_argument("--model", default=defaults.model, help=f"one of {', '.join(MODELS)} (default {defaults.model})")
    train.add_argument("--epochs", type=int, default=defaults.epochs, help=f"default {defaults.epochs}")
    train.add_argument("--batch-size", type=int, default=defaults.batch_size, help=f"default {defaults.batch_size}")
    train.add_argument("--lr", type=float, default=defaults.lr, help=f"(peak) learning rate, default {defaults.lr}")
    train.add_argument("--optimizer", default=defaults.optimizer,
                       help=f"one of {', '.join(OPTIMIZERS)} (default {defaults.optimizer})")
    train.add_argument("--scheduler", default=defaults.scheduler,
                       help=f"one of {', '.join(SCHEDULERS)} (default {defaults.scheduler})")
    train.add_argument("--augment", action=argparse.BooleanOptionalAction, default=defaults.augment,
                       help="random small shifts/rotations (and flips for CIFAR) of training images")
    train.add_argument("--seed", type=int, default=defaults.seed, help=f"default {defaults.seed}")
    train.add_argument("--device", dest="train_device", default=defaults.device,
                       help="auto (CUDA when present), cpu, cuda, cuda:N")
    train.add_argument("--threads", type=int, default=defaults.num_threads,
                       help=f"CPU threads of the worker (default {defaults.num_threads})")
    train.add_argument("--data-root", help="where torchvision datasets are found or downloaded (default HOME/datasets)")
    train.add_argument("--download", action="store_true",
                       help="download a torchvision dataset missing from the data root (nothing downloads otherwise)")
    train.add_argument("--runs-dir", help="folder of training runs (default HOME/runs)")
    train.add_argument("--json", action="store_true", help="print the run's summary as JSON on stdout")
    train.add_argument("--detach", action="store_true", help="start the run and return at once with its id")
    train.set_defaults(handler=train_command)

    runs = subparsers.add_parser("runs", help="list, show, cancel or compare training runs")
    runs.add_argument("action", nargs="?", default="list", choices=RUN_ACTIONS, help="default list")
    runs.add_argument("ids", nargs="*", metavar="ID", help="run id(s): one for show/cancel, several for compare")
    runs.add_argument("--runs-dir", help="folder of training runs (default HOME/runs)")
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.set_defaults(handler=runs_command)


def train_command(args: argparse.Namespace, settings: Settings) -> int:
    """Start a run; unless detached, follow it to the end. Exit code 0 when it completed, 1 otherwise."""
    from coursemate.tools.training.manager import RunManager
    from coursemate.tools.training.report import describe_epoch, describe_run

    config = TrainingConfig(
        dataset=args.dataset, model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        optimizer=args.optimizer, scheduler=args.scheduler, augment=args.augment, seed=args.seed,
        device=args.train_device, num_threads=args.threads, data_root=args.data_root, download=args.download,
    )
    manager = RunManager(settings)
    run_id = manager.start(config)
    if args.detach:
        print(json.dumps(manager.status(run_id).to_dict()) if args.json else run_id)
        return 0
    print(f"training run {run_id} started ({config.model} on {config.dataset}, {config.epochs} epochs); "
          f"files in {manager.run_dir(run_id)}", file=sys.stderr)
    try:
        summary = manager.wait(run_id, on_epoch=lambda row: print(describe_epoch(row, config.epochs), file=sys.stderr))
    except KeyboardInterrupt:
        manager.cancel(run_id)
        raise
    print(json.dumps(summary.to_dict(), indent=2) if args.json else describe_run(summary))
    if summary.status == "failed":
        raise CoursemateError(f"training run {run_id} failed: {summary.error}")
    return 0 if summary.status == "completed" else 1


def runs_command(args: argparse.Namespace, settings: Settings) -> int:
    """``runs list|show ID|cancel ID|compare ID ID ...``."""
    from coursemate.tools.training.manager import COMPARE_COLUMNS, RunManager
    from coursemate.tools.training.report import describe_run, runs_table

    wanted = {"list": (0, 0), "show": (1, 1), "cancel": (1, 1), "compare": (1, None)}[args.action]
    if len(args.ids) < wanted[0] or (wanted[1] is not None and len(args.ids) > wanted[1]):
        count = "no run id" if wanted[1] == 0 else "one run id" if wanted[1] == 1 else "one or more run ids"
        raise CoursemateError(f"runs {args.action} takes {count}; got {len(args.ids)}")
    manager = RunManager(settings)
    if args.action == "list":
        summaries = manager.list()
        result, text = [s.to_dict() for s in summaries], runs_table(summaries)
    elif args.action == "show":
        summary = manager.status(args.ids[0])
        result = dict(summary.to_dict(), metrics=manager.metrics(args.ids[0]))
        text = describe_run(summary) + f"\nfiles: {manager.run_dir(args.ids[0])}"
    elif args.action == "cancel":
        summary = manager.cancel(args.ids[0])
        result, text = summary.to_dict(), describe_run(summary)
    else:
        summaries = manager.compare(args.ids)
        result = [{c: getattr(s, c) for c in COMPARE_COLUMNS} for s in summaries]
        text = runs_table(summaries)
    print(json.dumps(result, indent=2) if args.json else text)
    return 0
