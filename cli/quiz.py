"""``coursemate quiz``: questions with answer keys and sources, as text, JSON or an Anki deck."""

from __future__ import annotations

import argparse
import json

from coursemate.config import QUIZ_KINDS, Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``quiz`` subcommand."""
    quiz = subparsers.add_parser("quiz", help="quiz questions (cloze, multiple choice, short answer) from the notes")
    source = quiz.add_mutually_exclusive_group(required=True)
    source.add_argument("--doc", dest="doc_id", metavar="ID", help="a document id")
    source.add_argument("--session", type=int, metavar="N", help="a course session number")
    source.add_argument("--topic", help="a topic, searched in the notes")
    source.add_argument("--all", action="store_true", help="all the notes")
    quiz.add_argument("--n", type=int, default=10, help="number of questions (default 10)")
    quiz.add_argument("--kind", choices=QUIZ_KINDS, default=QUIZ_KINDS[0], help="kind of question (default cloze)")
    quiz.add_argument("--json", action="store_true", help="print the questions with answers and citations as JSON")
    quiz.add_argument("--anki", metavar="FILE.apkg", help="also write the questions as an Anki deck")
    quiz.set_defaults(handler=quiz_command)


def quiz_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the questions, then the answer key with each answer's source."""
    from coursemate.retrieval import NotesIndex
    from coursemate.tools.quiz import generate_quiz
    from coursemate.tools.study import export_anki

    index = NotesIndex.load_or_build(settings, progress=False)
    items = generate_quiz(index, doc_id=args.doc_id, session=args.session, topic=args.topic, n=args.n,
                          kind=args.kind, cache_dir=settings.quiz_dir)
    if args.anki:
        name = args.doc_id or (f"session {args.session}" if args.session is not None else args.topic) or "all notes"
        export_anki(items, args.anki, f"coursemate: {name}")
    print(json.dumps([item.to_dict() for item in items], ensure_ascii=False) if args.json else format_quiz(items))
    return 0


def format_quiz(items) -> str:
    """The numbered questions (with lettered choices), then the answer key and where each answer comes from."""
    from coursemate.tools.grounding.render import source_text

    lines = []
    for number, item in enumerate(items, start=1):
        lines.append(f"{number}. {item.question}")
        lines.extend(f"   {chr(65 + i)}. {choice}" for i, choice in enumerate(item.choices))
    lines += ["", "Answers:"]
    for number, item in enumerate(items, start=1):
        letter = f"{chr(65 + item.choices.index(item.answer))}. " if item.choices else ""
        lines.append(f"{number}. {letter}{item.answer}  {source_text(item.citation, chunk=True)}")
    return "\n".join(lines)
