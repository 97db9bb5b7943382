"""The chat's intents without an index: one module per intent, real quotes only, commands versus questions, the
arguments each intent extracts, and typed run summaries."""

from __future__ import annotations

import pkgutil

import pytest

import coursemate.agents.intents
from coursemate.agents.intents import QUESTION, Intent, load_intents
from coursemate.agents.intents._parse import quotes
from coursemate.agents.router import is_command, is_course_question, masked
from coursemate.tools.training import RunSummary


def test_every_intent_is_one_module_that_the_router_loads():
    modules = {m.name for m in pkgutil.iter_modules(coursemate.agents.intents.__path__) if not m.name.startswith("_")}
    intents = load_intents()
    assert set(intents) == modules and next(iter(intents)) == QUESTION
    for name, intent in intents.items():
        assert isinstance(intent, Intent) and intent.name == name and intent.examples
        assert name == QUESTION or intent.tool  # a tool intent names the tool it calls in the trace
    assert {n for n, i in intents.items() if i.changes_runs} == {"train", "cancel_run"}


@pytest.mark.parametrize("text, expected", [
    ("Why wouldn't the spell checker flag 'deer' when I meant 'dear'?", ["deer", "dear"]),
    ("the students' notes and the teacher's", []),
    ("don't 'quote' me, it's fine", ["quote"]),
    ('spell-check "teh gradeint", «backprop» and `relu`', ["teh gradeint", "backprop", "relu"]),
    ("“smart quotes” and ‘single ones’ but not rock ’n’ roll’s", ["smart quotes", "single ones"]),
])
def test_only_real_quotes_delimit_text(text, expected):
    assert quotes(text) == expected


def test_a_contraction_never_starts_the_text_to_spell_check():
    spell = load_intents()["spell"]
    assert spell.arguments("Why wouldn't the spell checker flag 'deer' when I meant 'dear'?", []) == {"text": "deer"}
    assert spell.arguments("I'd like you to spell-check: teh gradeint", []) == {"text": "teh gradeint"}
    assert masked("is 'nueral' spelled right?") == "is this text spelled right?"
    assert masked("Wouldn't the spell checker flag 'x'?") == "wouldn't the spell checker flag this text ?"


@pytest.mark.parametrize("text, command", [
    ("train resnet18 on digits for 2 epochs", True),
    ("please abort 20260103-090000-0a0b0c", True),
    ("that run is taking forever, kill it", True),
    ("can you train resnet18 on digits?", False),
    ("which optimizer should I use to train a CNN, SGD or Adam?", False),
    ("should I stop my run", False),
    ("maybe train the mlp on digits", False),
    ("I'm thinking of training the mlp on digits", False),
    ("I'd like to see how the mlp does on digits", False),
])
def test_only_an_explicit_command_is_a_command(text, command):
    assert is_command(text) is command


@pytest.mark.parametrize("text, course", [
    ("In the step-by-step mnist models, how was the learning rate scheduled in the final attempt?", True),
    ("when would you cancel training early?", True),
    ("how is my run doing?", False),
    ("is run 20260101-101010-a1b2c3 done yet?", False),
    ("can you summarize session 3?", False),
    ("what do the notes say about dropout?", False),
    ("train the mlp on digits", False),
])
def test_course_questions_are_told_from_requests(text, course):
    assert is_course_question(text) is course


@pytest.mark.parametrize("intent, text, expected", [
    ("train", "can you fit the small cnn on digits, three passes, lr 0.01?",
     {"model": "mnist_cnn", "dataset": "digits", "epochs": 3, "lr": 0.01}),
    ("train", "train mnist_cnn for -3 epochs", {"model": "mnist_cnn", "epochs": -3}),
    ("cancel_run", "kill run 20260101-101010-a1b2c3", {"run_ids": ["20260101-101010-a1b2c3"]}),
    ("cancel_run", "stop it", {"last": 1}),
    ("compare_runs", "which is better, my last run or the one before it?", {"last": 2}),
    ("summarize", "what is session 9 about, in a nutshell?", {"session": 9}),
    ("summarize", "what do the notes say about dropout?", {"topic": "dropout"}),
    ("quiz", "quiz me on dropout with 4 short answer questions", {"topic": "dropout", "n": 4, "kind": "short"}),
    ("search", "which notes talk about the vanishing gradient?", {"query": "vanishing gradient"}),
])
def test_each_intent_extracts_its_arguments(intent, text, expected):
    assert load_intents()[intent].arguments(text, []) == expected


def test_a_train_command_is_complete_only_with_model_and_dataset():
    train = load_intents()["train"]
    assert train.complete({"model": "mlp", "dataset": "digits"})
    assert not train.complete({"model": "mlp", "epochs": 2})


def test_run_summaries_are_typed():
    summary = RunSummary.from_dict({"id": "x", "status": "running", "model": "mlp", "dataset": "digits", "epochs": 2,
                                    "epochs_completed": None, "unknown_field": 1})
    assert summary.active and summary.epochs_completed == 0 and summary.best_test_accuracy is None
    assert RunSummary.from_dict(summary.to_dict()) == summary
