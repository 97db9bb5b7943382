"""``coursemate spell`` and ``coursemate summarize``."""

from __future__ import annotations

import argparse
import json
import sys

from coursemate.config import Settings
from coursemate.errors import CoursemateError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``spell`` and ``summarize`` subcommands."""
    spell = subparsers.add_parser("spell", help="correct the spelling of a text (course terms, numbers and code kept)")
    spell.add_argument("text", help="the text to correct")
    spell.add_argument("--json", action="store_true", help="print original, corrected, changed and changes as JSON")
    spell.set_defaults(handler=spell_command)

    summarize = subparsers.add_parser("summarize",
                                      help="summarize a note, a course session, a topic or a text, with citations")
    source = summarize.add_mutually_exclusive_group(required=True)
    source.add_argument("--doc", dest="doc_id", metavar="ID", help="a document id")
    source.add_argument("--session", type=int, metavar="N", help="a course session number")
    source.add_argument("--topic", help="a topic, searched in the notes")
    source.add_argument("--text", help="a text to summarize")
    summarize.add_argument("--words", type=int, help="target length in words (default 200, between 10 and 2000)")
    summarize.add_argument("--json", action="store_true", help="print text, citations and method as JSON")
    summarize.set_defaults(handler=summarize_command)


def spell_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the corrected text (or the full correction as JSON)."""
    from coursemate.retrieval.spelling import SpellingCorrector

    if not args.text.strip():
        raise CoursemateError("the text is empty: give some words to correct")
    try:
        corrector = _open_index(settings).corrector or SpellingCorrector()
    except CoursemateError as exc:
        print(f"coursemate: notice: course vocabulary unavailable ({exc}); using the English dictionary alone",
              file=sys.stderr)
        corrector = SpellingCorrector()
    result = corrector.correct(args.text)
    print(json.dumps(result.to_dict()) if args.json else result.corrected)
    return 0


def summarize_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the summary (an outline: one bullet per topic) of the chosen source, then its sources."""
    from coursemate.tools.grounding.render import text_with_sources
    from coursemate.tools.summarize import DEFAULT_WORDS, summarize

    summary = summarize(_open_index(settings), doc_id=args.doc_id, session=args.session, topic=args.topic,
                        text=args.text, words=DEFAULT_WORDS if args.words is None else args.words)
    print(json.dumps(summary.to_dict()) if args.json else text_with_sources(summary.text, summary.citations))
    return 0


def _open_index(settings: Settings):
    from coursemate.retrieval import NotesIndex

    return NotesIndex.load_or_build(settings, progress=False)
