"""``coursemate ask`` and ``coursemate chat``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coursemate.cli.flags import model_flags
from coursemate.config import Settings
from coursemate.errors import CoursemateError

CHAT_HELP = "commands: /new (new conversation), /export FILE (save this conversation as JSON), /quit"
YES, NO = ("y", "yes"), ("n", "no", "not now")
NOT_DONE = ('nothing was done: confirm it in "coursemate chat", or write it as a command, for example '
            '"train resnet18 on digits for 2 epochs"')


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ask`` and ``chat``."""
    ask = subparsers.add_parser("ask", help="ask a question about the course notes")
    ask.add_argument("question", metavar="QUESTION")
    ask.add_argument("--json", action="store_true", help="print the answer object (citations, steps, trace) as JSON")
    model_flags(ask)
    ask.set_defaults(handler=run_ask)

    chat = subparsers.add_parser("chat", help="a multi-turn conversation in the terminal", description=CHAT_HELP)
    model_flags(chat)
    chat.set_defaults(handler=run_chat)


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    from coursemate.agents.assistant import CourseAssistant
    from coursemate.retrieval.index import check_query

    check_query(args.question)  # fail fast, before loading models
    answer = CourseAssistant(settings).ask(args.question)
    if args.json:
        print(answer.to_json())
    else:
        print(answer.answer)
        print(format_footer(answer))
        if answer.pending is not None:
            print(f"({NOT_DONE})")
    return 0


def format_footer(answer) -> str:
    """Did-you-mean, sources, notice and model lines printed under an answer."""
    from coursemate.tools.grounding.render import sources_text

    lines = [""]
    if answer.did_you_mean:
        lines.append(f"did you mean: {answer.did_you_mean}")
    if answer.citations:
        lines.append(sources_text(answer.citations))
    if answer.notice:
        lines.append(f"notice: {answer.notice}")
    lines.append(f"model: {answer.model}")
    return "\n".join(lines)


def run_chat(args: argparse.Namespace, settings: Settings) -> int:
    from coursemate.agents.assistant import CourseAssistant
    from coursemate.agents.conversation import save_conversation

    assistant = CourseAssistant(settings)
    number, answers = 1, []
    print(f"coursemate chat ({CHAT_HELP})")
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return 0
        if line == "/new":
            number, answers = number + 1, []
            print(f"(new conversation chat-{number})")
            continue
        if line.startswith("/export"):
            target = line[len("/export"):].strip()
            if not target:
                print("usage: /export FILE")
                continue
            try:
                save_conversation(Path(target), f"chat-{number}", [a.to_dict() for a in answers])
                print(f"(saved {len(answers)} answer(s) to {target})")
            except CoursemateError as exc:
                print(f"coursemate: error: {exc}", file=sys.stderr)
            continue
        if line.startswith("/"):
            print(CHAT_HELP)
            continue
        try:
            answer = _chat_turn(assistant, line, f"chat-{number}")
            answers.append(answer)
            if answer.pending is not None:
                confirmed = _confirmed(assistant, answer.pending, f"chat-{number}")
                if confirmed is None:
                    return 0
                answers += confirmed
        except CoursemateError as exc:
            print(f"coursemate: error: {exc}", file=sys.stderr)


def _confirmed(assistant, action, conversation_id: str):
    """Ask yes/no for a proposed action; carry it out on yes. The answers it gave (none on no); None at end of input."""
    while True:
        try:
            reply = input(f"{action.label}? [y/n] ").strip().lower()
        except EOFError:
            print()
            return None
        if reply in YES:
            answer = assistant.confirm(action, conversation_id)
            print(f"coursemate> {answer.answer}")
            print(format_footer(answer))
            return [answer]
        if reply in NO:
            print("coursemate> Not now, then: nothing was started or stopped.")
            return []
        print("please answer y (yes) or n (no)")


def _chat_turn(assistant, question: str, conversation_id: str):
    from coursemate.agents.events import AnswerEvent, TokenEvent

    streamed = False
    for event in assistant.stream(question, conversation_id):
        if isinstance(event, TokenEvent):
            if not streamed:
                print("coursemate> ", end="")
            streamed = True
            print(event.text, end="", flush=True)
        elif isinstance(event, AnswerEvent):
            answer = event.answer
            if streamed:
                print()
            if not streamed or answer.answer.strip() != _streamed_text(answer):
                print(("(final answer) " if streamed else "coursemate> ") + answer.answer)
            print(format_footer(answer))
            return answer
    raise AssertionError("stream() always ends with an answer event")


def _streamed_text(answer) -> str:
    generation = [s for s in answer.trace.steps if s.kind == "generation"]
    return generation[-1].output.strip() if generation else ""
