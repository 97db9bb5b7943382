"""Deterministic orchestration tests: a scripted smolagents Model drives the real agents, tools and index."""

from __future__ import annotations

import itertools
import json

import pytest
from smolagents import ChatMessage, MessageRole, Model
from smolagents.models import ChatMessageToolCall, ChatMessageToolCallFunction

from coursemate.agents import CourseAssistant
from coursemate.agents.events import AnswerEvent, StepEvent, TokenEvent
from coursemate.config import Settings

LSTM_QUESTION = "What do the gates of an LSTM do?"
_ids = itertools.count(1)


def call(name: str, arguments) -> ChatMessage:
    """An assistant message calling one tool."""
    tool_call = ChatMessageToolCall(ChatMessageToolCallFunction(arguments=arguments, name=name),
                                    id=f"call_{next(_ids)}", type="function")
    return ChatMessage(role=MessageRole.ASSISTANT, content="", tool_calls=[tool_call])


def final(text: str) -> ChatMessage:
    return call("final_answer", {"answer": text})


class ScriptedModel(Model):
    """Returns pre-written messages in order and records what it was shown."""

    def __init__(self, *script: ChatMessage) -> None:
        super().__init__(model_id="scripted-model")
        self.script = list(script)
        self.seen: list[str] = []

    def generate(self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kwargs):
        self.seen.append(json.dumps([m.dict() if hasattr(m, "dict") else m for m in messages], default=str))
        if not self.script:
            raise AssertionError("the agents called the model more often than scripted")
        return self.script.pop(0)


class DownModel(Model):
    """A model whose server went away."""

    def generate(self, *args, **kwargs):
        raise ConnectionError("Connection refused by 127.0.0.1:9")


@pytest.fixture()
def settings(tmp_path, small_notes_index) -> Settings:
    return small_notes_index.settings.replace(runs_dir=tmp_path / "runs", agent_mode="agent", agent_max_steps=4)


def assistant(settings, index, *script) -> tuple[CourseAssistant, ScriptedModel]:
    model = ScriptedModel(*script)
    return CourseAssistant(settings, index=index, llm=model), model


def tool_calls(answer, agent: str | None = None) -> list[str]:
    return [s["name"] for s in answer.steps if s["kind"] == "tool_call" and (agent is None or s["agent"] == agent)]


def test_manager_delegates_notes_questions_to_the_notes_agent(settings, small_notes_index):
    a, model = assistant(
        settings, small_notes_index,
        call("notes_agent", {"task": LSTM_QUESTION}),
        call("search_notes", {"query": "LSTM gates"}),
        final("LSTM has three gates: input, output and forget gate [1]."),
        final("LSTM has three gates: input, output and forget gate [1]."),
    )
    answer = a.ask(LSTM_QUESTION)
    assert tool_calls(answer, "manager") == ["notes_agent", "final_answer"]
    assert tool_calls(answer, "notes_agent") == ["search_notes", "final_answer"]
    assert answer.mode == "agent" and answer.notice is None
    search = next(s for s in answer.steps if s["name"] == "search_notes" and s["kind"] == "tool_call")
    expected = small_notes_index.search("LSTM gates", k=4)[0].chunk
    assert search["arguments"] == {"query": "LSTM gates"}
    assert search["chunk_ids"][0] == expected.chunk_id
    assert [(c.n, c.chunk_id, c.doc_id) for c in answer.citations] == [(1, expected.chunk_id, expected.doc_id)]
    assert answer.citations[0].text == expected.text
    assert not model.script


def test_manager_delegates_training_requests_to_the_training_agent(settings, small_notes_index):
    a, _ = assistant(
        settings, small_notes_index,
        call("training_agent", {"task": "List my training runs."}),
        call("list_training_runs", {}),
        final("You have no training runs yet."),
        final("You have no training runs yet."),
    )
    answer = a.ask("List my training runs")
    assert tool_calls(answer, "manager")[0] == "training_agent"
    assert tool_calls(answer, "training_agent") == ["list_training_runs", "final_answer"]
    assert "notes_agent" not in tool_calls(answer)
    assert answer.answer == "You have no training runs yet." and answer.citations == []


