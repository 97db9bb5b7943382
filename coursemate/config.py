"""The one home of coursemate's configuration.

Every setting has a default here, can be overridden by an environment variable named
``COURSEMATE_<FIELD>`` (for example ``COURSEMATE_INDEX_DIR`` or ``COURSEMATE_LLM``), and by the
CLI flags that map onto the same fields. ``Settings.load(**overrides)`` applies them in that order:
defaults, then environment, then explicit overrides (``None`` overrides are ignored).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from coursemate.errors import CoursemateError
from coursemate.io import atomic_write_json

_PACKAGE_DIR = Path(__file__).resolve().parent
# The shipped notes: a wheel installs them as coursemate/notes (package data); a checkout keeps them in data/notes.
DEFAULT_CORPUS_DIR = next((p for p in (_PACKAGE_DIR / "notes", _PACKAGE_DIR.parent / "data" / "notes") if p.is_dir()),
                          _PACKAGE_DIR / "notes")
ENV_PREFIX = "COURSEMATE_"
CORPUS_RECORD = "corpus.json"  # under the home: the notes the last `coursemate index PATHS` chose
EMBEDDING_BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
# Allowed values of settings and flags, defined once (the CLI's choices and Settings' validation use them).
SEARCH_MODES = ("hybrid", "bm25", "dense")
SPARSE_BACKENDS = ("auto", "rank-bm25", "bm25s")
DENSE_INDEXES = ("auto", "flat", "hnsw", "ivf")
TOOL_CHOICES = ("auto", "required", "none")  # servers differ: llama.cpp rejects "required"
AGENT_MODES = ("auto", "agent", "grounded")
QUIZ_KINDS = ("cloze", "mcq", "short")  # cloze: a blanked key term; mcq: with distractors; short: "What is X?"
LLM_FORMS = ("auto, extractive, smollm2 (or embedded), none, an http(s):// URL, transformers:PATH_OR_HUB_ID "
             "or vllm:MODEL")


class ConfigError(CoursemateError, ValueError):
    """A setting has a value coursemate cannot use; the message says which and why."""


def _default_home() -> Path:
    return Path.home() / ".coursemate"


@dataclass
class Settings:
    """All of coursemate's settings. Paths are resolved lazily from ``home`` when left unset."""

    # Where indexes, training runs and reports live (each can be moved on its own).
    home: Path = field(default_factory=_default_home)
    index_dir: Path | None = None
    runs_dir: Path | None = None
    reports_dir: Path | None = None
    models_dir: Path | None = None  # exported embedding models (ONNX), reused by every index of this home
    quiz_dir: Path | None = None  # the quizzes' course vocabulary, one file per index fingerprint

    # Corpus and retrieval.
    # None: the paths the last `coursemate index PATHS` recorded in the home (CORPUS_RECORD), else the shipped notes
    corpus_paths: list[Path] | None = None
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_backend: str = "auto"  # auto | torch | onnx | onnx-int8 (retrieval/embeddings.py, bench/embedding.py)
    embedding_batch_size: int = 64
    device: str = "auto"
    torch_threads: int = 0  # CPU threads of the embedder; 0 = torch's default (and one for queries: faster)
    chunk_size: int = 1200  # characters; 1200/180 beat 400-1600 on the course dev split (eval ablate --grid chunking)
    chunk_overlap: int = 180
    # split long heading-less sections (the course sessions) into topics (retrieval/topics.py)
    topic_sections: bool = True
    sparse_backend: str = "auto"  # auto | rank-bm25 | bm25s
    bm25s_min_chunks: int = 5_000  # "auto" switches to bm25s from this many chunks on (bench/retrieval.py)
    bm25_stemming: bool = True
    bm25_stopwords: bool = True
    dense_index: str = "auto"  # auto | flat | hnsw | ivf
    hnsw_min_chunks: int = 50_000  # "auto" switches from exact flat search to HNSW from this many chunks on
    rrf_k: int = 10  # RRF constant: 10 beats the usual 60 on course dev and SciFact train (eval ablate --grid fusion)
    bm25_weight: float = 1.0
    dense_weight: float = 1.0
    # hybrid: weight of the ranking of the candidates by their best sentence (0 = off; course dev and SciFact train)
    sentence_weight: float = 0.5
    candidates: int = 100  # hits taken from each method before fusion
    spelling: bool = True

    # Language model and agents.
    llm: str = "auto"  # auto | embedded | none | URL | transformers:PATH | vllm:MODEL
    llm_model: str | None = None  # model name on an OpenAI-compatible server (asked from /v1/models when unset)
    llm_api_key: str | None = None
    llm_tool_choice: str = "auto"  # auto | required | none: servers differ (llama.cpp rejects "required")
    llm_timeout: float = 60.0
    llm_max_tokens: int = 512
    llm_temperature: float = 0.0
    agent_max_steps: int = 6
    prompts_path: Path | None = None  # a YAML file of prompts read over the shipped coursemate/prompts.yaml
    agent_mode: str = "auto"  # auto | agent | grounded: grounded = retrieve first, the model only writes the answer
    answer_passages: int = 5  # passages an answer is written from (extractive: dev split)
    # coverage score below this: "not in the notes" (tools/grounding/coverage.Coverage, dev split)
    coverage_min_score: float = 0.0  # coverage score below this: "not in the notes" (tools/grounding/coverage.Coverage)
    serve_model: str = "Qwen/Qwen2.5-7B-Instruct"
    serve_port: int = 8000
    ollama_url: str = "http://127.0.0.1:11434"  # a local Ollama server, tried by "auto" after vLLM on serve_port

    # Conversations (chat history per browser session or conversation id; the UI keeps them in HOME/state.sqlite3).
    max_conversations: int = 500  # the least recently used is forgotten beyond this
    conversation_idle_seconds: float = 3600.0  # a conversation idle this long is forgotten
    max_logged_questions: int = 100_000  # the instructor's log of the chat's questions keeps the newest this many

    # Training runs.
    max_concurrent_runs: int = 2
    # Folders that dataset paths chosen through the chat, the agents or the web UI must lie in (the CLI may
    # name any path); empty = HOME/datasets.
    data_roots: list[Path] = field(default_factory=list)

    # UI and its OpenAI-compatible API (/v1).
    ui_host: str = "127.0.0.1"
    ui_port: int = 7860
    max_message_chars: int = 4000  # longest chat message (longer ones are refused with a clear error)
    max_history_messages: int = 40  # most messages of a conversation sent in one request
    api_requests_per_minute: int = 30  # per user (per client address without --auth); more gets HTTP 429
    max_file_size: int = 50 * 1024 * 1024  # bytes of one upload to the web UI
    # With --auth: the users who may add and remove notes and see the Instructor tab (without --auth: the local user)
    ui_admins: list[str] = field(default_factory=list)
    ui_show_users: bool = False  # the Instructor tab names who asked (off: questions are shown without user names)
    # a web session unused this long (its page closed: an open page polls every second) has its server state dropped
    session_idle_seconds: float = 600.0

    def __post_init__(self) -> None:
        self.home = Path(self.home).expanduser()
        self.index_dir = Path(self.index_dir).expanduser() if self.index_dir else self.home / "index"
        self.runs_dir = Path(self.runs_dir).expanduser() if self.runs_dir else self.home / "runs"
        self.reports_dir = Path(self.reports_dir).expanduser() if self.reports_dir else self.home / "reports"
        self.models_dir = Path(self.models_dir).expanduser() if self.models_dir else self.home / "models"
        self.quiz_dir = Path(self.quiz_dir).expanduser() if self.quiz_dir else self.home / "quiz"
        self.prompts_path = Path(self.prompts_path).expanduser() if self.prompts_path else None
        if self.corpus_paths is None:
            self.corpus_paths = recorded_corpus_paths(self.home) or [DEFAULT_CORPUS_DIR]
        self.corpus_paths = [Path(p).expanduser() for p in self.corpus_paths]
        self.ui_admins = [str(u) for u in self.ui_admins]
        self.data_roots = [Path(p).expanduser() for p in self.data_roots] or [self.home / "datasets"]
        self._validate()

    def _validate(self) -> None:
        if self.home.exists() and not self.home.is_dir():
            raise ConfigError(
                f"home {self.home} is a file, not a folder: choose a folder with --home or COURSEMATE_HOME")
        self._validate_numbers()
        choices = {
            "sparse_backend": SPARSE_BACKENDS,
            "embedding_backend": EMBEDDING_BACKENDS,
            "dense_index": DENSE_INDEXES,
            "llm_tool_choice": TOOL_CHOICES,
            "agent_mode": AGENT_MODES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError(f"chunk_overlap must be between 0 and chunk_size; got {self.chunk_overlap}")
        if self.bm25_weight + self.dense_weight == 0:
            raise ConfigError("bm25_weight and dense_weight must not both be zero")
        if self.prompts_path is not None:
            from coursemate.prompts import load_prompts

            try:
                load_prompts(self.prompts_path)
            except CoursemateError as exc:
                raise ConfigError(f"prompts_path: {exc}") from None

    def _validate_numbers(self) -> None:
        """Every int and float field is a finite number of its type, inside the bounds of ``NUMBER_BOUNDS``."""
        hints = get_type_hints(Settings)
        for f in fields(self):
            kind = hints[f.name]
            if kind not in (int, float):
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                    kind is int and not isinstance(value, int)):
                raise ConfigError(f"{f.name} must be {'an integer' if kind is int else 'a number'}; got {value!r}")
            if not math.isfinite(value):
                raise ConfigError(f"{f.name} must be a finite number; got {value!r}")
            low, high = NUMBER_BOUNDS.get(f.name, (None, None))
            positive = f.name in POSITIVE
            if (low is not None and (value <= low if positive else value < low)) or (high is not None and value > high):
                raise ConfigError(f"{f.name} must be {_bounds_text(low, high, positive)}; got {value!r}")

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, then ``COURSEMATE_*`` environment variables, then non-None ``overrides``."""
        values = _from_environment()
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view (secrets masked)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "llm_api_key" and value:
                value = "***"
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, list):
                value = [str(v) for v in value]
            out[f.name] = value
        return out


MAX_WEIGHT = 100.0
# floats that must be above their lower bound
POSITIVE = frozenset({"llm_timeout", "conversation_idle_seconds", "session_idle_seconds"})
# (lowest, highest) allowed value of each numeric setting (None: unbounded on that side).
NUMBER_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "embedding_batch_size": (1, 100_000),
    "torch_threads": (0, 1024),
    "chunk_size": (50, 1_000_000),
    "chunk_overlap": (0, None),
    "bm25s_min_chunks": (1, None),
    "hnsw_min_chunks": (1, None),
    "rrf_k": (1, 1_000_000),
    "bm25_weight": (0.0, MAX_WEIGHT),
    "dense_weight": (0.0, MAX_WEIGHT),
    "sentence_weight": (0.0, MAX_WEIGHT),
    "candidates": (1, 100_000),
    "llm_timeout": (0.0, 86_400.0),
    "llm_max_tokens": (1, 1_000_000),
    "llm_temperature": (0.0, 2.0),
    "agent_max_steps": (1, 100),
    "answer_passages": (1, 100),
    "coverage_min_score": (-1e6, 1e6),
    "serve_port": (1, 65535),
    "max_conversations": (1, 10_000_000),
    "conversation_idle_seconds": (0.0, 365 * 86_400.0),
    "max_logged_questions": (1, None),
    "max_message_chars": (1, 10_000_000),
    "max_history_messages": (1, 100_000),
    "api_requests_per_minute": (1, None),
    "max_file_size": (1, 1 << 40),
    "max_concurrent_runs": (1, 1024),
    "ui_port": (1, 65535),
    "session_idle_seconds": (0.0, 86_400.0),
}


def _bounds_text(low: float | None, high: float | None, positive: bool) -> str:
    if positive:
        return f"above {low:g} and at most {high:g}" if high is not None else f"above {low:g}"
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"
def recorded_corpus_paths(home: Path) -> list[Path] | None:
    """The corpus paths that ``coursemate index PATHS`` recorded in ``home``, or None when none were."""
    path = Path(home).expanduser() / CORPUS_RECORD
    if not path.is_file():
        return None
    try:
        paths = json.loads(path.read_text())["paths"]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(f"{path} is damaged; choose the notes again with: coursemate index PATHS") from None
    return [Path(p) for p in paths] or None


def record_corpus_paths(home: Path, paths: list[Path]) -> None:
    """Record ``paths`` (made absolute) as the corpus of ``home``: later commands use them until replaced."""
    atomic_write_json(Path(home) / CORPUS_RECORD, {"paths": [str(Path(p).expanduser().resolve()) for p in paths]})


def is_shipped_corpus(paths: list[Path]) -> bool:
    """Whether ``paths`` are the shipped course notes."""
    return [Path(p).resolve() for p in paths] == [DEFAULT_CORPUS_DIR.resolve()]


def _from_environment() -> dict[str, Any]:
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = os.environ.get(ENV_PREFIX + f.name.upper())
        if raw is None or raw == "":
            continue
        values[f.name] = _parse(f.name, raw, hints[f.name])
    return values


def _parse(name: str, raw: str, hint: Any) -> Any:
    text = str(hint)
    try:
        if hint is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
        if "list" in text:
            return [p for p in raw.split(os.pathsep) if p]
        return raw
    except ValueError:
        raise ConfigError(f"environment variable {ENV_PREFIX}{name.upper()} has an invalid value {raw!r}") from None
