"""Quiz the student: "quiz me on session 4", "3 multiple choice questions on the lstm one pager" (read only).
The questions cite the passages they come from; the answers follow them."""

from __future__ import annotations

import dataclasses
from typing import Any

from coursemate.agents.intents import Context, Documents, Intent, Outcome
from coursemate.agents.intents._parse import source_arguments
from coursemate.agents.intents._sources import one_source
from coursemate.tools.quiz import generate_quiz

DEFAULT_QUESTIONS = 5


class Quiz(Intent):
    name = "quiz"
    tool = "generate_quiz"
    # "quiz me" is addressed to the assistant; a question about quizzes is not a request for one, unless it suggests one
    question_cue = r"^\W*(?:how about|what about|shall we|why not)\b"
    cues = (
        r"\b(?:quiz\w*|flashcards?|test (?:me|myself|my knowledge)|practice questions|questions (?:on|about))\b",
        r"\b(?:\d+|three|five|ten|twenty|a few|some) (?:\w+ )?(?:questions|flashcards)\b",
    )
    examples = (
        "quiz me on lecture 6",
        "give me a quiz on the lstm notes",
        "ask me questions about a topic",
        "make flashcards for session 2",
        "test me on the resnet paper",
        "i want to practice with some questions",
        "ten multiple choice questions",
        "can you check what i remember of lecture 6",
    )

    def arguments(self, text: str, documents: Documents) -> dict[str, Any]:
        return source_arguments(" ".join(text.lower().split()), documents, quiz=True)

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        source = one_source(arguments, "quiz you on", "quiz me on")
        options = {"n": DEFAULT_QUESTIONS, **{k: arguments[k] for k in ("n", "kind") if k in arguments}}
        items = generate_quiz(context.index, **source, **options, cache_dir=context.settings.quiz_dir)
        numbers: dict[str, int] = {}
        for item in items:
            numbers.setdefault(item.citation.chunk_id, len(numbers) + 1)
        lines = [f"{i}. {item.question} [{numbers[item.citation.chunk_id]}]" + (
            f" ({' / '.join(item.choices)})" if item.choices else "") for i, item in enumerate(items, start=1)]
        lines += ["", "Answers: " + "; ".join(f"{i}. {item.answer}" for i, item in enumerate(items, start=1))]
        citations = list({item.citation.chunk_id: dataclasses.replace(item.citation, n=numbers[item.citation.chunk_id])
                          for item in items}.values())
        text = "\n".join(lines)
        return Outcome({**source, **options}, text, text, {"items": [item.to_dict() for item in items]}, citations)


INTENT = Quiz()
