"""The agent team: a manager ToolCallingAgent that delegates to a notes agent and a training agent.

Only tool-calling agents: no model-written code ever runs on the machine that serves students.
Every agent step (model output, tool calls with their arguments, errors, passages shown) is recorded in
the answer's :class:`~agents.trace.Trace`, and each step checks the answer's time budget.
"""

from __future__ import annotations

import time
from typing import Any

from smolagents import ToolCallingAgent
from smolagents.memory import ActionStep
from smolagents.monitoring import LogLevel
from smolagents.utils import AgentMaxStepsError

from coursemate.agents.trace import Trace
from coursemate.config import Settings
from coursemate.prompts import load_prompts
from coursemate.tools.grounding.citations import NOT_IN_NOTES, Passage, PassageLog
from coursemate.tools.grounding.render import format_passages
from coursemate.tools.notes import ReadDocumentTool, SearchNotesTool, SummarizeNotesTool

NOTES_TOOLS = ("search_notes", "read_document", "summarize_notes")


class StepRecorder:
    """A smolagents step callback: records each agent step in the trace and enforces the deadline."""

    def __init__(self, trace: Trace, log: PassageLog, deadline: float) -> None:
        self.trace = trace
        self.log = log
        self._seen = len(log.shown())  # showings already recorded (the passages retrieved before the agents ran)
        self.deadline = deadline
        self.max_steps_reached: list[str] = []
        self.agents: list[ToolCallingAgent] = []

    def __call__(self, step: ActionStep, agent: ToolCallingAgent) -> None:
        calls = (step.model_output_message.tool_calls or []) if step.model_output_message else []
        error = f"{type(step.error).__name__}: {step.error}" if step.error else None
        if isinstance(step.error, AgentMaxStepsError):
            self.max_steps_reached.append(agent.name or "manager")
        seconds = round((step.timing.end_time or time.time()) - step.timing.start_time, 4)
        self.trace.add(
            "agent_step", f"step {step.step_number}", agent=agent.name or "manager", seconds=seconds,
            output=str(step.model_output or step.action_output or ""), error=error,
            arguments={"tool_calls": [c.function.name for c in calls]},
        )
        shown = self.log.shown(self._seen)  # what this step's notes tools showed
        self._seen += len(shown)
        for call in calls:
            name = call.function.name
            chunk_ids = list(dict.fromkeys(p.chunk.chunk_id for p in shown)) if name in NOTES_TOOLS else []
            self.trace.add("tool_call", name, agent=agent.name or "manager",
                           arguments=_arguments(call.function.arguments),
                           output=step.observations or "", chunk_ids=chunk_ids)
        if time.time() > self.deadline:
            for each in self.agents:
                each.interrupt()


def build_team(model, index, log: PassageLog, settings: Settings, recorder: StepRecorder, corrector=None,
               run_manager=None) -> ToolCallingAgent:
    """The manager agent with its two managed agents, all driven by ``model``."""
    from coursemate.tools.text_agent_tools import SpellTool
    from coursemate.tools.training import RunManager
    from coursemate.tools.training.agent_tools import training_tools

    prompts = load_prompts(settings.prompts_path)
    common: dict[str, Any] = dict(model=model, max_steps=settings.agent_max_steps, verbosity_level=LogLevel.OFF,
                                  step_callbacks={ActionStep: recorder})
    notes_agent = ToolCallingAgent(
        tools=[SearchNotesTool(index, log), ReadDocumentTool(index, log), SpellTool(corrector),
               SummarizeNotesTool(index, log, model, settings.prompts_path)],
        name="notes_agent", description=prompts.format("notes_agent_description"),
        instructions=prompts.format("notes_instructions", not_in_notes=NOT_IN_NOTES), **common,
    )
    training_agent = ToolCallingAgent(
        tools=training_tools(run_manager or RunManager(settings, confined=True)),
        name="training_agent", description=prompts.format("training_agent_description"),
        instructions=prompts.format("training_instructions"), **common,
    )
    manager = ToolCallingAgent(tools=[], managed_agents=[notes_agent, training_agent],
                               instructions=prompts.format("manager_instructions", not_in_notes=NOT_IN_NOTES), **common)
    recorder.agents = [manager, notes_agent, training_agent]
    return manager


def manager_task(question: str, history: str, settings: Settings, passages: list[Passage] = (), index=None) -> str:
    """The manager's task: the conversation so far (if any), the passages already retrieved, then the question."""
    prompts = load_prompts(settings.prompts_path)
    parts = [prompts.format("manager_task_history", history=history)] if history else []
    if passages:
        parts.append(prompts.format("manager_task_passages", passages=format_passages(passages, index)))
    if not parts:
        return question
    return "\n\n".join(parts + [prompts.format("manager_task_question", question=question)])


def _arguments(arguments: Any) -> dict[str, Any]:
    return arguments if isinstance(arguments, dict) else {"raw": str(arguments)}
