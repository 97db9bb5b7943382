"""``coursemate ui``: index the notes, load the models, then serve the web UI (localhost, no share link)."""

from __future__ import annotations

import argparse

from coursemate.cli.flags import model_flags
from coursemate.config import Settings
from coursemate.errors import CoursemateError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ui``."""
    ui = subparsers.add_parser("ui", help="start the web UI: chat, training runs, search, notes")
    ui.add_argument("--host", dest="ui_host", help="address to listen on (default 127.0.0.1: this machine only)")
    ui.add_argument("--port", dest="ui_port", type=int, help="port to listen on (default 7860)")
    ui.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    ui.add_argument("--auth", metavar="USER:PASS", action="append",
                    help="ask for this user name and password (repeat for several users; each owns the runs it starts)")
    model_flags(ui)
    ui.set_defaults(handler=run_ui)


def parse_auth(values: list[str] | None) -> list[tuple[str, str]] | None:
    """Each ``"user:pass"`` as a pair; CoursemateError when one is not of that form or a user is named twice."""
    if not values:
        return None
    pairs = []
    for value in values:
        user, sep, password = value.partition(":")
        if not sep or not user or not password:
            raise CoursemateError("--auth must look like USER:PASS (both non-empty)")
        pairs.append((user, password))
    users = [user for user, _ in pairs]
    if len(set(users)) != len(users):
        raise CoursemateError("--auth names the same user twice")
    return pairs


def run_ui(args: argparse.Namespace, settings: Settings) -> int:
    auth = parse_auth(args.auth)
    if not 0 < settings.ui_port < 65536:
        raise CoursemateError(f"--port must be between 1 and 65535; got {settings.ui_port}")
    from coursemate.retrieval import NotesIndex
    from coursemate.ui.app import launch
    from coursemate.ui.services import Services
    from coursemate.ui.status import model_status

    print(f"coursemate: indexing the notes into {settings.index_dir} (reused when up to date)…", flush=True)
    index = NotesIndex.load_or_build(settings, progress=True)
    print(f"coursemate: {len(index.documents)} documents, {len(index.chunks)} passages", flush=True)
    services = Services(settings, index)
    print("coursemate: loading the embedding model, spelling corrector and language model…", flush=True)
    services.warm_up()
    print(f"coursemate: {model_status(settings).text()}", flush=True)
    api = f"http://{settings.ui_host}:{settings.ui_port}/v1"
    tokens = "bearer token of a user: coursemate token create USER" if auth else "no token needed without --auth"
    print(f"coursemate: OpenAI-compatible API at {api} (model coursemate; {tokens})", flush=True)
    try:
        launch(services, settings.ui_host, settings.ui_port, share=args.share, auth=auth)
    except OSError as exc:
        raise CoursemateError(f"cannot serve on {settings.ui_host}:{settings.ui_port} ({exc}); "
                              "choose another port with --port") from exc
    return 0
