"""Run a vLLM OpenAI-compatible server with tool calling for the agents (``coursemate serve-llm``).

The server listens on ``http://HOST:PORT/v1``; ``--llm auto`` finds it on the default port, any other
address is passed as ``--llm URL``.
"""

from __future__ import annotations

import importlib.util
import shlex
import shutil
import subprocess
import time

from coursemate.errors import CoursemateError

GPU_INSTALL_HINT = "pip install coursemate[gpu]"
DEFAULT_TOOL_CALL_PARSER = "hermes"  # the <tool_call>{json}</tool_call> format most open fine-tunes use

# (substring of the lower-cased model name, vLLM tool-call parser); the first match wins.
_TOOL_CALL_PARSERS = (
    ("qwen", "hermes"),  # Qwen2.5, Qwen3, QwQ: <tool_call> JSON </tool_call>
    ("hermes", "hermes"),
    ("llama-3", "llama3_json"),  # meta-llama/Llama-3.1-8B-Instruct, Llama-3.2-3B-Instruct...
    ("llama3", "llama3_json"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("ministral", "mistral"),
    ("granite", "granite"),
)


def tool_call_parser_for(model: str) -> str:
    """The vLLM ``--tool-call-parser`` that reads tool calls in ``model``'s output format."""
    name = model.lower()
    return next((parser for key, parser in _TOOL_CALL_PARSERS if key in name), DEFAULT_TOOL_CALL_PARSER)


def vllm_serve_command(model: str, host: str, port: int, tensor_parallel: int = 1,
                       extra: list[str] | None = None) -> list[str]:
    """The ``vllm serve`` command line with automatic tool choice enabled."""
    return [
        "vllm", "serve", model,
        "--host", host,
        "--port", str(port),
        "--tensor-parallel-size", str(tensor_parallel),
        "--enable-auto-tool-choice",
        "--tool-call-parser", tool_call_parser_for(model),
        *(extra or []),
    ]  # fmt: skip


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float, what: str = "the server") -> None:
    """Poll ``url`` until it answers 200; raise ``CoursemateError`` if ``process`` exits or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CoursemateError(
                f"{what} exited with code {process.returncode} before it was ready (see its output above)")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise CoursemateError(f"{what} did not answer {url} within {timeout:g} s")


def stop_process(process: subprocess.Popen, grace: float = 20.0) -> None:
    """Ask ``process`` to stop, then kill it if it is still running after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_vllm(model: str, host: str, port: int, tensor_parallel: int = 1, extra: list[str] | None = None,
               wait: float = 1800.0) -> int:
    """Start ``vllm serve``, wait for ``/health``, print the URL, and run until the server stops; its exit code."""
    if tensor_parallel < 1:
        raise CoursemateError(f"--tp must be at least 1; got {tensor_parallel}")
    if importlib.util.find_spec("vllm") is None or shutil.which("vllm") is None:
        raise CoursemateError(f"serve-llm needs vLLM (and a GPU), which is not installed: {GPU_INSTALL_HINT}")
    command = vllm_serve_command(model, host, port, tensor_parallel, extra)
    print("starting:", shlex.join(command), flush=True)
    base = f"http://{host}:{port}"
    process = subprocess.Popen(command)
    try:
        wait_until_ready(f"{base}/health", process, wait, what="vllm serve")
        print(f"vLLM is serving {model} at {base}/v1", flush=True)
        print(f"use it with: --llm {base}/v1" + (" (or --llm auto)" if host == "127.0.0.1" else ""), flush=True)
        return process.wait()
    finally:
        stop_process(process)
