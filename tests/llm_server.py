"""A real llama.cpp OpenAI-compatible server on loopback, for tests (llama-cpp-python, the `dev` extra).

It serves the embedded SmolLM2-135M GGUF with the ``chatml-function-calling`` chat format, which
answers OpenAI ``tools`` requests with ``tool_calls``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from coursemate.agents.llm import embedded_gguf_path
from coursemate.agents.serve import stop_process, wait_until_ready

STARTUP_TIMEOUT = 120.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """``python -m llama_cpp.server`` as a subprocess; use as a context manager."""

    def __init__(self, model: Path | None = None, n_ctx: int = 4096):
        self.model = Path(model) if model else embedded_gguf_path()
        self.n_ctx = n_ctx
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path: Path | None = None
        self._process: subprocess.Popen | None = None

    def start(self) -> str:
        """Start the server and wait until it lists its model; returns the base URL."""
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model),
            "--chat_format", "chatml-function-calling",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", "-1",  # every core (the default is half of them)
        ]  # fmt: skip
        log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)
        self.log_path = Path(log.name)
        self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            wait_until_ready(f"{self.base_url}/models", self._process, STARTUP_TIMEOUT, what="llama_cpp.server")
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, stop the server and show its log
            self.stop()
            raise RuntimeError(f"{exc}\n--- server log ({self.log_path}) ---\n{self.log_tail()}") from None
        return self.base_url

    def stop(self) -> None:
        """Stop the server (terminate, then kill after a grace period)."""
        if self._process is not None:
            stop_process(self._process, grace=10.0)
            self._process = None

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's output, for failure messages."""
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path else ""

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
