"""No answer or summary may carry a citation whose passage does not support a sentence of it (real index)."""

from __future__ import annotations

import pytest
from smolagents import ChatMessage, MessageRole, Model

from coursemate.agents import CourseAssistant
from coursemate.retrieval.notetext import comes_from
from coursemate.tools.grounding.citations import Passage, cited_numbers, strip_markers
from coursemate.tools.grounding.verify import split_generated, support_scores
from coursemate.tools.summarize import summarize

QUESTIONS = [
    "What are the three gates of an LSTM?",
    "What does the forget gate do?",
    "Why does the course use global average pooling?",
    "What error rate gap let AlexNet win the 2012 ImageNet challenge?",
    "What is batch normalization?",
    "Why do residual connections help deep networks train?",
    "What is a depthwise separable convolution?",
    "What is contrastive loss?",
]


def assert_every_citation_supports_its_sentence(index, text: str, citations) -> None:
    chunks = {c.chunk_id: c for c in index.chunks}
    by_number = {c.n: Passage(c.n, chunks.get(c.chunk_id) or _chunk_of(c)) for c in citations}
    for piece in split_generated(text):
        sentence = strip_markers(piece)
        for n in cited_numbers(piece):
            assert n in by_number, f"[{n}] names no citation: {piece!r}"
            score = support_scores(index, [sentence], [by_number[n]])[0, 0]
            assert score > 0, f"[{n}] does not support {sentence!r}"


def _chunk_of(citation):
    from coursemate.retrieval.types import Chunk

    return Chunk(citation.chunk_id, citation.doc_id, citation.title, citation.section, "", citation.text, 0, 0)


@pytest.fixture(scope="module")
def extractive(course_settings, course_index):
    return CourseAssistant(course_settings.replace(llm="extractive"), index=course_index)


@pytest.mark.parametrize("question", QUESTIONS)
def test_extractive_answers_quote_the_passages_they_cite(extractive, course_index, question):
    answer = extractive.ask(question, conversation_id=question)
    assert answer.mode == "extractive" and answer.citations, answer.answer
    by_number = {c.n: c for c in answer.citations}
    for sentence, n in _quoted(answer.answer):
        assert comes_from(sentence, by_number[n].text), f"[{n}] does not hold {sentence!r}"
    assert_every_citation_supports_its_sentence(course_index, answer.answer, answer.citations)
    assert 6 <= len(strip_markers(answer.answer).split()) <= 160  # one whole sentence at least: no padding


def _quoted(text: str) -> list[tuple[str, int]]:
    import re

    return [(s, int(n)) for s, n in re.findall(r"(.+?) \[(\d+)\][.!?](?: |$)", text)]


class Invents(Model):
    """A model that writes one true sentence with a wrong marker and one invented one with a marker."""

    def generate(self, messages, **kwargs):
        return ChatMessage(role=MessageRole.ASSISTANT, content=(
            "LSTM has three gates: input, output and forget gate [4]. "
            "Skip connections were invented in 1850 by a French farmer [1]."))


def test_generated_answers_and_summaries_keep_only_supported_citations(course_settings, course_index):
    answer = CourseAssistant(course_settings.replace(agent_mode="grounded"), index=course_index,
                             llm=Invents()).ask("What are the three gates of an LSTM?")
    assert_every_citation_supports_its_sentence(course_index, answer.answer, answer.citations)
    assert [s.supported for s in answer.sentences] == [True, False]
    summary = summarize(course_index, topic="LSTM gates", words=60, model=Invents())
    assert_every_citation_supports_its_sentence(course_index, summary.text, summary.citations)
    assert [s.supported for s in summary.sentences] == [True, False]
    extractive = summarize(course_index, session=5, words=80)
    assert_every_citation_supports_its_sentence(course_index, extractive.text, extractive.citations)
