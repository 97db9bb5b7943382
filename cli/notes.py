"""``coursemate notes add|remove|list``: change the notes from a shell, as the web UI's Notes tab does."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from coursemate.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``notes`` and its subcommands."""
    notes = subparsers.add_parser("notes", help="add, remove or list the indexed notes (the index is updated)")
    actions = notes.add_subparsers(dest="notes_action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="copy files into the home's notes and index them (only new text is embedded)")
    add.add_argument("files", nargs="+", metavar="FILE", type=Path)
    add.set_defaults(handler=run_add)
    remove = actions.add_parser("remove", help="remove added documents (their files are deleted from the home)")
    remove.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    remove.set_defaults(handler=run_remove)
    listing = actions.add_parser("list", help="the indexed documents, their passages and when they were added")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(handler=run_list)


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    from coursemate.retrieval.library import add_notes

    index = add_notes(settings, args.files)
    _print_update(index)
    return 0


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    from coursemate.retrieval import NotesIndex
    from coursemate.retrieval.library import remove_notes

    index = remove_notes(settings, NotesIndex.load_or_build(settings, progress=False), args.doc_ids)
    _print_update(index)
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    from coursemate.retrieval import NotesIndex
    from coursemate.retrieval.library import corpus_label, list_notes

    entries = list_notes(NotesIndex.load_or_build(settings, progress=not args.json))
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
        return 0
    print(f"notes: {corpus_label(settings.corpus_paths)}")
    width = max(len(e.doc_id) for e in entries)
    for e in entries:
        print(f"{e.doc_id:<{width}}  {e.chunks:>4} passages  added {e.added}{'  (added note)' if e.removable else ''}"
              f"  {e.title}")
    return 0


def _print_update(index) -> None:
    from coursemate.retrieval.library import corpus_label

    m = index.manifest
    print(f"notes: {corpus_label(index.settings.corpus_paths)}: {m['documents']} documents, {m['chunks']} passages "
          f"(embedded {m['embedded']['passages']} passages, {m['embedded']['sentences']} sentences "
          f"in {m['build_seconds']} s)")
