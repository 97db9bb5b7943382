"""The ``coursemate`` command line: each package registers its own subcommands.

Flags whose names match a :class:`~coursemate.config.Settings` field (``--index-dir``, ``--llm``,
``--rrf-k`` ...) override that setting, after the ``COURSEMATE_*`` environment variables.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from coursemate.config import EMBEDDING_BACKENDS, Settings
from coursemate.errors import CoursemateError

COMMAND_MODULES = ("retrieval.cli", "tools.cli", "agents.cli", "ui.cli", "eval.cli")
SETTING_NAMES = {f.name for f in dataclasses.fields(Settings)}


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every package's subcommands registered."""
    parser = argparse.ArgumentParser(prog="coursemate", description="An AI teaching assistant over course notes.")
    parser.add_argument("--home", help="folder for indexes, runs and reports (default ~/.coursemate)")
    parser.add_argument("--index-dir", help="index folder (default HOME/index)")
    parser.add_argument("--embedding-model", help="sentence-transformers model name or path")
    parser.add_argument("--embedding-backend", choices=EMBEDDING_BACKENDS,
                        help="torch, or ONNX Runtime (onnx: same vectors, faster; onnx-int8: quantized)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings with every flag that names a setting applied on top of the environment."""
    overrides = {k: v for k, v in vars(args).items() if k in SETTING_NAMES and v not in (None, [])}
    return Settings.load(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coursemate`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return int(args.handler(args, settings_from_args(args)) or 0)
    except CoursemateError as exc:
        print(f"coursemate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("coursemate: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
