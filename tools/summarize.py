"""Summaries of a note, a course session, a topic or a given text, citing the chunks they come from.

Without a language model the summary is an outline (:func:`extractive_summary`): one bullet per topic of the
source (a section or topic sub-section of a document, :mod:`retrieval.topics`; for a topic summary, each place of
the notes that the search finds), in reading order. A bullet is a heading, the topic's most distinctive noun phrase
as the notes write it ("Self-attention"), followed by the topic's most central standalone sentence
(:mod:`retrieval.notetext`: no back-reference, figure pointer, question, imperative or first-person aside when the
topic has a better one), each with the ``[n]`` of its chunk. Bullets are dropped, least central first, when they
do not fit the word target, and the most central topics get a second sentence when the outline falls short of it.
With a smolagents ``Model`` it is map-reduce over the chunks' clean, typed sentences: batches that fit a context
budget are summarized, then the partial summaries are merged, every step asked to keep the ``[n]`` markers.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from coursemate.errors import CoursemateError
from coursemate.prompts import load_prompts
from coursemate.retrieval.notetext import english_count, word_count
from coursemate.retrieval.types import Chunk
from coursemate.tools.grounding.citations import Citation, Passage
from coursemate.tools.grounding.extractive import REDUNDANT, Candidate, candidates_of
from coursemate.tools.grounding.render import format_passage, local_section
from coursemate.tools.grounding.verify import SentenceSupport, verify_citations
from coursemate.tools.wordclass import SUBJECT_SLOTS, WORDS, NotesWords, is_function_word, notes_words

if TYPE_CHECKING:
    from pathlib import Path

    from smolagents.models import Model

    from coursemate.retrieval import NotesIndex

MIN_WORDS = 10
MAX_WORDS = 2000
DEFAULT_WORDS = 200
MAX_TEXT_CHARS = 50_000  # a given text to summarize: its sentences are embedded on the spot
TOPIC_CHUNKS = 12
CONTEXT_BUDGET_TOKENS = 3000  # prompt size per language-model call (counted roughly as characters / 4)
CHARS_PER_TOKEN = 4
FILL_SHARE = 0.75  # an outline shorter than this share of its target gets second sentences
ASIDE_PENALTY = 0.15  # a sentence told in the first or second person ("we", "you", "let's") ranks this much lower
LONG_SENTENCE_WORDS = 30  # past this length a sentence ranks lower, by LENGTH_PENALTY a word
LENGTH_PENALTY = 0.005
MAX_DIGIT_SHARE = 0.2  # a sentence with more numbers than this is a log or table row, not a statement
ON_TOPIC_RELATIVE = 0.75  # a topic summary's sentence is at least this close to the topic as the best one is
HEADING_WORDS = 3  # a heading has at most this many words
HEADING_BONUS = 1.5  # a phrase of the section's own heading makes a better bullet heading
ACRONYM_LETTERS, ACRONYM_COUNT = 4, 2_000_000  # a lowercase word this short and this rare in English is an acronym
READABLE_KINDS = ("prose", "list", "lead")  # what a model is given to summarize ...
READABLE_ISSUES = ("", "back-reference", "lead-in")  # ... with these issues at most
_CODE_MARKS = re.compile(r"[\\#=_{}<>|]|\(\)|\.\.\.|\w\.\w+\(")  # code, paths and cut text left by the export
_CLEAN_END = re.compile(r"[A-Za-z0-9)\]\"'”’%]{2}[.!]$")  # not "... e." (an abbreviation cut by the splitter)
_PERSONAL = re.compile(r"\b(?:we|we'll|we're|you|you'll|you're|your|our|us|i|i'm|my|let's)\b", re.IGNORECASE)
_CONTINUES = re.compile(r"^[A-Za-z]+,\s")  # "So, ...", "Well, ...", "Finally, ...": the middle of a thread


@dataclass
class Summary:
    """A summary whose ``[n]`` markers refer to ``citations``; ``method`` is "extractive" or "llm".

    ``sentences``: for an LLM summary, each sentence with the passages that support it (see tools/grounding/verify.py).
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
    words: int = DEFAULT_WORDS,
    model: Model | None = None,
    prompts_path: Path | None = None,
) -> Summary:
    """Summarize exactly one source in about ``words`` words (an outline, or map-reduce with ``model``, prompted
    with the prompts of ``prompts_path``: the settings' ``prompts_path``, None for the shipped ones)."""
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
        return llm_summary(index, model, chunks, words, prompts_path)
    query = index.embed([topic])[0] if topic is not None else None
    return extractive_summary(index, chunks, words, query=query)


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


