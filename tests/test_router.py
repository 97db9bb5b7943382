"""The offline chat router over the real index (real MiniLM embeddings): intents, arguments, the domain functions
its intents call (real training runs, summaries, spelling, search), actions that wait for a confirmation,
clarifications and errors, typed events, and the served path where the manager agent decides instead."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from smolagents import ChatMessage, MessageRole, Model
from smolagents.models import ChatMessageToolCall, ChatMessageToolCallFunction

from coursemate.agents import CourseAssistant
from coursemate.agents.events import AnswerEvent, StepEvent, TokenEvent, ToolResultEvent
from coursemate.agents.intents import QUESTION, load_intents
from coursemate.eval.routing import COURSE_QUESTIONS, course_question_tool_calls, evaluate_routing, load_requests
from coursemate.tools.training import RunManager

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow
ISSUE_INTENT_ACCURACY, ISSUE_ARGUMENT_MATCH, ISSUE_P50_MS = 0.95, 0.90, 50.0
EXTERNAL_QUESTIONS = REPO_ROOT.parent / "shared" / "benchmarks" / "course-external" / "questions.jsonl"
TEST_P50_BOUND_MS = 150.0  # the issue's 50 ms is measured by `coursemate eval routing`; a loaded CI box gets slack


@pytest.fixture()
def assistant(course_index, tmp_path):
    settings = course_index.settings.replace(llm="extractive", runs_dir=tmp_path / "runs")
    return CourseAssistant(settings, index=course_index)


def documents(index) -> list[tuple[str, str]]:
    return [(d.doc_id, d.title) for d in index.documents.values()]


def events_of(assistant, text: str) -> tuple[list, object]:
    events = list(assistant.stream(text))
    assert isinstance(events[-1], AnswerEvent)
    assert all(isinstance(e, (StepEvent, TokenEvent, ToolResultEvent, AnswerEvent)) for e in events)
    return events, events[-1].answer


def tool_steps(answer) -> list[dict]:
    return [s for s in answer.steps if s["kind"] == "tool_call"]


def extract(intent: str, text: str, docs=()) -> dict:
    return load_intents()[intent].arguments(text, docs)


# ------------------------------------------------------------------------------------------------ the data
def test_the_request_set_is_large_mixed_with_traps_and_apart_from_the_router_examples():
    rows = load_requests("all")
    assert len(rows) >= 120 and {r["split"] for r in rows} == {"dev", "test"}
    assert sum(r["indirect"] for r in rows) / len(rows) >= 0.4
    questions = [r for r in rows if r["intent"] == QUESTION]
    tool_words = ("train", "epoch", "learning rate", "batch", "optimizer", "compare", "cancel", "stop", "spell",
                  "summar", "quiz")
    assert sum(any(w in r["text"].lower() for w in tool_words) for r in questions) >= 30
    assert sum("should i" in r["text"].lower() for r in questions) >= 3  # advice-seeking traps
    actions = [r for r in rows if r["intent"] in ("train", "cancel_run")]
    assert all(isinstance(r["command"], bool) for r in actions)
    assert 0 < sum(r["command"] for r in actions) < len(actions)  # commands, and actions that must wait
    examples = {e.lower() for intent in load_intents().values() for e in intent.examples}
    assert not examples & {r["text"].lower() for r in rows}  # no request is one of the router's own examples


@pytest.mark.parametrize("split", ["dev", "test"])
def test_router_reaches_the_issue_figures(course_index, split):
    summary, rows = evaluate_routing(course_index, split)
    misses = [(r["text"], r["intent"], r["arguments"]) for r in rows
              if not r["arguments_ok"] and r["gold_intent"] != QUESTION]
    assert summary["intent_accuracy"] >= ISSUE_INTENT_ACCURACY, summary
    assert summary["argument_exact_match"] >= ISSUE_ARGUMENT_MATCH, misses
    assert summary["side_effects"] == 0, [r["text"] for r in rows if r["side_effect"]]
    assert summary["course_question_tool_calls"] == 0, summary["confusions"]
    assert summary["routing_p50_ms"] < TEST_P50_BOUND_MS, summary


def test_no_course_question_reaches_a_tool(course_index):
    sets = [COURSE_QUESTIONS] + ([EXTERNAL_QUESTIONS] if EXTERNAL_QUESTIONS.is_file() else [])
    counted = course_question_tool_calls(course_index, sets)
    assert counted["sets"][str(COURSE_QUESTIONS)]["questions"] >= 200
    assert counted["tool_calls"] == 0, counted["routed"]


# ------------------------------------------------------------------------------------------------ arguments
@pytest.mark.parametrize("text, expected", [
    ("can you fit the small cnn on digits, three passes, lr 0.01?",
     {"model": "mnist_cnn", "dataset": "digits", "epochs": 3, "lr": 0.01}),
    ("train resnet18 on cifar10 with adamw, batch size 128, seed 7, with augmentation, no scheduler",
     {"model": "resnet18", "dataset": "cifar10", "optimizer": "adamw", "batch_size": 128, "seed": 7,
      "augment": True, "scheduler": "none"}),
    ("train the mlp for -3 epochs", {"model": "mlp", "epochs": -3}),
    ("train mnist_cnn on imagenet", {"model": "mnist_cnn", "dataset": "imagenet"}),
])
def test_training_arguments_are_parsed_as_written(text, expected):
    assert extract("train", text) == expected


def test_run_references_and_sources(course_index):
    docs = documents(course_index)
    assert extract("compare_runs", "compare my last two runs") == {"last": 2}
    assert extract("compare_runs", "compare 20260101-101010-a1b2c3 and 20260102-111111-d4e5f6") == {
        "run_ids": ["20260101-101010-a1b2c3", "20260102-111111-d4e5f6"]}
    assert extract("run_status", "is it done?") == {"last": 1}
    assert extract("summarize", "summarize the fifth session", docs) == {"session": 5}
    assert extract("summarize", "summarize the lstm one-pager", docs) == {"doc_id": "post-lstm-one-pager"}
    assert extract("summarize", "sum up the notes on weight decay", docs) == {"topic": "weight decay"}
    ambiguous = extract("summarize", "summarize the mobilenet article", docs)
    assert set(ambiguous["doc_candidates"]) == {"blog-mobilenet", "post-what-is-mobilenet"}


# ------------------------------------------------------------------------------------------------ the tools
def test_an_explicit_command_starts_a_real_run_at_once(assistant):
    events, answer = events_of(assistant, "train the mlp on digits for 1 epoch")
    assert answer.mode == "tool" and answer.tool_result.intent == "train" and answer.pending is None
    run_id = answer.tool_result.data["run_id"]
    assert run_id in answer.answer and "Training tab" in answer.answer
    steps = [s["kind"] for s in answer.steps]
    assert steps[:2] == ["route", "arguments"] and "retrieval" not in steps  # no notes search for a tool request
    (call,) = tool_steps(answer)
    assert call["name"] == "start_training_run"
    assert call["arguments"] == {"model": "mlp", "dataset": "digits", "epochs": 1}
    assert any(isinstance(e, ToolResultEvent) and e.result.data["run_id"] == run_id for e in events)
    assert RunManager(assistant.settings).wait(run_id, timeout=240).status == "completed"

    _, status = events_of(assistant, "how is my run doing?")
    assert status.mode == "tool" and f"run {run_id}" in status.answer and "completed" in status.answer
    _, listed = events_of(assistant, "what have I trained so far?")
    assert listed.tool_result.tool == "list_training_runs" and run_id in listed.answer


def test_a_question_proposes_the_run_and_starts_it_only_when_confirmed(assistant):
    _, answer = events_of(assistant, "can you fit the mlp on digits, one pass?")
    assert answer.mode == "confirm" and answer.tool_result is None
    assert answer.answer == "Start a run: mlp on digits, 1 epoch, batch 64?" and answer.pending.label == "Start"
    assert not tool_steps(answer) and RunManager(assistant.settings).list() == []  # nothing started yet
    assert json.loads(answer.to_json())["pending"]["arguments"] == {"model": "mlp", "dataset": "digits", "epochs": 1}
    done = assistant.confirm(answer.pending)
    assert done.mode == "tool" and tool_steps(done)[0]["name"] == "start_training_run"
    (run,) = RunManager(assistant.settings).list()
    assert run.id == done.tool_result.data["run_id"] and run.model == "mlp"

    _, stop = events_of(assistant, "should I stop my run?")  # advice-seeking: the cancel waits too
    assert stop.mode == "confirm" and stop.answer.startswith(f"Cancel run {run.id} (mlp on digits, ")
    assert RunManager(assistant.settings).wait(run.id, timeout=240).status == "completed"


@pytest.mark.parametrize("text", [
    "which optimizer should I use to train a CNN, SGD or Adam?",
    "In the step-by-step mnist models, how was the learning rate scheduled in the final attempt?",
    "Why wouldn't the spell checker flag 'deer' when I meant 'dear'?",
    "when would you cancel training early instead of letting all epochs finish?",
])
def test_questions_with_tool_words_are_answered_from_the_notes_and_start_nothing(assistant, text):
    _, answer = events_of(assistant, text)
    assert answer.steps[0]["name"] == QUESTION and answer.tool_result is None and answer.pending is None
    assert not tool_steps(answer) and RunManager(assistant.settings).list() == []


def test_compare_my_last_two_runs_is_a_table_of_both(assistant):
    _, first = events_of(assistant, "train the mlp on digits for 1 epoch")
    _, second = events_of(assistant, "train mnist_cnn on digits for 1 epoch with batch size 128")
    ids = [first.tool_result.data["run_id"], second.tool_result.data["run_id"]]
    for run_id in ids:
        RunManager(assistant.settings).wait(run_id, timeout=240)
    _, answer = events_of(assistant, "compare my last two runs")
    compared = [row["id"] for row in answer.tool_result.data["rows"]]  # the two newest (same second: any order)
    assert answer.mode == "tool" and sorted(compared) == sorted(ids)
    assert tool_steps(answer)[0]["arguments"] == {"run_ids": " ".join(compared)}
    table = answer.tool_result.markdown.splitlines()[2:]  # the chat's Markdown table, under its heading
    assert table[0].startswith("| id | status") and len(table) == 4 and all(i in answer.answer for i in ids)


def test_invalid_arguments_give_the_cli_error(assistant, tmp_path):
    for text, flags in [("train mnist_cnn for -3 epochs", ["--model", "mnist_cnn", "--epochs=-3"]),
                        ("train mnist_cnn on imagenet for 3 epochs", ["--model", "mnist_cnn", "--dataset", "imagenet"]),
                        ]:
        _, answer = events_of(assistant, text)
        cli = subprocess.run([sys.executable, "-m", "coursemate.cli", "--home", str(tmp_path), "train", *flags],
                             capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
        assert cli.returncode == 2
        assert cli.stderr.startswith("coursemate: error: ") and answer.mode == "error"
        assert answer.answer == "Error: " + cli.stderr.strip().removeprefix("coursemate: error: ")
    assert RunManager(assistant.settings).list() == []  # nothing was started


def test_missing_or_ambiguous_arguments_get_a_clarifying_reply_with_the_defaults(assistant, course_index):
    _, train = events_of(assistant, "train something for me")
    assert train.mode == "clarify" and "mnist_cnn on digits for 5 epochs" in train.answer
    assert RunManager(assistant.settings).list() == []  # nothing was started
    _, compare = events_of(assistant, "compare runs")
    assert compare.mode == "clarify" and "last two runs" in compare.answer
    _, which = events_of(assistant, "summarize the mobilenet article")
    assert which.mode == "clarify" and "blog-mobilenet" in which.answer and "post-what-is-mobilenet" in which.answer


def test_summary_spelling_and_search_come_with_their_results(assistant, course_index):
    for text, session in [("give me the gist of session 3", 3), ("what is session 9 about, in a nutshell?", 9)]:
        _, summary = events_of(assistant, text)
        assert summary.mode == "tool" and summary.citations
        assert {c.doc_id for c in summary.citations} == {d.doc_id for d in course_index.documents.values()
                                                         if d.metadata.get("session") == session}
        (call,) = tool_steps(summary)
        assert call["name"] == "summarize_notes" and call["arguments"] == {"session": session}
    _, topic = events_of(assistant, "what do the notes say about dropout?")
    assert tool_steps(topic)[0]["arguments"] == {"topic": "dropout"} and topic.citations

    _, spelled = events_of(assistant, 'fix the spelling: "the gradeint vanishs"')
    assert spelled.tool_result.tool == "correct_spelling" and "the gradient" in spelled.tool_result.data["corrected"]
    assert ["gradeint", "gradient"] in spelled.tool_result.data["changes"] and "gradeint -> gradient" in spelled.answer

    _, found = events_of(assistant, "search the notes for dropout")
    assert found.tool_result.tool == "search_notes" and found.citations
    assert all("dropout" in c.text.lower() or "dropout" in c.section.lower() for c in found.citations[:2])


def test_a_course_question_with_training_words_is_answered_from_the_notes(assistant):
    _, answer = events_of(assistant, "why does training with a high learning rate diverge?")
    assert answer.mode == "extractive" and answer.tool_result is None and answer.citations
    route = answer.steps[0]
    assert route["kind"] == "route" and route["name"] == QUESTION


def test_answer_json_carries_the_tool_result(assistant):
    _, answer = events_of(assistant, "list my runs")
    data = json.loads(answer.to_json())
    assert data["tool_result"]["tool"] == "list_training_runs" and data["mode"] == "tool"


# ------------------------------------------------------------------------------------------------ served path
def _call(name: str, arguments: dict, n: int) -> ChatMessage:
    call = ChatMessageToolCall(ChatMessageToolCallFunction(arguments=arguments, name=name), id=f"call_{n}",
                               type="function")
    return ChatMessage(role=MessageRole.ASSISTANT, content="", tool_calls=[call])


class ScriptedModel(Model):
    def __init__(self, *script: ChatMessage) -> None:
        super().__init__(model_id="scripted-model")
        self.script = list(script)

    def generate(self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kwargs):
        return self.script.pop(0)


def test_with_a_served_model_the_manager_delegates_training_to_the_training_agent(course_index, tmp_path):
    """The agent path: no router; the manager hands the request to training_agent, which starts the run with the
    same start_training_run tool the router calls."""
    settings = course_index.settings.replace(runs_dir=tmp_path / "runs", agent_mode="agent", agent_max_steps=4)
    request = "train mnist_cnn on digits for 1 epoch"
    model = ScriptedModel(
        _call("training_agent", {"task": request}, 1),
        _call("start_training_run", {"model": "mnist_cnn", "dataset": "digits", "epochs": 1}, 2),
        _call("final_answer", {"answer": "Started the run."}, 3),
        _call("final_answer", {"answer": "Started the run."}, 4),
    )
    answer = CourseAssistant(settings, index=course_index, llm=model).ask(request)
    kinds = [s["kind"] for s in answer.steps]
    assert "route" not in kinds and answer.mode == "agent"
    started = next(s for s in tool_steps(answer) if s["name"] == "start_training_run")
    assert started["agent"] == "training_agent" and "Started training run " in started["output"]
    assert not model.script
    (run,) = RunManager(settings).list()
    assert RunManager(settings).wait(run.id, timeout=240).status == "completed"
