"""Summaries of a note, a course session, a topic or a given text, citing the chunks they come from.

Without a language model the summary is extractive: sentences of the source chunks, ranked by centrality
(similarity to the centroid of all sentence embeddings, or to the topic) with maximal marginal relevance for
diversity, kept in their original order up to the word target, each followed by the ``[n]`` of its chunk.
With a smolagents ``Model`` it is map-reduce: the chunks are summarized in batches that fit a context budget,
then the partial summaries are merged, every step asked to keep the ``[n]`` markers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from coursemate.errors import CoursemateError
from coursemate.prompts import load_prompts
from retrieval.types import Chunk
from tools.citations import Citation, Passage, format_passage
from tools.extractive import candidates_of, mmr_within_budget
from tools.verify import SentenceSupport, verify_citations

if TYPE_CHECKING:
    from smolagents.models import Model

    from retrieval import NotesIndex

MIN_WORDS = 10
MAX_WORDS = 2000
MAX_TEXT_CHARS = 50_000  # a given text to summarize: its sentences are embedded on the spot
TOPIC_CHUNKS = 8
CONTEXT_BUDGET_TOKENS = 3000  # prompt size per language-model call (counted roughly as characters / 4)
CHARS_PER_TOKEN = 4



@dataclass
class Summary:
    """A summary whose ``[n]`` markers refer to ``citations``; ``method`` is "extractive" or "llm".

    ``sentences``: for an LLM summary, each sentence with the passages that support it (see tools/verify.py).
    """

    text: str
    citations: list[Citation]
    method: str
    sentences: list[SentenceSupport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(
    index: NotesIndex,
    *,
    doc_id: str | None = None,
    session: int | None = None,
    topic: str | None = None,
    text: str | None = None,
    words: int = 150,
    model: Model | None = None,
) -> Summary:
    """Summarize exactly one source in about ``words`` words (extractive, or map-reduce with ``model``)."""
    given = {"doc_id": doc_id, "session": session, "topic": topic, "text": text}
    chosen = [name for name, value in given.items() if value is not None]
    if len(chosen) != 1:
        raise CoursemateError(
            f"give exactly one thing to summarize (doc_id, session, topic or text); got {', '.join(chosen) or 'none'}"
        )
    if not MIN_WORDS <= words <= MAX_WORDS:
        raise CoursemateError(f"the summary length must be between {MIN_WORDS} and {MAX_WORDS} words; got {words}")
    chunks = source_chunks(index, doc_id=doc_id, session=session, topic=topic, text=text)
    if model is not None:
        return llm_summary(index, model, chunks, words)
    query = index.embed([topic])[0] if topic is not None else None
    return extractive_summary(chunks, words, index.chunk_sentences, query=query)


def source_chunks(
    index: NotesIndex,
    *,
    doc_id: str | None = None,
    session: int | None = None,
    topic: str | None = None,
    text: str | None = None,
) -> list[Chunk]:
    """The chunks to summarize for one source, in reading order (topic: in relevance order)."""
    if doc_id is not None:
        index.document(doc_id)  # the error lists the valid ids
        return [c for c in index.chunks if c.doc_id == doc_id]
    if session is not None:
        sessions = {d.doc_id: d.metadata["session"] for d in index.documents.values() if "session" in d.metadata}
        wanted = {i for i, n in sessions.items() if str(n) == str(session)}
        if not wanted:
            valid = ", ".join(sorted({str(n) for n in sessions.values()}, key=lambda n: (len(n), n)))
            raise CoursemateError(f"no course session {session}; sessions in the notes: {valid or 'none'}")
        return [c for c in index.chunks if c.doc_id in wanted]
    if topic is not None:
        if not topic.strip():
            raise CoursemateError("the topic is empty")
        return [hit.chunk for hit in index.search(topic, k=TOPIC_CHUNKS)]
    if not text or not text.strip():
        raise CoursemateError("the text to summarize is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise CoursemateError(f"the text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}")
    return [Chunk("text", "text", "given text", "", "", text, 0, len(text))]


def extractive_summary(chunks: list[Chunk], words: int, sentences_of, query: np.ndarray | None = None) -> Summary:
    """Pick central, diverse sentences of ``chunks`` up to ``words`` words; cite each sentence's chunk.

    ``sentences_of(chunk) -> (sentences, normalized rows)``; ``query`` (a normalized vector) pulls the choice
    towards a topic.
    """
    candidates, vectors = candidates_of(chunks, sentences_of)
    if not candidates:
        raise CoursemateError("the source has no sentences long enough to summarize")
    reference = vectors.mean(axis=0) + (query if query is not None else 0)
    relevance = vectors @ (reference / (np.linalg.norm(reference) or 1.0))
    chosen = mmr_within_budget(vectors, relevance, [len(c.text.split()) for c in candidates], words)

    numbers: dict[int, int] = {}
    parts = []
    for i in sorted(chosen, key=lambda i: (candidates[i].source, candidates[i].position)):
        n = numbers.setdefault(candidates[i].source, len(numbers) + 1)
        parts.append(f"{candidates[i].text} [{n}]")
    citations = [Citation.of(n, chunks[ci]) for ci, n in numbers.items()]
    return Summary(" ".join(parts), citations, "extractive")


def llm_summary(index: NotesIndex, model: Model, chunks: list[Chunk], words: int) -> Summary:
    """Map-reduce summary: batches of numbered passages within the context budget, then merged partials.

    The merged summary's citations are verified (:func:`tools.verify.verify_citations`): a marker stays only
    where its passage supports the sentence, and sentences no passage supports are marked unsupported.
    """
    numbered = [Passage(n, chunk) for n, chunk in enumerate(chunks, start=1)]
    passages = [format_passage(p) for p in numbered]
    prompts = load_prompts(index.settings.prompts_path)
    partials = [
        _summary_step(model, prompts.format("summary_map", words=words, passages="\n\n".join(batch)))
        for batch in batch_by_budget(passages, CONTEXT_BUDGET_TOKENS)
    ]
    while len(partials) > 1:
        partials = [
            _summary_step(model, prompts.format("summary_reduce", words=words, summaries="\n\n".join(batch)))
            for batch in batch_by_budget(partials, CONTEXT_BUDGET_TOKENS)
        ]
    verified = verify_citations(index, partials[0], numbered)
    return Summary(verified.text, verified.citations, "llm", verified.sentences)


def batch_by_budget(texts: list[str], budget_tokens: int) -> list[list[str]]:
    """Consecutive groups of ``texts`` of at most ``budget_tokens`` (chars/4) each; a longer text is cut to fit.

    Always at least two texts per group when it has more than one, so the reduce step shrinks the list.
    """
    limit = budget_tokens * CHARS_PER_TOKEN
    batches: list[list[str]] = [[]]
    size = 0
    for text in texts:
        text = text[:limit]
        if batches[-1] and size + len(text) > limit and len(batches[-1]) > 1:
            batches.append([])
            size = 0
        batches[-1].append(text)
        size += len(text)
    return batches


def ask_model(model: Model, prompt: str, task: str) -> str:
    """The text of ``model``'s reply to ``prompt`` (one user message), stripped; a backend failure is one
    :class:`CoursemateError` saying the model failed to ``task`` ("summarize", "write questions")."""
    from smolagents.models import ChatMessage, MessageRole

    try:
        reply = model.generate([ChatMessage(role=MessageRole.USER, content=[{"type": "text", "text": prompt}])])
    except Exception as exc:  # any backend failure becomes one clear message
        raise CoursemateError(f"the language model failed to {task}: {type(exc).__name__}: {exc}") from exc
    content = reply.content if isinstance(reply.content, str) else " ".join(
        part.get("text", "") for part in reply.content or [] if isinstance(part, dict)
    )
    return content.strip()


def _summary_step(model: Model, prompt: str) -> str:
    """One map or reduce step: the model's partial summary (never empty)."""
    content = ask_model(model, prompt, "summarize")
    if not content:
        raise CoursemateError("the language model returned an empty summary")
    return content


def format_summary(summary: Summary) -> str:
    """The summary text followed by its numbered sources (for the CLI and the agents)."""
    sources = [
        f"[{c.n}] {c.title}{' / ' + c.section if c.section and c.section != c.title else ''} ({c.doc_id})"
        for c in summary.citations
    ]
    return summary.text + "\n\nSources:\n" + "\n".join(sources)
