"""The served path on the real wire: a training request goes from the manager agent to the training agent and
its start_training_run tool through OpenAI tool calls answered by a real llama.cpp server on loopback.

SmolLM2-135M cannot be trusted to pick a tool by itself, so each request names the tool it must call
(``tool_choice`` with a function name, which llama.cpp enforces with a grammar built from the tool's JSON
schema): the delegation or the tool first, then ``final_answer``. The model still writes every argument; the
test checks the protocol and the round trip (the call parsed, the tool run, its result fed back), not the
model's judgment.
"""

from __future__ import annotations

import pytest
from smolagents import MessageRole

from coursemate.agents import CourseAssistant
from coursemate.agents.llm import OpenAIServerModelWithToolChoice, probe_server
from coursemate.tools.training import RunManager

pytestmark = [pytest.mark.slow, pytest.mark.llm_server]
FIRST_TOOLS = ("training_agent", "start_training_run")  # what the manager, then the training agent, must call


class NamedToolChoice(OpenAIServerModelWithToolChoice):
    """Sends ``tool_choice={"type": "function", "function": {"name": ...}}``: the first of ``FIRST_TOOLS``
    offered while no tool has answered yet in this agent's memory, else ``final_answer``."""

    def generate(self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kwargs):
        offered = [tool.name for tool in tools_to_call_from or []]
        answered = any(getattr(m, "role", None) == MessageRole.TOOL_RESPONSE for m in messages)
        name = next((t for t in FIRST_TOOLS if t in offered and not answered), "final_answer")
        kwargs["tool_choice"] = {"type": "function", "function": {"name": name}}
        return super().generate(messages, stop_sequences, response_format, tools_to_call_from, **kwargs)


def test_a_training_request_reaches_the_training_agent_through_real_tool_calls(llama_server, small_notes_index,
                                                                                tmp_path):
    settings = small_notes_index.settings.replace(runs_dir=tmp_path / "runs", agent_mode="agent", agent_max_steps=3,
                                             llm_max_tokens=160, llm_timeout=300.0)
    probe = probe_server(llama_server, None, 10.0)
    model = NamedToolChoice(model_id=probe.model_ids[0], api_base=llama_server, api_key="EMPTY",
                            flatten_messages_as_text=True, max_tokens=160, temperature=0.0)
    answer = CourseAssistant(settings, index=small_notes_index, llm=model).ask("train mnist_cnn on digits for 1 epoch")

    calls = [s for s in answer.steps if s["kind"] == "tool_call"]
    delegated = next(s for s in calls if s["name"] == "training_agent")
    assert delegated["agent"] == "manager" and isinstance(delegated["arguments"].get("task"), str)
    started = next(s for s in calls if s["name"] == "start_training_run")
    assert started["agent"] == "training_agent" and isinstance(started["arguments"], dict)
    assert "route" not in [s["kind"] for s in answer.steps]  # a served model decides; the router stays out
    # the tool ran on the server's arguments and its result went back: a started run, or the tool's own error
    runs = RunManager(settings).list()
    if started["output"].startswith("Started training run"):
        assert [r.id for r in runs] == [started["output"].split()[3].rstrip(":")]
        RunManager(settings).wait(runs[0].id, timeout=240)
    else:  # the tool's validation error, or the arguments' type error, shown to the model on its next step
        errors = [s["error"] for s in answer.steps if s["kind"] == "agent_step" and s["agent"] == "training_agent"]
        assert not runs and (started["output"].startswith("Error: ") or any(errors))
    assert answer.model.startswith(probe.model_ids[0])  # (the final wording is the small model's whim: not checked)
