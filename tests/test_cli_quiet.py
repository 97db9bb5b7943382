"""Quiet by default: ``coursemate ask`` in a fresh home prints the answer and its sources, and nothing on stderr.

A fresh home is where the libraries are loudest: the embedding model is loaded and exported to ONNX for the first
time (transformers' "Loading weights: 100%|..." bar, onnxruntime's "Please consider to run pre-processing before
quantization" warning) and the index is built. One short note keeps the build quick.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from llm_server import free_port


@pytest.mark.slow  # a fresh process exports the embedding model and builds an index
def test_ask_in_a_fresh_home_writes_nothing_to_stderr(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSEMATE_", "HF_", "TRANSFORMERS_"))}
    env.update(COURSEMATE_HOME=str(tmp_path / "home"), COURSEMATE_SERVE_PORT=str(free_port()),
               COURSEMATE_OLLAMA_URL=f"http://127.0.0.1:{free_port()}",
               COURSEMATE_CORPUS_PATHS=str(REPO_ROOT / "data" / "notes" / "post-lstm-one-pager.md"))

    done = subprocess.run([sys.executable, "-m", "coursemate.cli", "ask", "What do the gates of an LSTM do?"],
                          env=env, capture_output=True, text=True, timeout=900)

    assert done.returncode == 0
    assert done.stderr == ""
    assert "[1]" in done.stdout and "sources:\n  [1] LSTM One Pager" in done.stdout
    assert (tmp_path / "home" / "models").is_dir()  # the export really ran in this home
