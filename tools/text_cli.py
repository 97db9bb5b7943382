"""Subcommands of this package (registered by coursemate.cli)."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands."""
