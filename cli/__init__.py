"""The ``coursemate`` command line: one module per command group, shared flags in :mod:`coursemate.cli.flags`.

Flags whose names match a :class:`~coursemate.config.Settings` field (``--index-dir``, ``--llm``,
``--rrf-k`` ...) override that setting, after the ``COURSEMATE_*`` environment variables.

Quiet by default: a command prints its result, its sources and real errors; third-party progress bars, warnings and
log lines below ERROR show only with ``--verbose``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import warnings
from collections.abc import Sequence

from coursemate.cli import ask_chat, eval as eval_commands, index_search, notes, quiz, serve, text, token, train, ui
from coursemate.cli.flags import global_flags
from coursemate.config import Settings
from coursemate.errors import CoursemateError

COMMAND_GROUPS = (index_search, notes, train, text, quiz, ask_chat, serve, ui, token, eval_commands)
SETTING_NAMES = {f.name for f in dataclasses.fields(Settings)}


class OneLineErrors(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``coursemate: error: ...`` line (exit code 2)."""

    def error(self, message: str):
        self.exit(2, f"coursemate: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every command group's subcommands registered."""
    parser = OneLineErrors(prog="coursemate", description="An AI teaching assistant over course notes.")
    global_flags(parser)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(subparsers)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings with every flag that names a setting applied on top of the environment."""
    overrides = {k: v for k, v in vars(args).items() if k in SETTING_NAMES and v not in (None, [])}
    return Settings.load(**overrides)


def configure_output(verbose: bool) -> None:
    """Log to stderr at INFO with ``verbose``; otherwise silence what libraries print on their own: log lines
    below ERROR (onnxruntime's quantization advice), Python warnings and the Hugging Face progress bars
    ("Loading weights: 100%|..."; read when transformers is imported, so set before any command runs)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not verbose:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        warnings.simplefilter("ignore")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coursemate`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_output(args.verbose)
    try:
        return int(args.handler(args, settings_from_args(args)) or 0)
    except CoursemateError as exc:
        print(f"coursemate: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system refused (not a directory, permission denied, disk full ...)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"coursemate: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("coursemate: interrupted", file=sys.stderr)
        return 130
