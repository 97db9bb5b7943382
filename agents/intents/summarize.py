"""Summarize a session, a document or a topic: "summarize session 5", "what is session 9 about?", "the gist of
the resnet paper", "what do the notes say about dropout?" (read only). The summary cites its passages."""

from __future__ import annotations

from typing import Any

from coursemate.agents.intents import Context, Documents, Intent, Outcome
from coursemate.agents.intents._parse import SESSION_WORDS, source_arguments
from coursemate.agents.intents._sources import one_source
from coursemate.tools.summarize import summarize

_SUMMARY_WORDS = (r"summar\w*|sum up|gist|recap|tl;?dr|boil (?:it )?down|overview|key points|main points|"
                  r"nutshell|takeaways?|in (?:a few|\w+) (?:words|sentences|lines)")


class Summarize(Intent):
    name = "summarize"
    tool = "summarize_notes"
    # a question asks for a summary when it asks for one ("what are the key points of ..."; "summarization" alone is
    # a subject of the course), what a session or document is about, or what the notes say
    question_cue = (r"\b(?:summar(?:y|ies) of|summari[sz]e|sum up|gist|recap|tl;?dr|boil (?:it )?down|overview of|"
                    rf"key points|main points|nutshell|takeaways)\b|\b{SESSION_WORDS} \S+ (?:about|cover)\b|"
                    r"\b(?:paper|post|blog|article|one pager|document) (?:about|cover)\b|"
                    r"\bwhat (?:do |does )?the notes (?:say|tell)\b")
    cues = (
        rf"\b(?:{_SUMMARY_WORDS})\b",
        rf"^\W*what(?:'s| is| was| are)? (?:the )?(?:{SESSION_WORDS}|paper|post|blog|article|one pager) .*\babout\b",
        r"\bwhat (?:do |does )?the notes (?:say|tell)\b",
        r"^\W*(?:a |the )?(?:short |brief |quick )?(?:summary|recap|overview|tl;?dr|gist)\b",  # asked by name
    )
    examples = (
        "summarize session 8",
        "give me a summary of the lstm one pager",
        "summarize the notes on a topic",
        "sum up the resnet paper",
        "tldr of session 5",
        "a short summary of the googlenet blog",
        "recap lecture 7 for me",
        "what are the main points of session 2",
        "summarise a document",
        "brief overview of the notes",
        "what is lecture 4 about",
        "what the notes say about a topic",
    )

    def arguments(self, text: str, documents: Documents) -> dict[str, Any]:
        return source_arguments(" ".join(text.lower().split()), documents)

    def call(self, arguments: dict[str, Any], context: Context) -> Outcome:
        source = one_source(arguments, "summarize", "summarize")
        summary = summarize(context.index, **source)
        return Outcome(source, summary.text, summary.text, {"method": summary.method}, summary.citations)


INTENT = Summarize()
