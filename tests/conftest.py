"""Shared fixtures: one real index of the shipped notes per test session (real model, FAISS, BM25)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One OpenBLAS thread (read when numpy loads, below; subprocesses inherit it): the small products of the extractive
# answers and quizzes run tens of times slower with two threads on a busy CPU, and give the same numbers.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# A developer's own Ollama must not answer the tests' "auto" (tests that want one fake it on loopback).
os.environ.setdefault("COURSEMATE_OLLAMA_URL", "http://127.0.0.1:9")
# One ONNX export of the embedding model for the whole run, whatever home each test uses.
os.environ.setdefault("COURSEMATE_MODELS_DIR", str(Path.home() / ".cache" / "coursemate-test-models"))

from coursemate.config import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent

# The index of the shipped notes is kept between runs, in a folder named after the code that builds it: a change to
# retrieval/ or coursemate/ builds it afresh; unchanged code loads it (its manifest still checks notes, parameters
# and every file's checksum). COURSEMATE_TEST_INDEX_CACHE="" builds it in the session's temporary home instead.
# The small indexes of the agents' notes and of the bad-input table, and the quiz's course vocabulary, are kept there
# the same way.
INDEX_CACHE = os.environ.get("COURSEMATE_TEST_INDEX_CACHE", str(Path.home() / ".cache" / "coursemate-test-index"))
INDEX_CACHE_DAYS = 7  # cached indexes of other code versions unused this long are removed


def _index_code_digest(*extra: str) -> str:
    digest = hashlib.sha256()
    for path in sorted([*(REPO_ROOT / "retrieval").rglob("*.py"), *(REPO_ROOT / "coursemate").glob("*.py"),
                        *(REPO_ROOT / e for e in extra)]):
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _cached_index_dir(name: str, *extra: str) -> Path | None:
    """The cache folder ``name`` for the present code (retrieval/, coursemate/ and the ``extra`` files)."""
    if not INDEX_CACHE:
        return None
    root = Path(INDEX_CACHE).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        if old.is_dir() and time.time() - old.stat().st_mtime > INDEX_CACHE_DAYS * 86400:
            shutil.rmtree(old, ignore_errors=True)
    return root / f"{_index_code_digest(*extra)}-{name}"


def _load_cached_copy(settings: Settings, name: str, **kwargs):
    from coursemate.retrieval import NotesIndex

    cached = _cached_index_dir(name)
    if cached is not None and (cached / "manifest.json").is_file() and not settings.index_dir.exists():
        shutil.copytree(cached, settings.index_dir)
    index = NotesIndex.load_or_build(settings, progress=False, **kwargs)
    if cached is not None:
        if (cached / "manifest.json").is_file() and json.loads((cached / "manifest.json").read_text()).get(
                "built_at") == index.manifest["built_at"]:
            os.utime(cached)  # in use: not removed as stale
        else:  # built afresh: replace the cached copy (atomically, other sessions may read it)
            staging = cached.with_name(f"{cached.name}.tmp-{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(settings.index_dir, staging)
            shutil.rmtree(cached, ignore_errors=True)
            try:
                staging.rename(cached)
            except OSError:  # another session stored its build first
                shutil.rmtree(staging, ignore_errors=True)
    return index


@pytest.fixture(scope="session")
def course_settings(tmp_path_factory) -> Settings:
    """Settings whose home (runs, reports) is a fresh temporary folder; ``home/index`` is the session's index."""
    home = tmp_path_factory.mktemp("coursemate-home")
    cached = _cached_index_dir("course")
    if cached is None:
        return Settings.load(home=home)
    (home / "index").symlink_to(cached, target_is_directory=True)  # commands given --home HOME find it too
    # The quiz's course vocabulary (tens of seconds to build) is kept beside the cached index too: its file names
    # carry the index fingerprint, and the folder the code of tools/quiz.py.
    quiz = _cached_index_dir("course-quiz", "tools/quiz.py")
    quiz.mkdir(exist_ok=True)
    os.utime(quiz)  # in use: not removed as stale
    (home / "quiz").symlink_to(quiz, target_is_directory=True)
    return Settings.load(home=home, index_dir=cached)


@pytest.fixture(scope="session")
def course_index(course_settings):
    """The real hybrid index of the shipped course notes, built (or loaded from the cache) once per session."""
    from coursemate.retrieval import NotesIndex

    index = NotesIndex.load_or_build(course_settings, progress=False)
    os.utime(course_settings.index_dir)  # in use: not removed as stale
    return index


@pytest.fixture(scope="session")
def load_cached_copy():
    """``load(settings, name, **kwargs)``: ``NotesIndex.load_or_build(settings, **kwargs)`` into
    ``settings.index_dir`` (which stays the test's own folder), starting from a copy of the index cached as
    ``name``; a build (the cached copy missing or stale) is copied back for the next run."""
    return _load_cached_copy


@pytest.fixture(scope="session")
def llama_server():
    """Base URL (``http://127.0.0.1:PORT/v1``) of a real llama.cpp server on loopback, for the session."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install -e .[dev]); the real-server tests need it")
    from llm_server import LlamaServer

    with LlamaServer() as url:
        yield url


# ------------------------------------------------------------------ agents
AGENT_TEST_NOTES = ("post-lstm-one-pager", "session-05-batch-normalization-regularization", "blog-googlenet",
                    "blog-mobilenet", "post-what-is-relu")


@pytest.fixture(scope="session")
def small_notes_index(tmp_path_factory):
    """A real hybrid index (real embeddings, FAISS, BM25) over five of the shipped notes: fast to build (and cached
    between runs like the course index)."""
    from coursemate.retrieval import NotesIndex
    from coursemate.retrieval.ingest import load_corpus

    notes = REPO_ROOT / "data" / "notes"
    documents, _ = load_corpus([notes / f"{name}.md" for name in AGENT_TEST_NOTES])
    settings = Settings.load(home=tmp_path_factory.mktemp("agents-home"), index_dir=_cached_index_dir("agents"))
    index = NotesIndex.load_or_build(settings, documents=documents, progress=False)
    os.utime(settings.index_dir)  # in use: not removed as stale
    return index


# ------------------------------------------------------------------ browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright, shared by every browser test of the session."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
