"""Flags shared by several commands; their allowed values come from :mod:`coursemate.config`."""

from __future__ import annotations

import argparse

from coursemate.config import AGENT_MODES, EMBEDDING_BACKENDS, LLM_FORMS, TOOL_CHOICES


def global_flags(parser: argparse.ArgumentParser) -> None:
    """Flags accepted before any command: where things live and which embedding model to use."""
    parser.add_argument("--home", help="folder for indexes, runs and reports (default ~/.coursemate)")
    parser.add_argument("--index-dir", help="index folder (default HOME/index)")
    parser.add_argument("--embedding-model", help="sentence-transformers model name or path")
    parser.add_argument("--embedding-backend", choices=EMBEDDING_BACKENDS,
                        help="torch, or ONNX Runtime (onnx: same vectors, faster; onnx-int8: quantized)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")


def model_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that choose and tune the language model (shared by ask, chat and ui)."""
    parser.add_argument("--llm", help=LLM_FORMS)
    parser.add_argument("--llm-model", help="model name on the server (default: the first it lists)")
    parser.add_argument("--tool-choice", dest="llm_tool_choice", choices=TOOL_CHOICES)
    parser.add_argument("--agent-mode", choices=AGENT_MODES,
                        help="agent: manager + tool-calling agents; "
                             "grounded: retrieve, then the model writes the answer")
    parser.add_argument("--max-tokens", dest="llm_max_tokens", type=int, help="most tokens the model writes per call")
    parser.add_argument("--max-steps", dest="agent_max_steps", type=int, help="most steps per agent")
