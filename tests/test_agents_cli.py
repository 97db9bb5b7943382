"""``coursemate ask`` end to end, in a subprocess, over the real index of the shipped notes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from coursemate.config import Settings

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


@pytest.mark.slow  # a fresh process loads the embedding model and the index; trains one epoch on digits
def test_chat_asks_yes_or_no_before_it_starts_a_run(cli_env, tmp_path):
    from coursemate.tools.training import RunManager

    env = {**cli_env, "COURSEMATE_RUNS_DIR": str(tmp_path / "runs"), "COURSEMATE_LLM": "extractive"}
    said = ("could you fit the mlp on digits, one pass?\nn\n"  # a question: proposed, then declined
            "maybe train the mlp on digits for 1 epoch?\nmaybe\ny\n/quit\n")  # proposed, a bad reply, then confirmed
    done = subprocess.run([sys.executable, "-m", "coursemate.cli", "chat"], input=said, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.count("Start a run: mlp on digits, 1 epoch, batch 64?") == 2
    assert done.stdout.count("Start? [y/n]") == 3 and "please answer y (yes) or n (no)" in done.stdout
    assert "nothing was started or stopped" in done.stdout
    (run,) = RunManager(Settings.load(runs_dir=tmp_path / "runs")).list()  # one run: the confirmed one
    assert f"Started training run {run.id}" in done.stdout and run.model == "mlp"
    RunManager(Settings.load(runs_dir=tmp_path / "runs")).wait(run.id, timeout=240)
