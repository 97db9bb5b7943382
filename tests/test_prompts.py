"""Prompts as data: the shipped YAML, a user's copy through the prompts_path setting, and its checks."""

from __future__ import annotations

import pytest

from coursemate.agents.manager import manager_task
from coursemate.config import Settings
from coursemate.errors import CoursemateError
from coursemate.prompts import load_prompts
from coursemate.retrieval.types import Chunk
from coursemate.tools.grounding.citations import NOT_IN_NOTES, Passage
from coursemate.tools.grounding.prompts import grounded_prompt, system_prompt

CHUNK = Chunk(chunk_id="d#0", doc_id="d", title="LSTM", section="Gates", source="d.md",
              text="The forget gate decides what the cell state keeps.", start=0, end=50)


def test_shipped_prompts_fill_in_the_refusal_passages_and_question(tmp_path):
    settings = Settings(home=tmp_path)
    assert NOT_IN_NOTES in system_prompt(settings)
    user = grounded_prompt("What does the forget gate do?", [Passage(1, CHUNK)], settings)
    assert "[1] LSTM > Gates" in user and user.rstrip().endswith("Answer (cite passages like [1]):")
    assert "What does the forget gate do?" in user
    task = manager_task("and why?", "student: What is an LSTM?", settings, [Passage(1, CHUNK)])
    assert task.index("What is an LSTM?") < task.index("forget gate decides") < task.index("and why?")
    assert manager_task("a question", "", settings) == "a question"


def test_a_users_copy_overrides_some_prompts_and_keeps_the_rest(tmp_path, monkeypatch):
    own = tmp_path / "my-prompts.yaml"
    own.write_text("grounded_system: 'Réponds en français. Sinon dis : {not_in_notes}'\n", encoding="utf-8")
    monkeypatch.setenv("COURSEMATE_PROMPTS_PATH", str(own))
    settings = Settings.load(home=tmp_path)
    assert settings.prompts_path == own
    assert system_prompt(settings) == f"Réponds en français. Sinon dis : {NOT_IN_NOTES}"
    shipped = Settings(home=tmp_path)  # no environment: the shipped prompts
    assert system_prompt(shipped) != system_prompt(settings)
    assert grounded_prompt("Q", [Passage(1, CHUNK)], settings) == grounded_prompt("Q", [Passage(1, CHUNK)], shipped)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("grounded_sytem: hello\n", "unknown prompt 'grounded_sytem'"),
        ("grounded_user: 'no placeholders'\n", "must use exactly these placeholders: {passages}, {question}"),
        ("summary_reduce: 'a {summaries} and {words} and {extra}'\n", "must use exactly these placeholders"),
        ("summary_reduce: 'a lone { brace'\n", "write {{ and }} for a brace"),
        ("summary_reduce: [1, 2]\n", "must map prompt names to texts"),
        ("summary_reduce: 'unclosed\n", "is not valid YAML"),
    ],
)
def test_a_bad_prompts_file_is_one_clear_error(tmp_path, text, message):
    own = tmp_path / "bad.yaml"
    own.write_text(text, encoding="utf-8")
    with pytest.raises(CoursemateError) as caught:
        load_prompts(own)
    assert message in str(caught.value) and str(own) in str(caught.value)


def test_a_missing_prompts_file_is_one_clear_error(tmp_path):
    with pytest.raises(CoursemateError, match="prompts file .* does not exist"):
        load_prompts(tmp_path / "nowhere.yaml")
