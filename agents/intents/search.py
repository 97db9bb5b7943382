"""Search the notes: "search the notes for dropout", "where do the notes talk about receptive fields?" (read only).
The answer lists the passages found, each cited."""

from __future__ import annotations

import re
from typing import Any

from coursemate.agents.intents import Clarify, Context, Documents, Intent, Outcome
from coursemate.tools.grounding.citations import PassageLog
from coursemate.tools.grounding.render import passage_list

K = 4  # passages shown


class Search(Intent):
    name = "search"
    tool = "search_notes"
    question_cue = r"\b(?:notes|passages|documents)\b"
    cues = (r"\b(?:search|look up|looking for|find|where do the notes|which notes|passages)\b",)
    examples = (
        "search the notes for a term",
        "find the passages about this topic",
        "where do the notes talk about it",
        "look up a word in the notes",
        "search for something",
        "find every mention of a keyword",
        "which notes mention this",
    )

    def arguments(self, text: str, documents: Documents) -> dict[str, Any]:
        query = search_query(" ".join(text.lower().split()))
        return {"query": query} if query else {}

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        if "query" not in arguments:
            raise Clarify('What should I search the notes for? For example: "search the notes for dropout".')
        log = PassageLog()
        for hit in context.index.search(arguments["query"], k=K):
            log.add(hit.chunk, hit)
        passages = log.passages()
        text = passage_list(passages) or "No passages found."
        called = {"query": arguments["query"], "k": K}
        return Outcome(called, text, text, {}, [p.citation() for p in passages])


_SEARCH_LEAD = re.compile(
    r"^.*?\b(?:search(?:es|ing)?(?: the| my| course)?(?: notes| corpus)?(?: for)?|look(?:ing)? up|looking for"
    r"(?: the)?(?: passages?| places?| parts?| mentions?| sections?)?(?: of| about| on| that mention)?|find(?: me)?"
    r"(?: all| every| the)?(?: passages?| places?| parts?| mentions?| sections?| chunks?)?"
    r"(?: of| about| on| that mention)?|"
    r"where (?:do|does|did) (?:the )?(?:notes?|course|sessions?) "
    r"(?:talk about|mention|discuss|cover|say about|explain)|"
    r"which (?:notes|passages|documents|sessions) (?:mention|talk about|discuss|cover)|"
    r"(?:pull|bring) up(?: the)?(?: passages?)?(?: on| about)?)\s+")


def search_query(text: str) -> str:
    """What to search the notes for: the request without its lead ("search the notes for ...")."""
    query = _SEARCH_LEAD.sub("", text, count=1)
    query = re.sub(r"\b(?:in|across|from) (?:the |my )?(?:course )?notes\b|\bplease\b|\bfor me\b", " ", query)
    query = re.sub(r"^(?:the|a|an) ", "", " ".join(query.split()))
    return query.strip(" ?.!\"'")


INTENT = Search()
