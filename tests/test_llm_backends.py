"""LLM backends against real models: a llama.cpp server on loopback and the embedded SmolLM2 on the CPU."""

from __future__ import annotations

import argparse
import contextlib
import http.server
import importlib.util
import json
import re
import subprocess
import sys
import threading
import time

import openai
import pytest
from smolagents import ChatMessage, OpenAIServerModel, Tool, ToolCallingAgent, TransformersModel
from smolagents.models import MessageRole

from coursemate.agents.llm import EMBEDDED_MODEL_NAME, embedded_gguf_path, resolve_llm
from coursemate.agents.serve import tool_call_parser_for, vllm_serve_command, wait_until_ready
from coursemate.cli import build_parser
from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.ui.status import model_status
from llm_server import free_port

HAS_VLLM = importlib.util.find_spec("vllm") is not None


class AddTool(Tool):
    """A real tool that records its calls, so a test can see the model used it."""

    name = "add"
    description = "Adds two integers and returns their sum."
    inputs = {
        "a": {"type": "integer", "description": "first number"},
        "b": {"type": "integer", "description": "second number"},
    }
    output_type = "integer"

    def __init__(self):
        super().__init__()
        self.calls: list[tuple[int, int]] = []

    def forward(self, a: int, b: int) -> int:
        self.calls.append((a, b))
        return a + b


def user(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=[{"type": "text", "text": text}])


def system(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.SYSTEM, content=[{"type": "text", "text": text}])


@pytest.fixture(scope="session")
def server_model(llama_server):
    model, info = resolve_llm(Settings.load(llm=llama_server, llm_max_tokens=64))
    assert model is not None, info.detail
    return model, info


# --- an OpenAI-compatible server (llama.cpp on loopback) ---------------------------------------


@pytest.mark.slow  # llama.cpp generates 64 tokens (the cheap server tests below stay in the quick loop)
@pytest.mark.llm_server
def test_server_url_gives_an_openai_model_that_generates(server_model, llama_server):
    model, info = server_model
    assert isinstance(model, OpenAIServerModel)
    assert (info.kind, info.url, info.reachable) == ("openai", llama_server, True)
    assert info.model == model.model_id and info.model

    answer = model.generate([user("Name one colour of the rainbow.")])

    assert isinstance(answer.content, str) and answer.content.strip()
    assert answer.token_usage.output_tokens > 0


@pytest.mark.slow  # llama.cpp reads the tools' prompt and writes a tool call
@pytest.mark.llm_server
def test_server_returns_a_real_tool_call_with_tool_choice_auto(server_model):
    model, _ = server_model
    add = AddTool()
    request = model._prepare_completion_kwargs(messages=[user("hi")], tools_to_call_from=[add])
    assert request["tool_choice"] == "auto"  # not smolagents' default "required"

    # llama.cpp's chatml-function-calling lists the tools inside the system message only.
    messages = [system("You are a calculator. Call a function to compute."), user("Use the add tool to add 2 and 3.")]
    answer = model.generate(messages, tools_to_call_from=[add])

    assert answer.tool_calls, f"no tool call, content was {answer.content!r}"
    call = answer.tool_calls[0]
    assert call.function.name == "add"


@pytest.mark.slow  # smolagents' system prompt is ~2k tokens for llama.cpp to read, twice
@pytest.mark.llm_server
def test_tool_calling_agent_runs_a_real_tool_and_answers(server_model):
    model, _ = server_model
    add = AddTool()
    agent = ToolCallingAgent(tools=[add], model=model, max_steps=1, verbosity_level=0)

    answer = agent.run("What is 2 + 3? Call the add tool.")

    assert add.calls == [(2, 3)]  # the tool really ran, with the arguments the model chose
    assert str(answer).strip()  # after the last step the agent asks the model for a final answer


@pytest.mark.llm_server
def test_llama_cpp_rejects_tool_choice_required(llama_server):
    """Why ``llm_tool_choice`` defaults to "auto": llama-cpp-python's chatml-function-calling handler
    accepts "none", "auto" or a named function; "required" passes request validation, then fails an
    ``assert tool_choice == "auto"`` inside the handler, and the server answers HTTP 500 with an empty
    message (llama-cpp-python 0.3.x). vLLM accepts "required" since 0.8.3."""
    model, _ = resolve_llm(Settings.load(llm=llama_server, llm_tool_choice="required", llm_max_tokens=16))
    with pytest.raises(openai.InternalServerError):
        model.generate([user("Add 2 and 3.")], tools_to_call_from=[AddTool()])


@pytest.mark.llm_server
def test_tool_choice_is_only_sent_with_tools(server_model):
    model, _ = server_model
    assert "tool_choice" not in model._prepare_completion_kwargs(messages=[user("hi")])


@pytest.mark.llm_server
def test_auto_uses_a_server_on_the_serve_port(llama_server):
    port = int(llama_server.rsplit(":", 1)[1].split("/")[0])
    model, info = resolve_llm(Settings.load(llm="auto", serve_port=port))
    assert isinstance(model, OpenAIServerModel)
    assert (info.kind, info.url, info.reachable) == ("vllm-server", llama_server, True)