def is_imperative(sentence: str, notes: NotesWords) -> bool:
    """An instruction rather than a statement: it opens with a word the notes use as a verb, and no verb follows
    that word as it would follow a subject ("Use Adam as an optimizer.", not "Dropout is ...")."""
    words = [w.lower() for w in WORDS.findall(sentence) if w[0].isalnum()]
    return len(words) > 1 and words[1] not in SUBJECT_SLOTS and notes.is_verb(words[0])


def reads_well(sentence: str, notes: NotesWords) -> bool:
    """Whether a standalone sentence reads as a statement on its own in a summary: it ends cleanly, holds no code,
    path or cut-off text, is not mostly numbers, has balanced parentheses, no heading glued to its start and is not
    an instruction (:func:`is_imperative`)."""
    tokens = sentence.split()
    digits = sum(any(ch.isdigit() for ch in t) for t in tokens)
    return (bool(_CLEAN_END.search(sentence)) and not _CODE_MARKS.search(sentence)
            and digits <= MAX_DIGIT_SHARE * len(tokens) and sentence.count("(") == sentence.count(")")
            and not has_glued_heading(sentence) and not is_imperative(sentence, notes))


def has_glued_heading(sentence: str) -> bool:
    """Whether the sentence opens with a heading glued to its text: its first one to three words come again within
    the next four ("Self attention the self-attention mechanism ...", "L1 & l2 regularization l1 ...")."""
    words = [re.sub(r"[^a-z0-9]", "", w.lower()) for w in sentence.split()]
    for k in (1, 2, 3):
        head = "".join(words[:k])
        if len(head) > 1 and any("".join(words[j:j + k]) == head or words[j] == head
                                 for j in range(k, min(len(words), 2 * k + 4))):
            return True
    return False


def _drawbacks(sentence: str) -> float:
    """How much lower a readable sentence ranks for the lecture's voice and for its length."""
    return ASIDE_PENALTY * is_aside(sentence) + LENGTH_PENALTY * max(0, word_count(sentence) - LONG_SENTENCE_WORDS)


def is_aside(sentence: str) -> bool:
    """Told in the first or second person ("we", "you", "let's") or continuing a thread ("So, ..."): the lecture's
    voice rather than what it teaches."""
    return bool(_PERSONAL.search(sentence) or _CONTINUES.match(sentence))


# ----------------------------------------------------------------------------------------------- outlines
@dataclass
class Bullet:
    """One topic of an outline: its candidates (indexes), the chosen ones, its heading and its weight."""

    members: list[int]
    pool: list[int]
    weight: float
    chosen: list[int] = field(default_factory=list)
    heading: str = ""
    label: str = ""


def extractive_summary(index: NotesIndex, chunks: list[Chunk], words: int,
                       query: np.ndarray | None = None) -> Summary:
    """An outline of ``chunks``: one bullet per topic, a heading and its most central standalone sentence, within
    about ``words`` words; ``query`` (a normalized vector) keeps a topic summary on its topic."""
    candidates, vectors = candidates_of(chunks, index.chunk_sentences)
    notes = notes_words(index)
    bullets = _bullets(candidates, vectors, chunks, notes, query)
    if not bullets:
        raise CoursemateError("the source has no standalone sentences to summarize")
    _name(bullets, candidates, chunks, notes)
    _fit(bullets, candidates, vectors, words)
    return _render_outline(bullets, candidates, chunks)


