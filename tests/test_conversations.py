"""The conversation store is bounded (least recently used out first, idle conversations forgotten) and, over the
home's SQLite state store, survives a restart: a new assistant over the same home continues the conversation."""

from __future__ import annotations

import multiprocessing
import sqlite3

from coursemate.agents.conversation import ConversationStore, Turn
from coursemate.state import StateStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_least_recently_used_conversation_goes_first():
    store = ConversationStore(max_conversations=2, idle_seconds=100)
    store.get("a")
    store.add("a", Turn("q", "q", ""))
    store.get("b")
    store.get("a")  # a is now the most recent
    store.get("c")
    assert store.ids() == ["a", "c"]
    assert len(store.get("a").turns) == 1 and store.get("b").turns == []


def test_idle_conversations_are_forgotten():
    clock = Clock()
    store = ConversationStore(max_conversations=10, idle_seconds=60, clock=clock)
    store.add("old", Turn("q", "q", ""))
    clock.now += 30
    store.get("recent")
    clock.now += 31
    assert store.ids() == ["recent"]
    assert store.get("old").turns == []


def test_the_store_stays_bounded_after_a_thousand_conversations(tmp_path):
    state = StateStore(tmp_path / "state.sqlite3")
    store = ConversationStore(state, max_conversations=50, idle_seconds=3600)
    for i in range(1_000):
        store.get(f"browser-{i}")
        for n in range(3):
            store.add(f"browser-{i}", Turn(f"question {n}" * 20, "q", "an answer " * 100))
    assert store.ids() == [f"browser-{i}" for i in range(950, 1_000)]
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:  # the turns of forgotten conversations are gone too
        assert db.execute("select count(*) from turns").fetchone()[0] == 50 * 3


def test_a_conversation_survives_a_restart_and_its_follow_up_resolves_against_it(small_notes_index, tmp_path):
    from coursemate.agents import CourseAssistant

    settings = small_notes_index.settings.replace(llm="extractive")
    path = tmp_path / "state.sqlite3"

    def assistant() -> CourseAssistant:  # a fresh process' view: a new connection to the same file
        return CourseAssistant(settings, index=small_notes_index, conversations=ConversationStore(StateStore(path)))

    first = assistant().ask("What is leaky ReLU?", conversation_id="ana", user="ana")
    assert first.mode == "extractive"
    restarted = assistant()
    (turn,) = restarted.conversations.get("ana").turns
    assert turn.question == "What is leaky ReLU?" and turn.record["answer"] == first.answer
    follow_up = restarted.ask("what value is usually used for that small slope?", conversation_id="ana", user="ana")
    assert follow_up.trace.resolved_question == "what value is usually used for the small slope of leaky ReLU?"
    # another conversation id, or the in-memory default store, starts afresh
    other = assistant().ask("what value is usually used for that small slope?", conversation_id="bo")
    assert other.trace.resolved_question == "what value is usually used for that small slope?"
    assert StateStore(path).conversation("ana")[0] == "ana"  # the owner is kept


def _add_turns(path: str, name: str, count: int) -> None:
    store = ConversationStore(StateStore(path))
    for n in range(count):
        store.add(name, Turn(f"{name} {n}", "q", "a"))


def test_processes_writing_at_once_lose_no_turn(tmp_path):
    path = str(tmp_path / "state.sqlite3")
    StateStore(path)  # the schema, made once
    workers = [multiprocessing.get_context("spawn").Process(target=_add_turns, args=(path, f"p{i}", 40))
               for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    state = StateStore(path)
    for i in range(3):
        assert [t["question"] for t in state.conversation(f"p{i}")[1]] == [f"p{i} {n}" for n in range(40)]
    with sqlite3.connect(path) as db:
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
