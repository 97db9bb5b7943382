"""Shared fixtures: one real index of the shipped notes per test session (real model, FAISS, BM25)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One ONNX export of the embedding model for the whole run, whatever home each test uses.
os.environ.setdefault("COURSEMATE_MODELS_DIR", str(Path.home() / ".cache" / "coursemate-test-models"))

from coursemate.config import Settings  # noqa: E402


@pytest.fixture(scope="session")
def course_settings(tmp_path_factory) -> Settings:
    """Settings whose home (index, runs, reports) is a fresh temporary folder."""
    return Settings.load(home=tmp_path_factory.mktemp("coursemate-home"))


@pytest.fixture(scope="session")
def course_index(course_settings):
    """The real hybrid index of the shipped course notes, built once per session."""
    from retrieval import NotesIndex

    return NotesIndex.load_or_build(course_settings, progress=False)


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
    """A real hybrid index (real embeddings, FAISS, BM25) over five of the shipped notes: fast to build."""
    from pathlib import Path

    from retrieval import NotesIndex
    from retrieval.ingest import load_corpus

    notes = Path(__file__).resolve().parent.parent / "data" / "notes"
    documents, _ = load_corpus([notes / f"{name}.md" for name in AGENT_TEST_NOTES])
    settings = Settings.load(home=tmp_path_factory.mktemp("agents-home"))
    return NotesIndex.load_or_build(settings, documents=documents, progress=False)


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
