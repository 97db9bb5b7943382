"""The conversation store is bounded: least recently used out first, idle conversations forgotten."""

from __future__ import annotations

import gc
import tracemalloc

from coursemate.agents.conversation import ConversationStore, Turn


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_least_recently_used_conversation_goes_first():
    store = ConversationStore(max_conversations=2, idle_seconds=100)
    store.get("a").turns.append(Turn("q", "q", ""))
    store.get("b")
    store.get("a")  # a is now the most recent
    store.get("c")
    assert store.ids() == ["a", "c"]
    assert len(store.get("a").turns) == 1 and store.get("b").turns == []


def test_idle_conversations_are_forgotten():
    clock = Clock()
    store = ConversationStore(max_conversations=10, idle_seconds=60, clock=clock)
    store.get("old").turns.append(Turn("q", "q", ""))
    clock.now = 30
    store.get("recent")
    clock.now = 61
    assert store.ids() == ["recent"]
    assert store.get("old").turns == []


def test_memory_stays_flat_after_a_thousand_conversations():
    store = ConversationStore(max_conversations=50, idle_seconds=3600)

    def chat(first: int, count: int) -> None:
        for i in range(first, first + count):
            conversation = store.get(f"browser-{i}")
            for n in range(5):
                conversation.turns.append(Turn(f"question {n}" * 20, "q", "an answer " * 100))

    chat(0, 100)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    chat(100, 1000)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(store.ids()) == 50
    assert after - before < 200_000  # 1,000 more conversations of 5 turns each would hold megabytes