def test_unreachable_server_is_reported_not_raised():
    started = time.monotonic()
    model, info = resolve_llm(Settings.load(llm="http://127.0.0.1:9/v1"))
    assert time.monotonic() - started < 10  # the probe's short timeout, not llm_timeout's 60 s
    assert model is None
    assert (info.kind, info.url, info.reachable) == ("openai", "http://127.0.0.1:9/v1", False)
    assert info.detail == "could not reach http://127.0.0.1:9/v1: connection refused"


def test_url_without_path_gets_v1():
    _, info = resolve_llm(Settings.load(llm="http://127.0.0.1:9"))
    assert info.url == "http://127.0.0.1:9/v1"


def test_none_disables_the_model():
    model, info = resolve_llm(Settings.load(llm="none"))
    assert model is None and info.kind == "none" and not info.reachable


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bogus", "--llm must be auto, extractive, smollm2 (or embedded), none"),
        ("ftp://example.org/v1", "--llm must be auto, extractive, smollm2 (or embedded), none"),
        ("http://", "must look like http://HOST:PORT/v1"),
        ("http://127.0.0.1:port/v1", "invalid port"),
        ("transformers:", "needs a model after 'transformers:'"),
        ("vllm:", "needs a model after 'vllm:'"),
    ],
)
def test_bad_llm_values_are_clear_errors(value, message):
    with pytest.raises(CoursemateError, match=re.escape(message)):
        resolve_llm(Settings.load(llm=value))


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed here, so the missing-vLLM message cannot show")
def test_vllm_in_process_without_vllm_says_what_to_install():
    with pytest.raises(CoursemateError, match=r"pip install coursemate\[gpu\]"):
        resolve_llm(Settings.load(llm="vllm:Qwen/Qwen2.5-7B-Instruct"))


# --- the embedded model --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def embedded(course_settings):
    settings = course_settings.replace(llm="embedded", llm_max_tokens=16)
    return resolve_llm(settings), settings


@pytest.mark.slow
def test_embedded_model_loads_and_generates(embedded):
    (model, info), _ = embedded
    assert isinstance(model, TransformersModel)
    assert (info.kind, info.model, info.reachable) == ("embedded", EMBEDDED_MODEL_NAME, True)

    answer = model.generate([user("What is a neural network?")], max_new_tokens=8)

    assert answer.content.strip()
    assert 0 < answer.token_usage.output_tokens <= 8


@pytest.mark.slow
def test_embedded_model_is_loaded_once_per_process(embedded):
    (model, _), settings = embedded
    again, _ = resolve_llm(settings)
    same_file, info = resolve_llm(settings.replace(llm=f"transformers:{embedded_gguf_path()}"))
    assert again is model and same_file is model
    assert info.kind == "transformers"


def test_auto_without_a_server_answers_extractively():
    port, ollama = free_port(), f"http://127.0.0.1:{free_port()}"
    chosen, info = resolve_llm(Settings.load(llm="auto", serve_port=port, ollama_url=ollama))
    assert chosen is None and (info.kind, info.reachable) == ("extractive", True)
    assert f"could not reach http://127.0.0.1:{port}/v1" in info.detail
    assert f"no Ollama at {ollama}: connection refused" in info.detail
    status = model_status(Settings.load(llm="auto", serve_port=port, ollama_url=ollama)).text()
    assert status.startswith("Answers: extractive answers from the notes (no vLLM") and "<" not in status


# --- Ollama in "auto" (a fake Ollama server on loopback: its /api/tags and OpenAI /v1 routes) ----------------------

OLLAMA_MODELS = [
    {"name": "nomic-embed-text:latest", "details": {"family": "nomic-bert", "families": ["nomic-bert"]}},
    {"name": "all-minilm:22m", "details": {"family": "bert", "families": ["bert"]}},
    {"name": "llama3.2:1b", "details": {"family": "llama", "families": ["llama"]}},
    {"name": "qwen2.5:0.5b", "details": {"family": "qwen2", "families": ["qwen2"]}},
]


class FakeOllama(http.server.BaseHTTPRequestHandler):
    """Ollama's routes that coursemate uses: ``GET /api/tags``, ``GET /v1/models``, ``POST /v1/chat/completions``
    (answers "Ollama says hi" and records the request)."""

    models: list[dict] = OLLAMA_MODELS
    chat_requests: list[dict] = []

    def do_GET(self):
        if self.path == "/api/tags":
            self._json({"models": self.models})
        elif self.path == "/v1/models":
            self._json({"object": "list", "data": [{"id": m["name"], "object": "model"} for m in self.models]})
        else:
            self._json({"error": "not found"}, 404)

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/chat/completions":
            return self._json({"error": "not found"}, 404)
        self.chat_requests.append(request)
        message = {"role": "assistant", "content": "Ollama says hi"}
        self._json({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": request["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})

    def _json(self, value, status: int = 200):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@contextlib.contextmanager
