"""``coursemate serve-llm``: a vLLM server with tool calling for the agents (the launching lives in agents.serve)."""

from __future__ import annotations

import argparse

from coursemate.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve-llm`` subcommand."""
    parser = subparsers.add_parser(
        "serve-llm",
        help="run a vLLM server with tool calling for the agents (needs a GPU)",
        description="Run `vllm serve MODEL --enable-auto-tool-choice --tool-call-parser P` and wait until it is "
                    "healthy.",
    )
    parser.add_argument(
        "--model", dest="serve_model", metavar="MODEL",
        help=f"model to serve (default {Settings.serve_model}: fits one GPU)",
    )
    parser.add_argument(
        "--port", dest="serve_port", metavar="PORT", type=int,
        help=f"port (default {Settings.serve_port}, where --llm auto looks)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--tp", type=int, default=1, metavar="N",
                        help="tensor-parallel size: number of GPUs (default 1)")
    parser.add_argument(
        "--wait", type=float, default=1800.0, metavar="SECONDS",
        help="seconds to wait until it is healthy (default 1800)",
    )
    parser.add_argument(
        "--extra", nargs=argparse.REMAINDER, default=[], metavar="ARGS",
        help="everything after --extra goes to `vllm serve` unchanged (put it last), e.g. --extra --max-model-len 8192",
    )  # fmt: skip
    parser.set_defaults(handler=run_serve_llm)


def run_serve_llm(args: argparse.Namespace, settings: Settings) -> int:
    """Serve ``settings.serve_model`` on ``settings.serve_port`` until the server stops."""
    from coursemate.agents.serve import serve_vllm

    return serve_vllm(settings.serve_model, args.host, settings.serve_port, args.tp, args.extra, args.wait)
