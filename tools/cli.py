"""Subcommands of the tools package: train, runs, spell, summarize."""

import argparse

from tools import text_cli
from tools.training import cli as training_cli


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the tools' subcommands."""
    training_cli.register(subparsers)
    text_cli.register(subparsers)