def fake_ollama(models: list[dict] = OLLAMA_MODELS):
    handler = type("Handler", (FakeOllama,), {"models": models, "chat_requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.chat_requests
    finally:
        server.shutdown()
        server.server_close()


def test_auto_picks_ollama_when_no_vllm_answers():
    with fake_ollama() as (url, requests):
        settings = Settings.load(llm="auto", serve_port=free_port(), ollama_url=url)
        model, info = resolve_llm(settings)
        assert isinstance(model, OpenAIServerModel)
        # the first chat model it lists: the embedding models are left out
        assert (info.kind, info.model, info.url, info.reachable) == ("ollama", "llama3.2:1b", f"{url}/v1", True)
        assert model_status(settings).text() == f"Language model: llama3.2:1b (Ollama) at {url}/v1"

        answer = model.generate([user("Say hi.")])

    assert answer.content == "Ollama says hi"
    assert [r["model"] for r in requests] == ["llama3.2:1b"]


def test_auto_uses_the_configured_model_on_ollama():
    with fake_ollama() as (url, _):
        _, info = resolve_llm(Settings.load(llm="auto", serve_port=free_port(), ollama_url=url,
                                            llm_model="qwen2.5:0.5b"))
    assert (info.kind, info.model) == ("ollama", "qwen2.5:0.5b")


def test_auto_prefers_vllm_on_the_serve_port():
    with fake_ollama() as (vllm_url, _), fake_ollama() as (ollama_url, _):
        port = int(vllm_url.rsplit(":", 1)[1])  # an OpenAI-compatible server answers on the serve port
        _, info = resolve_llm(Settings.load(llm="auto", serve_port=port, ollama_url=ollama_url))
    assert (info.kind, info.url) == ("vllm-server", f"{vllm_url}/v1")


def test_ollama_without_a_chat_model_leaves_extractive_answers():
    with fake_ollama(OLLAMA_MODELS[:2]) as (url, _):
        model, info = resolve_llm(Settings.load(llm="auto", serve_port=free_port(), ollama_url=url))
    assert model is None and info.kind == "extractive"
    assert f"Ollama at {url} has no chat model (ollama pull MODEL)" in info.detail


@pytest.mark.slow
def test_smollm2_is_the_embedded_model(embedded):
    (model, _), settings = embedded
    chosen, info = resolve_llm(settings.replace(llm="smollm2"))
    assert chosen is model and info.kind == "embedded"


def test_missing_gguf_file_is_a_clear_error(tmp_path):
    with pytest.raises(CoursemateError, match="no such GGUF file"):
        resolve_llm(Settings.load(home=tmp_path, llm=f"transformers:{tmp_path / 'missing.gguf'}"))


def test_transformers_folder_that_is_no_model_is_a_clear_error(tmp_path):
    with pytest.raises(CoursemateError, match="could not load transformers model"):
        resolve_llm(Settings.load(home=tmp_path, llm=f"transformers:{tmp_path}"))


# --- serve-llm ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "parser"),
    [
        ("Qwen/Qwen2.5-7B-Instruct", "hermes"),
        ("Qwen/Qwen3-8B", "hermes"),
        ("meta-llama/Llama-3.1-8B-Instruct", "llama3_json"),
        ("meta-llama/Llama-3.2-3B-Instruct", "llama3_json"),
        ("mistralai/Mistral-7B-Instruct-v0.3", "mistral"),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "mistral"),
        ("NousResearch/Hermes-3-Llama-3.1-8B", "hermes"),
        ("ibm-granite/granite-3.1-8b-instruct", "granite"),
        ("some-org/unknown-model", "hermes"),
    ],
)
def test_tool_call_parser_for(model, parser):
    assert tool_call_parser_for(model) == parser


def test_vllm_serve_command():
    command = vllm_serve_command("meta-llama/Llama-3.1-8B-Instruct", "127.0.0.1", 8001, 2, ["--max-model-len", "8192"])
    assert command == [
        "vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct",
        "--host", "127.0.0.1", "--port", "8001", "--tensor-parallel-size", "2",
        "--enable-auto-tool-choice", "--tool-call-parser", "llama3_json",
        "--max-model-len", "8192",
    ]  # fmt: skip


def serve_args(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_serve_llm_arguments_map_onto_settings():
    argv = ["serve-llm", "--model", "Qwen/Qwen3-8B", "--port", "8123", "--tp", "2",
            "--extra", "--max-model-len", "4096"]
    args = serve_args(argv)
    assert (args.serve_model, args.serve_port, args.tp) == ("Qwen/Qwen3-8B", 8123, 2)
    assert args.extra == ["--max-model-len", "4096"]


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed here, so the missing-vLLM message cannot show")
def test_serve_llm_without_vllm_says_what_to_install():
    args = serve_args(["serve-llm"])
    with pytest.raises(CoursemateError, match=r"pip install coursemate\[gpu\]"):
        args.handler(args, Settings.load())


def test_wait_until_ready_reports_a_server_that_exits():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(CoursemateError, match="exited with code 3"):
        wait_until_ready(f"http://127.0.0.1:{free_port()}/health", process, timeout=30, what="fake server")