def test_a_tool_error_is_reported_back_and_recovered_from(settings, small_notes_index):
    a, model = assistant(
        settings, small_notes_index,
        call("notes_agent", {"task": LSTM_QUESTION}),
        call("read_document", {"doc_id": "no-such-document"}),
        call("search_notes", {"query": "LSTM gates"}),
        final("Gates decide what to forget and what to store [1]."),
        final("Gates decide what to forget and what to store [1]."),
    )
    answer = a.ask(LSTM_QUESTION)
    failed = next(s for s in answer.steps if s["kind"] == "agent_step" and s["error"])
    assert "unknown document 'no-such-document'" in failed["error"] and "post-lstm-one-pager" in failed["error"]
    assert "unknown document" in model.seen[2]  # the error was shown to the model on its next step
    assert answer.answer.startswith("Gates decide") and answer.citations[0].n == 1


def test_a_malformed_tool_call_is_retried_with_the_parse_error_fed_back(settings, small_notes_index):
    malformed = ChatMessage(role=MessageRole.ASSISTANT, content='I will call search_notes with {"query": "LSTM')
    a, model = assistant(
        settings, small_notes_index,
        call("notes_agent", {"task": LSTM_QUESTION}),
        malformed,
        call("search_notes", {"query": "LSTM gates"}),
        final("LSTM has three gates: input, output and forget gate [1]."),
        final("LSTM has three gates: input, output and forget gate [1]."),
    )
    answer = a.ask(LSTM_QUESTION)
    errors = [s["error"] for s in answer.steps if s["kind"] == "agent_step" and s["error"]]
    assert len(errors) == 1 and "AgentParsingError" in errors[0]
    assert "Error while parsing tool call" in model.seen[2]
    assert answer.citations and answer.answer == "LSTM has three gates: input, output and forget gate [1]."


def test_max_steps_ends_cleanly_with_a_notice(settings, small_notes_index):
    settings = settings.replace(agent_max_steps=2)
    a, model = assistant(
        settings, small_notes_index,
        call("no_such_tool", {"x": 1}),
        call("no_such_tool", {"x": 2}),
        ChatMessage(role=MessageRole.ASSISTANT, content="I could not finish."),  # smolagents' final summary call
    )
    answer = a.ask(LSTM_QUESTION)
    assert answer.answer == "I could not finish."
    assert "stopped after 2 steps" in answer.notice
    assert not model.script


def test_invalid_citation_markers_are_dropped(settings, small_notes_index):
    a, _ = assistant(
        settings, small_notes_index,
        call("notes_agent", {"task": LSTM_QUESTION}),
        call("search_notes", {"query": "LSTM gates", "k": 2}),
        final("LSTM has three gates: input, output and forget gate [9]."),
        final("LSTM has three gates: input, output and forget gate [9][0]."),
    )
    answer = a.ask(LSTM_QUESTION)
    assert "[9]" not in answer.answer and "[0]" not in answer.answer
    assert answer.sentences[0].supported and answer.sentences[0].citations
    assert [c.n for c in answer.citations] == list(answer.sentences[0].citations)
    assert all("three gates" in c.text for c in answer.citations)  # corrected to the passage that says it


def test_two_conversations_stay_isolated(settings, small_notes_index):
    a, model = assistant(
        settings, small_notes_index,
        final("LSTM gates control the cell state."),
        final("Batch normalization normalizes activations."),
        final("They are needed to keep long-term memory."),
    )
    a.ask(LSTM_QUESTION, conversation_id="alice")
    a.ask("How does batch normalization work?", conversation_id="bob")
    follow_up = a.ask("why are they needed?", conversation_id="alice")
    assert follow_up.trace.resolved_question == "why are the gates of an LSTM needed?"
    assert "LSTM gates control the cell state" in model.seen[2] and "Batch normalization" not in model.seen[2]
    assert "LSTM" not in model.seen[1]  # bob's first question saw nothing of alice's conversation
    assert [t.question for t in a.conversations.get("bob").turns] == ["How does batch normalization work?"]