def _bullets(candidates: list[Candidate], vectors: np.ndarray, chunks: list[Chunk], notes: NotesWords,
             query: np.ndarray | None) -> list[Bullet]:
    """One bullet per topic that has a standalone prose sentence, its pool ranked best first."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(candidates):
        if c.kind not in ("code", "table"):
            groups.setdefault((chunks[c.source].doc_id, chunks[c.source].section), []).append(i)
    readable = {i for i, c in enumerate(candidates) if c.kind in ("prose", "list") and not c.issue
                and reads_well(c.text, notes)}
    if query is not None and readable:
        closeness = vectors @ query
        floor = ON_TOPIC_RELATIVE * max(float(closeness[i]) for i in readable)
        readable = {i for i in readable if closeness[i] >= floor}
    whole = _unit(vectors.mean(axis=0)) if len(vectors) else None
    bullets = []
    for (_, section), members in groups.items():
        pool = [i for i in members if i in readable]
        if not pool:
            continue
        centre = _unit(vectors[members].mean(axis=0) + (query if query is not None else 0))
        score = {i: float(vectors[i] @ centre) - _drawbacks(candidates[i].text) for i in pool}
        pool.sort(key=lambda i: -score[i])
        weight = float(vectors[pool[0]] @ query) if query is not None else float(centre @ whole) * math.log1p(
            len(members))
        bullets.append(Bullet(members, pool, weight, [pool[0]], label=section))
    return bullets


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)


def _name(bullets: list[Bullet], candidates: list[Candidate], chunks: list[Chunk], notes: NotesWords) -> None:
    """Give every bullet a distinct heading: its most distinctive noun phrase (see :func:`heading_phrases`) that
    its sentence names, else its most distinctive one."""
    texts = [[candidates[i].text for i in b.members] for b in bullets]
    titles = [_own_heading(chunks[candidates[b.members[0]].source]) for b in bullets]
    taken: set[str] = set()
    for bullet, ranked in zip(bullets, heading_phrases(texts, titles, notes)):
        fresh = [p for p in ranked if p.lower().removesuffix("s") not in taken]
        chosen_text = candidates[bullet.chosen[0]].text.lower()
        in_sentence = [p for p in fresh if re.search(rf"(?<![\w-]){re.escape(p.lower())}(?![\w-])", chosen_text)]
        heading = (in_sentence or fresh or [_fallback_heading(chunks[candidates[bullet.members[0]].source])])[0]
        taken.add(heading.lower().removesuffix("s"))
        bullet.heading = heading[:1].upper() + heading[1:]


def _own_heading(chunk: Chunk) -> str:
    """The document's title and the section's heading as written (a topic sub-section's generated label is not)."""
    section = local_section(chunk.title, chunk.section).split(" > ")[0]
    return f"{chunk.title} {section}"


def _fallback_heading(chunk: Chunk) -> str:
    return local_section(chunk.title, chunk.section).split(" > ")[0] or chunk.title


def heading_phrases(texts: list[list[str]], titles: list[str], notes: NotesWords) -> list[list[str]]:
    """For each topic (its sentences), its noun phrases of 1-3 words as the notes write them, most distinctive
    first: frequent in the topic, rare in the other topics, made of words that are rare in English, a bonus when the
    section's own heading has it. A phrase is used at least twice in the topic (once when the topic is one chunk's
    worth), neither opens nor closes with a common word, and is a noun phrase (:meth:`NotesWords.is_noun_phrase`)."""
    counts = [_phrase_counts(t) for t in texts]
    spread = Counter(p for c in counts for p in c)
    ranked = []
    for topic, title, sentences in zip(counts, titles, texts):
        least = 2 if sum(topic.values()) > 200 else 1
        title_words = title.lower()

        def score(p: tuple[str, ...], topic: Counter = topic, title_words: str = title_words) -> float:
            rarity = math.log(1 + len(counts) / spread[p]) if len(counts) > 1 else 1.0
            bonus = HEADING_BONUS if " ".join(p) in title_words else 1.0
            return topic[p] * rarity * bonus * sum(_specificity(w) ** 2 for w in p)

        usable = sorted((p for p in topic if topic[p] >= least), key=lambda p: (-score(p), p))
        nouns = (p for p in usable[:40] if notes.is_noun_phrase(p) and not notes.is_verb(p[-1]))
        ranked.append([_cased(p, sentences) for p in nouns][:8])
    return ranked


def _phrase_counts(sentences: list[str]) -> Counter:
    """The 1-3 word phrases of ``sentences`` (lowercase word tuples) that a heading could be."""
    found: Counter = Counter()
    for sentence in sentences:
        for run in re.split(r"[^A-Za-z0-9\s'-]|\s-\s", sentence):
            words = [w.lower() for w in WORDS.findall(run) if w[0].isalpha()]
            for n in range(1, HEADING_WORDS + 1):
                for k in range(len(words) - n + 1):
                    gram = tuple(words[k:k + n])
                    if not any(map(is_function_word, gram)) and len(gram[-1]) > 2 and not gram[-1].endswith("ly"):
                        found[gram] += 1
    return found


def _specificity(word: str) -> float:
    """How rare ``word`` is in general English: 0 for "the", about 1 for words English does not know."""
    return max(0.0, 1.0 - math.log1p(english_count(word)) / math.log1p(english_count("the")))


def _cased(phrase: tuple[str, ...], sentences: list[str]) -> str:
    """``phrase`` as the topic's sentences write it most often past their first word (the truecased form)."""
    pattern = re.compile(r"(?<![\w-])" + r"\s+".join(re.escape(w) for w in phrase) + r"(?![\w-])", re.IGNORECASE)
    forms = Counter(m.group() for s in sentences for m in pattern.finditer(s) if m.start() > 0)
    written = forms.most_common(1)[0][0] if forms else " ".join(phrase)
    return " ".join(w.upper() if _is_lowercased_acronym(w) else w for w in written.split())


def _is_lowercased_acronym(word: str) -> bool:
    """A short lowercase word English hardly knows ("vcs", "cls", "sota"): an acronym the export lowercased."""
    return word.isalpha() and word.islower() and len(word) <= ACRONYM_LETTERS and english_count(word) < ACRONYM_COUNT


def _fit(bullets: list[Bullet], candidates: list[Candidate], vectors: np.ndarray, words: int) -> None:
    """Drop the least central bullets while the outline is over ``words``; then, while it is under
    ``FILL_SHARE`` of it, give the most central topics their next sentence that says something new."""
    def size() -> int:
        return sum(word_count(b.heading) + sum(word_count(candidates[i].text) for i in b.chosen) for b in bullets)

    while size() > words and len(bullets) > 1:
        bullets.remove(min(bullets, key=lambda b: b.weight))
    grew = True
    while grew and size() < FILL_SHARE * words:  # one more sentence per bullet and round, most central first
        grew = False
        for bullet in sorted(bullets, key=lambda b: -b.weight):
            extra = next((i for i in bullet.pool if i not in bullet.chosen and max(
                float(vectors[i] @ vectors[j]) for j in bullet.chosen) < REDUNDANT), None)
            if extra is not None and size() + word_count(candidates[extra].text) <= words:
                bullet.chosen.append(extra)
                grew = True
            if size() >= FILL_SHARE * words:
                break


def _render_outline(bullets: list[Bullet], candidates: list[Candidate], chunks: list[Chunk]) -> Summary:
    """``- Heading: sentence [n] ...`` per bullet (sentences in reading order), numbered by first citation."""
    numbers: dict[int, int] = {}
    lines = []
    for bullet in bullets:
        parts = []
        for i in sorted(bullet.chosen, key=lambda i: (candidates[i].source, candidates[i].position)):
            n = numbers.setdefault(candidates[i].source, len(numbers) + 1)
            parts.append(f"{candidates[i].text} [{n}]")
        lines.append(f"- {bullet.heading}: {' '.join(parts)}")
    citations = [Citation.of(n, chunks[source]) for source, n in numbers.items()]
    return Summary("\n".join(lines), citations, "extractive")


def llm_summary(index: NotesIndex, model: Model, chunks: list[Chunk], words: int,
                prompts_path: Path | None = None) -> Summary:
    """Map-reduce summary: batches of numbered passages (their clean sentences, :func:`clean_chunk`) within the
    context budget, then merged partials.

    The merged summary's citations are verified (:func:`tools.grounding.verify.verify_citations`): a marker stays only
    where its passage supports the sentence, and sentences no passage supports are marked unsupported.
    """
    clean = [c for c in (clean_chunk(index, chunk) for chunk in chunks) if c.text]
    numbered = [Passage(n, chunk) for n, chunk in enumerate(clean or chunks, start=1)]
    passages = [format_passage(p) for p in numbered]
    prompts = load_prompts(prompts_path)
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


def clean_chunk(index: NotesIndex, chunk: Chunk) -> Chunk:
    """``chunk`` as a model should read it: its clean sentences, lead-ins and list items, one a line, without code,
    tables, figure pointers or lines of the export that do not read as sentences."""
    records, _ = index.chunk_sentences(chunk)
    readable = [r.text for r in records if r.kind in READABLE_KINDS and r.issue in READABLE_ISSUES]
    return replace(chunk, text="\n".join(dict.fromkeys(readable)))


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
