"""``coursemate token``: bearer tokens of the ``/v1`` API that ``coursemate ui --auth`` requires."""

from __future__ import annotations

import argparse

from coursemate.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``token create|list|revoke``."""
    token = subparsers.add_parser("token", help="API tokens of the OpenAI-compatible /v1 endpoint (coursemate ui)")
    actions = token.add_subparsers(dest="token_action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="print a new token for USER (shown once, stored hashed)")
    create.add_argument("user", metavar="USER")
    actions.add_parser("list", help="the users and ids of the stored tokens")
    revoke = actions.add_parser("revoke", help="remove the tokens of USER, or the token with this id")
    revoke.add_argument("name", metavar="USER_OR_ID")
    token.set_defaults(handler=run_token)


def run_token(args: argparse.Namespace, settings: Settings) -> int:
    from coursemate.ui.tokens import token_store

    store = token_store(settings.home)
    if args.token_action == "create":
        print(store.create(args.user))
    elif args.token_action == "list":
        for record in store.records():
            print(f"{record.id}  {record.user}  created {record.created}")
    else:
        print(f"revoked {store.revoke(args.name)} token(s)")
    return 0