def test_a_server_that_goes_down_gives_an_extractive_answer_and_a_notice(settings, small_notes_index):
    answer = CourseAssistant(settings, index=small_notes_index, llm=DownModel()).ask(LSTM_QUESTION)
    assert answer.mode == "extractive"
    assert "failed" in answer.notice and "Connection refused" in answer.notice
    assert answer.citations and answer.citations[0].doc_id == "post-lstm-one-pager"
    assert "[1]" in answer.answer
    refused = CourseAssistant(settings, index=small_notes_index, llm=DownModel()).ask(
        "What is DDIM sampling in diffusion models?")
    assert refused.mode == "not_in_notes" and "failed" in refused.notice
    assert "from the notes" not in refused.notice  # a refusal quotes nothing: the notice does not say it does


def test_grounded_answer_keeps_only_valid_citations_and_streams_tokens(settings, small_notes_index):
    settings = settings.replace(agent_mode="grounded", answer_passages=3)
    a, model = assistant(settings, small_notes_index,
                         ChatMessage(role=MessageRole.ASSISTANT,
                                     content="LSTM has three gates: input, output and forget gate [1] [7]."))
    events = list(a.stream("What do the gaets of an LSTM do?"))
    answer = events[-1].answer
    assert isinstance(events[-1], AnswerEvent) and isinstance(events[0], StepEvent)
    assert sum(isinstance(e, TokenEvent) for e in events) == 1
    assert answer.did_you_mean == "What do the gates of an LSTM do?"
    assert answer.answer == "LSTM has three gates: input, output and forget gate [1]."
    hits = small_notes_index.search("What do the gaets of an LSTM do?", k=5)
    assert [c.chunk_id for c in answer.citations] == [hits[0].chunk.chunk_id]
    assert "Passages from the course notes" in model.seen[0] and hits[2].chunk.chunk_id.split("#")[0] in model.seen[0]


def test_invented_citations_are_dropped_and_unsupported_sentences_marked(settings, small_notes_index):
    a, _ = assistant(settings.replace(agent_mode="grounded", answer_passages=3), small_notes_index,
                     ChatMessage(role=MessageRole.ASSISTANT, content=(
                         "LSTM has three gates: input, output and forget gate. The capital of France is Paris [2].")))
    answer = a.ask(LSTM_QUESTION)
    first, second = answer.sentences
    assert first.supported and first.citations, "a clearly supported sentence gets its marker"
    assert not second.supported and second.citations == ()
    assert answer.answer.endswith("The capital of France is Paris.")
    assert "Written from the passages" not in answer.answer
    assert {c.n for c in answer.citations} == set(first.citations)
    assert json.loads(answer.to_json())["sentences"][1]["supported"] is False


def test_an_agent_answer_without_support_comes_with_the_extractive_answer(settings, small_notes_index):
    a, model = assistant(settings, small_notes_index,
                         final("The three gates are the output layer, the input layer and the memory."))
    answer = a.ask(LSTM_QUESTION)
    assert "Passages from the course notes already retrieved" in model.seen[0]
    assert answer.mode == "agent" and answer.sentences and not answer.sentences[0].supported
    assert answer.extractive and "[1]" in answer.extractive
    assert answer.citations and all(f"[{c.n}]" in answer.extractive for c in answer.citations)


def test_out_of_scope_question_is_not_in_the_notes_without_calling_the_model(settings, small_notes_index):
    a, model = assistant(settings.replace(agent_mode="grounded"), small_notes_index)
    answer = a.ask("What is the capital of France?")
    assert answer.mode == "not_in_notes" and not answer.covered
    assert "not in the notes" in answer.answer and answer.citations == []
    assert model.seen == []


def test_trace_exports_as_json(settings, small_notes_index):
    a, _ = assistant(settings.replace(agent_mode="grounded"), small_notes_index,
                     ChatMessage(role=MessageRole.ASSISTANT,
                                 content="ReLU is a widely used activation function in neural networks [1]."))
    answer = a.ask("What is ReLU?")
    data = json.loads(answer.trace.to_json())
    kinds = [s["kind"] for s in data["steps"]]
    assert kinds[:4] == ["route", "spelling", "retrieval", "coverage"]  # no served model: routed first
    assert kinds[-2:] == ["generation", "verify_citations"] and data["steps"][0]["name"] == "question"
    assert data["model"].startswith("scripted-model") and data["steps"][2]["chunk_ids"]
    assert json.loads(answer.to_json())["citations"][0]["doc_id"] == "post-what-is-relu"

