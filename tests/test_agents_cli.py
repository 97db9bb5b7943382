"""``coursemate ask`` end to end, in a subprocess, over the real index of the shipped notes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

QUESTION = "Why does the course use global average pooling?"


@pytest.fixture(scope="module")
def cli_env(course_settings, course_index) -> dict[str, str]:
    """Environment for a subprocess that reuses the session's index (no rebuild)."""
    return {**os.environ, "COURSEMATE_HOME": str(course_settings.home), "TOKENIZERS_PARALLELISM": "false"}


def ask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coursemate.cli", "ask", *args], env=env, capture_output=True,
                          text=True, timeout=900)


@pytest.mark.slow  # a fresh process loads the embedding model and the index
def test_unreachable_server_still_returns_a_cited_extractive_answer_and_a_notice(cli_env, course_index):
    done = ask(cli_env, QUESTION, "--json", "--llm", "http://127.0.0.1:9/v1")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["mode"] == "extractive"
    assert "http://127.0.0.1:9/v1" in answer["notice"] and "sentences from the notes" in answer["notice"]
    assert answer["citations"], answer
    chunks = {c.chunk_id: c for c in course_index.chunks}
    for citation in answer["citations"]:
        assert chunks[citation["chunk_id"]].text == citation["text"]
        assert f"[{citation['n']}]" in answer["answer"]
    assert "Traceback" not in done.stderr


@pytest.mark.slow  # a fresh process loads the embedding model and the index
def test_unreachable_server_text_output(cli_env):
    done = ask(cli_env, QUESTION, "--llm", "http://127.0.0.1:9/v1")
    assert done.returncode == 0, done.stderr
    assert "sources:\n  [1] " in done.stdout and "notice: " in done.stdout and "model: none" in done.stdout


def test_empty_question_is_a_one_line_error(cli_env):
    done = ask(cli_env, "   ")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("coursemate: error: the query is empty") and "Traceback" not in done.stderr


@pytest.mark.slow  # loads SmolLM2 in a fresh process
def test_embedded_model_cites_the_notes_and_names_the_model(cli_env, course_index):
    done = ask(cli_env, QUESTION, "--json", "--llm", "embedded", "--max-tokens", "60")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert "SmolLM2-135M-Instruct" in answer["model"], answer["model"]
    assert answer["mode"] in ("grounded", "not_in_notes") and answer["notice"] is None
    assert all(c["chunk_id"] in {x.chunk_id for x in course_index.chunks} for c in answer["citations"])
    assert "Written from the passages" not in answer["answer"]
    cited = {n for s in answer["sentences"] for n in s["citations"]}
    assert cited == {c["n"] for c in answer["citations"]}  # a citation only where it supports a sentence
    generation = [s for s in answer["steps"] if s["kind"] == "generation"]
    assert len(generation) == 1 and generation[0]["output"] and generation[0]["error"] is None
