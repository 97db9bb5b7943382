"""The real wire path: the agents drive a llama.cpp server on loopback through OpenAI tool calls."""

from __future__ import annotations

import pytest

from coursemate.agents import CourseAssistant


@pytest.mark.slow  # smolagents' prompts for the manager and the notes agent: minutes of llama.cpp reading on a CPU
@pytest.mark.llm_server
def test_agents_make_a_real_tool_call_and_answer(llama_server, small_notes_index, tmp_path):
    settings = small_notes_index.settings.replace(
        llm=llama_server, agent_mode="agent", llm_tool_choice="auto", agent_max_steps=3, llm_max_tokens=160,
        llm_timeout=300.0, runs_dir=tmp_path / "runs",
    )
    answer = CourseAssistant(settings, index=small_notes_index).ask("What do the gates of an LSTM do?")
    assert answer.mode in ("agent", "not_in_notes"), answer.to_json()
    assert answer.notice is None or "stopped after" in answer.notice, answer.notice
    assert llama_server in answer.model
    steps = [s for s in answer.steps if s["kind"] == "agent_step"]
    calls = [s for s in answer.steps if s["kind"] == "tool_call"]
    assert steps and calls, answer.to_json()  # the server answered with at least one parsed OpenAI tool call
    assert answer.answer.strip()
