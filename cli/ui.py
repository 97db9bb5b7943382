"""``coursemate ui``: index the notes, load the models, then serve the web UI (localhost, no share link)."""

from __future__ import annotations

import argparse
import ipaddress

from coursemate.cli.flags import model_flags
from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.io import check_writable


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ui``."""
    ui = subparsers.add_parser("ui", help="start the web UI: chat, training runs, search, notes")
    ui.add_argument("--host", dest="ui_host", help="address to listen on (default 127.0.0.1: this machine only)")
    ui.add_argument("--port", dest="ui_port", type=int, help="port to listen on (default 7860)")
    ui.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    ui.add_argument("--auth", metavar="USER:PASS", action="append",
                    help="ask for this user name and password (repeat for several users; each owns the runs it starts)")
    ui.add_argument("--insecure-no-auth", action="store_true",
                    help="serve beyond this machine (--host, --share) without --auth: everyone who reaches it acts "
                         "as the machine's owner")
    ui.add_argument("--admin", dest="ui_admins", metavar="USER", action="append",
                    help="an --auth user who may add and remove notes and see the Instructor tab (repeat for several; "
                         "without --auth the local user is the admin)")
    ui.add_argument("--show-users", dest="ui_show_users", action="store_true", default=None,
                    help="name who asked in the Instructor tab and its CSV (by default questions are shown without "
                         "user names)")
    model_flags(ui)
    ui.set_defaults(handler=run_ui)


def parse_auth(values: list[str] | None) -> list[tuple[str, str]] | None:
    """Each ``"user:pass"`` as a pair; CoursemateError when one is not of that form, a user name is reserved
    (``local``: the machine's owner) or named twice."""
    if not values:
        return None
    from coursemate.ui.login import check_users

    pairs = []
    for value in values:
        user, sep, password = value.partition(":")
        if not sep or not user or not password:
            raise CoursemateError("--auth must look like USER:PASS (both non-empty)")
        pairs.append((user, password))
    return check_users(pairs)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, share: bool, auth: list | None, insecure_no_auth: bool) -> None:
    """CoursemateError when the UI would be reachable beyond this machine with no login and no explicit consent."""
    if auth or insecure_no_auth:
        return
    if share:
        raise CoursemateError("--share opens a public link: add --auth USER:PASS (or --insecure-no-auth to serve "
                              "it without a login)")
    if not is_loopback(host):
        raise CoursemateError(f"--host {host} serves beyond this machine: add --auth USER:PASS (or --insecure-no-auth "
                              "to serve it without a login)")


def run_ui(args: argparse.Namespace, settings: Settings) -> int:
    auth = parse_auth(args.auth)
    unknown = set(settings.ui_admins) - {user for user, _ in auth or []}
    if unknown:
        raise CoursemateError(f"--admin names {', '.join(sorted(unknown))}, not a user given with --auth"
                              if auth else "--admin needs --auth (without it, the local user is the admin)")
    check_exposure(settings.ui_host, args.share, auth, args.insecure_no_auth)
    check_writable(settings.home, "runs and study progress")
    from coursemate.retrieval import NotesIndex
    from coursemate.ui.app import launch
    from coursemate.ui.services import Services
    from coursemate.ui.status import index_status, model_status

    print(f"coursemate: indexing the notes into {settings.index_dir} (reused when up to date)…", flush=True)
    index = NotesIndex.load_or_build(settings, progress=True)
    print(f"coursemate: {index_status(index).replace('**', '')}", flush=True)
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
