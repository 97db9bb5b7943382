"""Quizzes and flashcards from the notes: every answer key is a span of the chunk it cites.

Offline (no language model):

- **cloze**: the key sentences of the source, ranked by centrality and maximal marginal relevance (the machinery
  of the extractive summarizer, :mod:`tools.grounding.extractive`), each with its most specific course term blanked out;
- **mcq**: a cloze question with three distractors: course terms that are embedding neighbours of the answer
  ("layer normalization" for "batch normalization") but not its synonyms, abbreviations or parts;
- **short**: definitional sentences ("X is ...", "X helps to ...") turned into "What is X?".

The course vocabulary is made of the `yake` keyphrases of every document that at least two chunks use and that
are not everywhere, embedded once with the index's model. With a smolagents ``Model``, the model writes the
questions and each is kept only if the cited chunk supports its answer (:func:`tools.grounding.verify.support_scores`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import threading
import weakref
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coursemate.config import QUIZ_KINDS
from coursemate.errors import CoursemateError
from coursemate.io import atomic_write_with
from coursemate.prompts import load_prompts
from coursemate.retrieval.notetext import english_count, points_back
from coursemate.retrieval.spelling import english_word_counts
from coursemate.retrieval.types import Chunk
from coursemate.tools.grounding.citations import Citation, Passage
from coursemate.tools.grounding.extractive import candidates_of, mmr_within_budget
from coursemate.tools.grounding.render import format_passage
from coursemate.tools.summarize import ask_model, reads_well, source_chunks
from coursemate.tools.wordclass import (
    NUMBER_WORDS,
    NotesWords,
    Quantity,
    is_function_word,
    names_a_thing,
    notes_words,
    quantities,
    quantities_of_notes,
    stem as _stem,
    term_classes,
)

if TYPE_CHECKING:
    from smolagents.models import Model

    from coursemate.retrieval import NotesIndex

BLANK = "_____"
MAX_ITEMS = 500
TERMS_VERSION = 2  # raise it when the way the vocabulary is chosen changes: cached vocabularies are then rebuilt
KEYPHRASES_PER_DOCUMENT = 80
MIN_TERM_CHUNKS = 2  # a course term is used by at least this many chunks ...
MAX_TERM_SHARE = 0.08  # ... and by at most this share of them ("model", "layer" are everywhere)
MIN_WORDS, MAX_WORDS = 8, 40  # a key sentence's length
SIBLING_MIN = 0.3  # a distractor of the key's kind is at least this close to the answer (plausible) ...
SYNONYM_MIN = 0.8  # ... and less close than this (a synonym would be a second right answer)
DISTRACTORS = 3
EVERYDAY_COUNT = 5_000_000  # a word this frequent in English is an everyday word, not a course term
FRAGMENT_SHARE = 0.8  # a phrase followed (or preceded) by one same word this often is part of a longer term
CLIP_MIN_LETTERS, CLIP_MIN_CUT = 4, 3  # "repo" clips "repository"; shorter terms are acronyms ("gan", "vit")
PREFIX = 6  # two words starting alike this far are forms of one word ("sequence", "sequential")
_TERM = re.compile(r"[a-z][a-z-]*[a-z](?: [a-z][a-z-]*[a-z]){0,2}")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|[^\sa-z0-9]")
# Words that make a poor blank on their own: generic, or part of how the notes talk rather than what they teach.
_GENERIC = frozenset("""
    able also another answer assignment back based best better bit case cases chapter class code course data different
    done each end example examples fact figure first following form get given going good great here idea image images
    important input instance just keep key kind know last let like line lot make makes many means mention much need
    network networks new next note notes number numbers one order output part parts people point post problem problems
    question questions read really right result results second section see session set show shown simple since slide
    something step steps take team thing things think three time times today top true try two type types understand
    use used using value values video want way ways well work works world write years
""".split())
# text lost in the export, or no subject; LaTeX, braces, code identifiers and paths left by the export
_BROKEN = re.compile(r"\s[.,;:)]|\(\s|^\w+ed\b|>>|<<|;.*;|\s-\s.*\s-\s|\s\w\.$|^(?:[\w-]+ ?){1,4}: "
                     r"|[\\{}_]|\(\)|\S/\S+/\S", re.IGNORECASE)
# Words that open a yake phrase cut out of a clause ("compute loss", "called kernels"): verbs and their forms.
_VERBS = frozenset("""
    add adding added allow allows apply applying applied based calculate calculating call called calls compute
    computing computed consider find finding found gave get gets getting give given gives learn learned learns
    known make makes making named need needs see seen show showing shows take takes taking train trains tried try
    trying use uses using used want work works
""".split())
# Words that open a clause; after a bare course term they show a heading glued to its text.
_CLAUSE_OPENERS = frozenset("here now we you i let's our the there this".split())
# A word after these is a verb; an -ing word after a form of "be" too. Adjectives end so.
_SUBJECTS = frozenset("we you they i can could will would should must may might cannot".split())
_FORMS_OF_BE = frozenset("am is are was were be been being".split())
_ADJECTIVE_ENDINGS = ("al", "ive", "ous", "able", "ible", "ic", "ary")
_CAPTION = re.compile(r"^(?:fig(?:ure)?\.?|image|source|table|photo|credit)s?\b|\bfig(?:ure)?\.? ?\d", re.IGNORECASE)
_DEFINITION = re.compile(
    r"^(?P<term>(?:(?:the|an?)\s+)?[A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,2}?"
    r"(?:\s+of\s+(?:the\s+)?[A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,2}?)?)(?:\s+\([^)]{1,60}\))?\s+"
    r"(?P<verb>is|are|refers to|means|stands for|helps to|help to|helps|is used to|are used to|allows|allow|consists of"
    r"|consist of|is composed of|are composed of|contains|was used to|were used to|is defined as)"
    r"\s+(?P<rest>.+?)\.?$", re.IGNORECASE
)
# a reason given for the clause before it; the clause becomes a "Why ...?" question
_CAUSE = re.compile(r",?\s\b(?:because|since|so that|in order to|to avoid|to prevent|due to)\b")
_AUXILIARIES = frozenset("is are was were can could will would should must may might does do has have".split())
_PLURAL_PRONOUNS = frozenset("we you they".split())
MAX_SUBJECT_WORDS = 6
_POINTER = re.compile(r"\b(?:this|these|those|it|that)\b", re.IGNORECASE)  # a question needs its own words
TOPIC_CHUNKS = 24  # a topic quiz draws on this many chunks the search finds (a summary reads fewer)
EXPANSION_MAX_WORDS = 8  # what an abbreviation stands for is a few words, not a line of the export run on
SHORT_WORDS = 60, 5  # a short-answer question may come from a longer or shorter sentence than a cloze
_LEADING_PHRASE = re.compile(r"^(?:In|For|With|At|During|On|Unlike|Like|After|Before|Typically|Generally|Usually)"
                             r"\b[^,]{0,60},\s+")
# a pointer at text around the sentence ("the above methods", "the following"): it does not stand alone in a quiz
_DEICTIC = re.compile(r"\b(?:above|below|following|aforementioned|previous(?:ly)?|earlier|latter|former)\b",
                      re.IGNORECASE)
# "X is a ...", not "X is fast"
_DEFINES = re.compile(r"(?:a|an|the|one of|to|for|responsible|designed|defined|how|when|where|whether)\s")
# "X is determined by Y": what X is determined by; the agent, source or material is the key
_PASSIVE = re.compile(r"(?P<participle>[a-z]+ed|[a-z]+en|known|made|built) (?P<prep>by|from|of|as|with|on) ")
_PREPOSITIONS = frozenset("to in on of at for from with into onto about over through".split())
_SUBORDINATORS = frozenset("since if when as while because although though unless once whereas".split())
_MODALS = frozenset("can could may might will would should must".split())
SUBJECT_RARITY = 5_000_000  # a question's subject names a course term or a word rarer than this in English
_QUESTION_OF = {"is": "What is {term}?", "are": "What are {term}?", "refers to": "What does {term} refer to?",
                "means": "What does {term} mean?", "helps to": "What does {term} help to do?",
                "help to": "What do {term} help to do?", "helps": "What does {term} help with?",
                "is used to": "What is {term} used to do?", "are used to": "What are {term} used to do?",
                "stands for": "What does {term} stand for?",
                "allows": "What does {term} allow?", "allow": "What do {term} allow?",
                "consists of": "What does {term} consist of?", "consist of": "What do {term} consist of?",
                "is composed of": "What is {term} composed of?", "are composed of": "What are {term} composed of?",
                "contains": "What does {term} contain?", "was used to": "What was {term} used to do?",
                "were used to": "What were {term} used to do?", "is defined as": "How is {term} defined?"}


@dataclass
class QuizItem:
    """One question, its answer key (a span of ``citation.text``), the distractors of a multiple choice
    question, its kind (cloze | mcq | short) and the chunk it comes from. ``choices``: answer and distractors in
    the order shown (mcq)."""

    question: str
    answer: str
    kind: str
    citation: Citation
    distractors: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    method: str = "extractive"

    @property
    def item_id(self) -> str:
        """A stable id (the same question from the same chunk always gets the same one)."""
        key = f"{self.kind}\n{self.citation.chunk_id}\n{self.question}\n{self.answer}"
        return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.item_id, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuizItem:
        values = {k: v for k, v in data.items() if k != "id"}
        return cls(**{**values, "citation": Citation(**values["citation"])})


@dataclass(frozen=True)
class CourseTerms:
    """The course vocabulary: lowercase terms, how many chunks use each, and their normalized embeddings."""

    terms: list[str]
    chunk_counts: list[int]
    vectors: np.ndarray
    total_chunks: int
    classes: list[frozenset[str]] = field(default_factory=list, compare=False)
    cased: list[str] = field(default_factory=list, compare=False)
    quantities: dict[tuple[str, str], list[Quantity]] = field(default_factory=dict, compare=False)

    def specificity(self, i: int) -> float:
        """Rarer terms and longer ones make better blanks (IDF, plus a bonus per extra word)."""
        idf = np.log((self.total_chunks + 1) / (self.chunk_counts[i] + 0.5))
        return float(idf * (1 + 0.25 * (self.terms[i].count(" "))))


_TERMS: weakref.WeakKeyDictionary[Any, CourseTerms] = weakref.WeakKeyDictionary()
_TERMS_LOCK = threading.Lock()


def course_terms(index: NotesIndex, cache_dir: Path | None = None) -> CourseTerms:
    """The course vocabulary of ``index``: built on first use (yake over the notes and one embedding per term, tens of
    seconds on a busy CPU), then kept in memory and in ``cache_dir`` (the settings' ``quiz_dir``), named after the
    index's fingerprint."""
    with _TERMS_LOCK:
        if index not in _TERMS:
            fingerprint = index.manifest.get("fingerprint", "")
            name = f"terms-v{TERMS_VERSION}-{fingerprint[:16]}.npz"
            cache = cache_dir / name if fingerprint and cache_dir is not None else None
            terms = _read_terms(cache) if cache is not None and cache.exists() else None
            if terms is None:
                terms = _build_terms(index)
                if cache is not None:
                    atomic_write_with(cache, lambda tmp: _write_terms(terms, tmp))
            _TERMS[index] = _typed(terms, index)
        return _TERMS[index]


def _typed(terms: CourseTerms, index: NotesIndex) -> CourseTerms:
    """``terms`` with what kind of thing each is (:func:`tools.wordclass.term_classes`), its form as the notes
    write it ("ResNet") and the notes' quantities by shape and unit (computed in well under a second)."""
    notes = notes_words(index)
    classes = term_classes(notes, terms.terms)
    forms = index.case_model.forms
    cased = [" ".join(forms.get(w, w) for w in t.split()) for t in terms.terms]
    numbers = quantities_of_notes([d.text for d in index.documents.values()], notes)
    return replace(terms, classes=[frozenset(classes[t]) for t in terms.terms], cased=cased, quantities=numbers)


def _write_terms(terms: CourseTerms, path: Path) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, terms=np.array(terms.terms, dtype=str), counts=np.array(terms.chunk_counts),
                 vectors=terms.vectors, total=np.array(terms.total_chunks))


def _read_terms(path: Path) -> CourseTerms | None:
    """The cached vocabulary, or None when the file cannot be read (it is then rebuilt)."""
    try:
        with np.load(path) as data:
            return CourseTerms([str(t) for t in data["terms"]], [int(c) for c in data["counts"]],
                               data["vectors"].astype(np.float32), int(data["total"]))
    except (OSError, ValueError, KeyError):
        return None


def _build_terms(index: NotesIndex) -> CourseTerms:
    import yake

    extractor = yake.KeywordExtractor(lan="en", n=3, top=KEYPHRASES_PER_DOCUMENT, dedupLim=0.9)
    found: set[str] = set()
    for document in index.documents.values():
        for phrase, _ in extractor.extract_keywords(document.text):
            phrase = " ".join(phrase.lower().split())
            if is_term_like(phrase):
                found.add(phrase)
    padded = [_padded(c.text) for c in index.chunks]
    counts = Counter({t: sum(f" {t} " in p for p in padded) for t in found})
    limit = max(MIN_TERM_CHUNKS, MAX_TERM_SHARE * len(index.chunks))
    corpus = " ".join(padded)
    latex = {m.lower() for d in index.documents.values() for m in re.findall(r"\\([A-Za-z]+)", d.text)}
    kept = [t for t, n in counts.items() if MIN_TERM_CHUNKS <= n <= limit and not _is_fragment(t, corpus)
            and not latex & set(t.split())]
    words = set(index.vocabulary())
    terms = sorted(t for t in kept if not _is_truncation(t, words))
    vectors = index.embed(terms) if terms else np.zeros((0, 1), dtype=np.float32)
    return CourseTerms(terms, [counts[t] for t in terms], vectors, len(index.chunks))


def is_term_like(phrase: str) -> bool:
    """Whether a keyphrase can name a course concept: letters only, no stop word inside, not generic, not an
    everyday English word on its own ("including", "efficient"), not opening with a verb nor ending in an adverb
    or a participle ("compute loss", "called kernels", "trained fast")."""
    from bm25s.stopwords import STOPWORDS_EN

    words = phrase.split()
    if not _TERM.fullmatch(phrase) or any(w in STOPWORDS_EN for w in words) or all(w in _GENERIC for w in words):
        return False
    if words[0] in _VERBS or words[-1] in _VERBS or words[-1].endswith(("ly", "ed")):
        return False
    return len(words) > 1 or english_word_counts().get(phrase, 0) < EVERYDAY_COUNT


def _padded(text: str) -> str:
    """Lowercase words between spaces, with a ``|`` where punctuation was (a phrase never spans a full stop)."""
    return f" {' '.join(w if w[0].isalnum() else '|' for w in _WORD.findall(text.lower()))} "


def _is_truncation(term: str, words: set[str]) -> bool:
    """A one-word term that is the clipped form of a longer word of the notes (``CLIP_MIN_CUT`` letters more), not
    one of its inflections or derivations: "repo" (repository), "vocab" (vocabulary), "conv" (convolution);
    "token" of "tokenizer" is no truncation."""
    return " " not in term and len(term) >= CLIP_MIN_LETTERS and any(
        len(w) >= len(term) + CLIP_MIN_CUT and w.startswith(term) and _stem(w) != _stem(term) for w in words)


def _is_fragment(term: str, corpus: str) -> bool:
    """A phrase nearly always followed or preceded by the same word: "convolutional neural" (network) and
    "large receptive" (field or fields) are cut out of longer terms; "average pooling" is a term of its own."""
    total = corpus.count(f" {term} ")
    for pattern in (rf" {re.escape(term)} ([a-z][\w-]*)", rf"([a-z][\w-]*) {re.escape(term)} "):
        neighbours = Counter(_stem(word) for word in re.findall(pattern, corpus))
        if neighbours and neighbours.most_common(1)[0][1] >= FRAGMENT_SHARE * total:
            return True
    return False


# ----------------------------------------------------------------------------------------------- generation
def generate_quiz(
    index: NotesIndex,
    *,
    doc_id: str | None = None,
    session: int | None = None,
    topic: str | None = None,
    n: int = 10,
    kind: str = "cloze",
    model: Model | None = None,
    prompts_path: Path | None = None,
    cache_dir: Path | None = None,
) -> list[QuizItem]:
    """Up to ``n`` distinct questions of ``kind`` on one source (a document, a session, a topic; all the notes
    when none is given), spread over its documents. With ``model`` (and ``prompts_path``), see :func:`model_quiz`;
    ``cache_dir``: where the course vocabulary is kept (:func:`course_terms`)."""
    if kind not in QUIZ_KINDS:
        raise CoursemateError(f"unknown quiz kind {kind!r}; choose one of {', '.join(QUIZ_KINDS)}")
    if not 1 <= n <= MAX_ITEMS:
        raise CoursemateError(f"the number of questions must be between 1 and {MAX_ITEMS}; got {n}")
    groups = source_groups(index, doc_id=doc_id, session=session, topic=topic)
    if model is not None:
        return model_quiz(index, [c for g in groups for c in g], model, n=n, kind=kind, prompts_path=prompts_path).items
    query = index.embed([topic])[0] if topic is not None else None
    terms = course_terms(index, cache_dir)
    per_group = [_items_of(index, chunks, kind, query, terms) for chunks in groups]
    items, seen = [], set()
    for round_ in _round_robin(per_group):
        for item in round_:
            question, answer = item.question.lower(), "answer: " + item.answer.lower()
            if question in seen or answer in seen:
                continue
            seen.update({question, answer})
            items.append(item)
            if len(items) == n:
                return items
    if not items:
        raise CoursemateError(f"no {kind} question could be made from this source; try another kind or source")
    return items


def source_groups(index: NotesIndex, *, doc_id: str | None = None, session: int | None = None,
                  topic: str | None = None) -> list[list[Chunk]]:
    """The source's chunks, one group per document (a topic: one group, its ``TOPIC_CHUNKS`` best chunks in
    relevance order)."""
    chosen = [name for name, value in (("doc_id", doc_id), ("session", session), ("topic", topic)) if value is not None]
    if len(chosen) > 1:
        raise CoursemateError(f"give at most one source (doc_id, session or topic); got {', '.join(chosen)}")
    if topic is not None:
        source_chunks(index, topic=topic)  # the error for an empty topic
        return [[hit.chunk for hit in index.search(topic, k=TOPIC_CHUNKS)]]
    chunks = source_chunks(index, doc_id=doc_id, session=session) if chosen else list(index.chunks)
    groups: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        groups.setdefault(chunk.doc_id, []).append(chunk)
    return list(groups.values())


def _round_robin(lists: list[list[QuizItem]]):
    """The first item of every list, then the second of every list, ..."""
    for depth in range(max((len(x) for x in lists), default=0)):
        yield [x[depth] for x in lists if depth < len(x)]


def key_sentences(index: NotesIndex, chunks: list[Chunk], query: np.ndarray | None = None) -> list[tuple[str, int]]:
    """The standalone prose sentences and whole list items of ``chunks`` that read well alone
    (:func:`tools.summarize.reads_well`, no pointer at other text: "the above methods") as ``(text, chunk
    position)``, most central and least redundant first (centrality to the centroid, pulled towards ``query``, then
    maximal marginal relevance)."""
    candidates, vectors = candidates_of(chunks, index.chunk_sentences)
    notes = notes_words(index)
    keep = [i for i, c in enumerate(candidates)
            if c.kind in ("prose", "list") and not c.issue and reads_well(c.text, notes)
            and not _DEICTIC.search(c.text)]
    if not keep:
        return []
    candidates, vectors = [candidates[i] for i in keep], vectors[keep]
    reference = vectors.mean(axis=0) + (query if query is not None else 0)
    relevance = vectors @ (reference / (np.linalg.norm(reference) or 1.0))
    lengths = [len(c.text.split()) for c in candidates]
    order = mmr_within_budget(vectors, relevance, lengths, sum(lengths))
    return [(candidates[i].text, candidates[i].source) for i in order]


def is_question_material(sentence: str, max_words: int = MAX_WORDS, min_words: int = MIN_WORDS) -> bool:
    """A sentence a student can answer out of context: a full sentence of a sensible length that opens with a
    capital (a lowercase opening is a line of the export, not a sentence), not a caption, a list of results, a
    question or a sentence that points back ("This ...", "However ...")."""
    words = sentence.split()
    digits = sum(any(ch.isdigit() for ch in w) for w in words)
    return (min_words <= len(words) <= max_words and sentence[:1].isupper() and sentence.endswith(".")
            and not points_back(sentence) and not _CAPTION.search(sentence) and not _BROKEN.search(sentence)
            and "http" not in sentence
            and sentence.count(":") <= 1 and digits <= 0.1 * len(words) and "?" not in sentence
            and sentence.count("(") == sentence.count(")"))


def _items_of(index: NotesIndex, chunks: list[Chunk], kind: str, query: np.ndarray | None,
              terms: CourseTerms) -> list[QuizItem]:
    """Every question of ``kind`` that the key sentences of ``chunks`` give, best first."""
    lookup = {t: i for i, t in enumerate(terms.terms)}
    notes = notes_words(index)
    items = []
    for sentence, source in key_sentences(index, chunks, query):
        if not is_question_material(sentence, *(SHORT_WORDS if kind == "short" else (MAX_WORDS, MIN_WORDS))) \
                or opens_with_heading(sentence, lookup):
            continue
        chunk = chunks[source]
        item = (_short_item(sentence, chunk, lookup, notes) if kind == "short"
                else _cloze_item(sentence, chunk, terms, lookup, kind, notes))
        if item is not None:
            items.append(item)
    return items


def opens_with_heading(sentence: str, lookup: dict[str, int]) -> bool:
    """Whether ``sentence`` is a heading glued to its text by the export: a course term straight followed by
    the start of a clause ("Receptive field here we see our first layer as a 5x5 image.", "Self attention the
    self-attention mechanism is ..."), or a repeated first word."""
    words = sentence.lower().split()
    if len(words) > 1 and words[0] == words[1].strip("(,"):  # "Gpt gpt (generative pre-trained transformer) is"
        return True
    heads = (" ".join(words[:k]) for k in range(1, min(4, len(words))) if words[k] in _CLAUSE_OPENERS)
    return any(head in lookup or head.replace(" ", "-") in lookup for head in heads)


def _term_spans(sentence: str, lookup: dict[str, int]) -> list[tuple[int, int, int]]:
    """``(start, end, term)`` of the course terms in ``sentence`` (longest first where they overlap)."""
    lower = sentence.lower()
    spans = []
    for match in re.finditer(r"[a-z][a-z-]*[a-z]", lower):
        for size in (3, 2, 1):
            words = list(re.finditer(r"[a-z][a-z-]*[a-z]|\S", lower[match.start():]))[:size]
            if len(words) < size:
                continue
            end = match.start() + words[-1].end()
            phrase = lower[match.start():end]
            if phrase in lookup and not _inside_word(lower, match.start(), end):
                spans.append((match.start(), end, lookup[phrase]))
                break
    return spans


def is_misfit_blank(sentence: str, start: int, end: int) -> bool:
    """Whether the one word ``sentence[start:end]`` makes a poor blank where it stands: a verb ("We _____ it
    randomly", "we are _____ over a spot") or an adjective cut from the noun it qualifies ("_____ encodings",
    "a _____ module")."""
    word = sentence[start:end].lower()
    if " " in word:
        return False
    before = sentence[:start].lower().split()[-1:]
    if before and (before[0] in _SUBJECTS or (before[0] in _FORMS_OF_BE and word.endswith("ing"))):
        return True
    return word.endswith(_ADJECTIVE_ENDINGS) and bool(re.match(r"[\"'”’]? [\"'“‘]?[A-Za-z]", sentence[end:]))


def _inside_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is part of a longer word ("gpt" of "gpt-4", "conv" of "5conv")."""
    return (start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-'")) or (
        end < len(text) and (text[end].isalnum() or text[end] in "-'"))


def _cloze_item(sentence: str, chunk: Chunk, terms: CourseTerms, lookup: dict[str, int], kind: str,
                notes: NotesWords) -> QuizItem | None:
    """The sentence with its most specific course term blanked (every occurrence); mcq adds distractors of the
    key's kind, from the most specific term that has three, else from a number of the sentence (a number for a
    number, of the same shape and unit)."""
    found = _term_spans(sentence, lookup)
    spans = [s for s in found if not any(o != s and o[0] < s[1] and s[0] < o[1] for o in found)
             and sentence[s[0] - 1:s[0]] != "(" and sentence[s[1]:s[1] + 2] not in (":", ")", " (")
             and not is_misfit_blank(sentence, s[0], s[1])]
    citation = Citation.of(1, chunk)
    for term in sorted({s[2] for s in spans}, key=lambda i: (terms.specificity(i), terms.terms[i]), reverse=True):
        start, end, _ = next(s for s in spans if s[2] == term)
        answer = sentence[start:end]
        if not in_text(answer, chunk.text):  # the key must be a span of the cited chunk
            continue
        question = re.sub(rf"(?<![\w'-]){re.escape(answer)}(?![\w'-])", BLANK, sentence, flags=re.IGNORECASE)
        if BLANK not in question:
            continue
        if kind == "cloze":
            return QuizItem(question, answer, "cloze", citation)
        distractors = sibling_terms(terms, term, question)
        if len(distractors) == DISTRACTORS:
            return _mcq(question, answer, _as_written(distractors, question), citation)
    return _number_item(sentence, chunk, terms, notes) if kind == "mcq" else None


def _mcq(question: str, answer: str, distractors: list[str], citation: Citation) -> QuizItem:
    return QuizItem(question, answer, "mcq", citation, distractors, _shuffled([answer, *distractors], question))


def _as_written(distractors: list[str], question: str) -> list[str]:
    """Distractors as the blank shows them: capitalized when the blank opens the sentence."""
    if question.startswith(BLANK):
        return [d[:1].upper() + d[1:] for d in distractors]
    return distractors


def sibling_terms(terms: CourseTerms, term: int, question: str = "", k: int = DISTRACTORS) -> list[str]:
    """Up to ``k`` course terms of the kind of ``terms.terms[term]`` (a class the notes put both in, see
    :func:`tools.wordclass.term_classes`), closest embedding neighbours first, as the notes write them; never
    synonyms (too close), abbreviations, parts of it or of each other, nor words of ``question``; singular for a
    singular key, plural for a plural one."""
    kinds = terms.classes[term]
    similarity = terms.vectors @ terms.vectors[term]
    chosen: list[int] = []
    for j in np.argsort(-similarity):
        if len(chosen) == k or similarity[j] < SIBLING_MIN:
            break
        candidate = terms.terms[j]
        if (not kinds & terms.classes[j] or _is_plural(candidate) != _is_plural(terms.terms[term])
                or similarity[j] >= SYNONYM_MIN or candidate.lower() in question.lower()
                or any(_related(candidate, terms.terms[o]) or float(terms.vectors[o] @ terms.vectors[j]) >= SYNONYM_MIN
                       for o in (term, *chosen))):
            continue
        chosen.append(int(j))
    return [terms.cased[j] for j in chosen]


def _is_plural(term: str) -> bool:
    return term.endswith("s") and not term.endswith("ss")


def _number_item(sentence: str, chunk: Chunk, terms: CourseTerms, notes: NotesWords) -> QuizItem | None:
    """A multiple choice question on the first number of the sentence that stands on its own ("AlexNet contains
    _____ convolutional layers."), its distractors numbers of the same shape and unit."""
    for start, end, quantity in quantities(sentence, notes):
        answer = sentence[start:end]
        if in_text(answer, chunk.text):
            question = sentence[:start] + BLANK + sentence[end:]
            distractors = number_distractors(quantity, terms.quantities.get(quantity.kind, []), question)
            if len(distractors) < DISTRACTORS:
                return None
            return _mcq(question, answer, _as_written(distractors, question), Citation.of(1, chunk))
    return None


def number_distractors(key: Quantity, known: list[Quantity], question: str = "", k: int = DISTRACTORS) -> list[str]:
    """``k`` numbers of the key's shape and unit: the notes' own ones (``known``) nearest in size first, then
    numbers made from the key (doubled, halved, its neighbours) in its format; none that ``question`` shows."""
    others = sorted((q for q in known if q.value != key.value), key=lambda q: abs(math.log1p(q.value)
                                                                                 - math.log1p(key.value)))
    chosen: dict[float, str] = {}
    for value, text in [*((q.value, q.text) for q in others), *_made_numbers(key)]:
        if len(chosen) < k and value != key.value and value > 0 and value not in chosen \
                and text.lower() not in question.lower():
            chosen[value] = text
    return list(chosen.values())


def _made_numbers(key: Quantity) -> list[tuple[float, str]]:
    """Numbers near ``key``, written in its format ("3x3": "5x5", "1x1", ...; "five": "four", "six")."""
    v = key.value
    if key.shape == "word":
        near = sorted(range(2, len(NUMBER_WORDS) + 2), key=lambda w: abs(w - v))
        return [(float(w), NUMBER_WORDS[w - 2]) for w in near]
    steps = {"year": (v + 1, v - 1, v + 2, v - 2), "decimal": (v * 10, v / 10, v * 2, v / 2),
             "percent": (v + 10, v - 10, v * 2, v / 2)}.get(key.shape, (v * 2, v / 2, v + 2, v - 2, v * 4))
    return [(w, _written_like(key, w)) for w in steps if w > 0 and (key.shape == "decimal" or w == int(w))]


def _written_like(key: Quantity, value: float) -> str:
    """``value`` in the format of ``key`` ("3x3" -> "5x5", "50%" -> "60%", "0.01" -> "0.001")."""
    number = f"{value:g}" if key.shape == "decimal" else str(int(value))
    if key.shape.startswith("dims"):  # the sides equal to the first change with it: "224x224x3" -> "448x448x3"
        sides = key.text.lower().split("x")
        return "x".join(number if side == sides[0] else side for side in sides)
    return number + "%" if key.shape == "percent" else number


def _related(a: str, b: str) -> bool:
    """Whether two terms name the same thing in other words: one holds the other (as text, "cnn" and "traditional
    cnns", or as words in any inflection: "strides", "max-pool"), they differ by a suffix ("sequence",
    "sequential"), one abbreviates the other ("bn", "batch normalization"; "cnn", "convolutional network"; "repo",
    "git repository"), or they share a word that is not their head word ("model size", "model capacity"; "layer
    normalization" and "batch normalization" share their head: siblings)."""
    sa, sb = _stems(a), _stems(b)
    joined = lambda term: re.sub(r"[ -]", "", term)  # noqa: E731
    if a in b or b in a or sa <= sb or sb <= sa or joined(a) == joined(b) or (
            " " not in a and " " not in b and a[:PREFIX] == b[:PREFIX]):
        return True
    short, long_ = sorted((a, b), key=len)
    words = re.split(r"[ -]", long_)
    if " " not in short and any(w != short and w.startswith(short) for w in words):
        return True  # "repo" of "git repository", "conv" of "conv layer"
    if " " in a and " " in b and sa & sb and _stem(a.split()[-1]) != _stem(b.split()[-1]):
        return True  # a shared word that is not the head: "model size" and "model capacity" are one notion
    initials, acronym = "".join(w[0] for w in words), joined(short).removesuffix("s")
    return len(words) > 1 and " " not in short and len(acronym) > 1 and (
        acronym.startswith(initials) or initials.startswith(acronym))  # "cnn", "convolutional network"


@functools.cache
def _stems(term: str) -> frozenset[str]:
    """The Snowball stems of a term's words (hyphenated parts apart), as the BM25 tokenizer stems them."""
    return frozenset(_stem(word) for word in re.findall(r"[a-z]+", term.lower()))


def _shuffled(choices: list[str], seed: str) -> list[str]:
    """``choices`` in an order fixed by ``seed`` (the same question always shows the same order)."""
    rng = np.random.default_rng(int(hashlib.sha1(seed.encode("utf-8")).hexdigest()[:8], 16))
    return [choices[i] for i in rng.permutation(len(choices))]


def _short_item(sentence: str, chunk: Chunk, lookup: dict[str, int], notes: NotesWords) -> QuizItem | None:
    """A short-answer question from a definition ("X is a ...": "What is X?") or a cause ("X is used because Y":
    "Why is X used?"); the rest of the sentence, a span of the chunk, is the key."""
    statement = _LEADING_PHRASE.sub("", sentence)  # "In deep learning, dropout is ..." -> "dropout is ..."
    return (_definition_item(statement, chunk, lookup, notes) or _cause_item(statement, chunk, lookup, notes)
            or _action_item(statement, chunk, lookup, notes))


def _action_item(sentence: str, chunk: Chunk, lookup: dict[str, int], notes: NotesWords) -> QuizItem | None:
    """"What does X reduce?" from "X reduces Y ..." ("What do Xs ...?" from "Xs reduce Y ...", "What can X
    ...?" from "X can ..."): a course term or noun phrase doing what the notes say it does; the object and the rest
    of the sentence are the key. A preposition after the verb goes with it ("What do larger receptive fields lead
    to?"); "X learns by Y" asks how ("How does X learn?", the key keeps its "by"); an adverb between the subject
    and the verb is left out ("X generally requires Y": "What does X require?")."""
    words = sentence.rstrip(".").split()
    for k in range(1, min(len(words) - 3, MAX_SUBJECT_WORDS + 1)):
        at = k + 1 if words[k].endswith("ly") and words[k].islower() else k  # "X generally requires Y"
        subject, modal = " ".join(words[:k]), words[at].lower() if words[at].lower() in _MODALS else ""
        verb = words[at + 1].lower() if modal else words[at].lower()
        singular = not modal and verb.endswith("s") and notes.is_verb(_base(verb))
        plural = not modal and subject.endswith("s") and not verb.endswith("s") and notes.is_verb(verb)
        if (singular or plural or (modal and notes.is_verb(verb))) and verb not in _AUXILIARIES | {"be"} \
                and _is_subject(subject, lookup, notes):
            does, base = (modal, verb) if modal else ("does", _base(verb)) if singular else ("do", verb)
            rest = words[at + 2 if modal else at + 1:]
            return _action_question(does, _mid_sentence(subject), base, rest, chunk, notes)
        if not re.fullmatch(r"[A-Za-z][\w-]*", words[k]):
            return None
    return None


def _action_question(does: str, subject: str, verb: str, rest: list[str], chunk: Chunk,
                     notes: NotesWords) -> QuizItem | None:
    """"What <does> <subject> <verb> [preposition]?" or "How <does> <subject> <verb>?" with the rest as its key."""
    first = rest[0].lower() if rest else ""
    if first == "by":
        question, answer = f"How {does} {subject} {verb}?", " ".join(rest)
    elif first == "to" and len(rest) > 1 and notes.is_verb(rest[1]):  # "X tries to create ...": what X tries to do
        question, answer = f"What {does} {subject} {verb} to do?", " ".join(rest[1:])
    elif first in _PREPOSITIONS and len(rest) > 1 and (first != "to" or _opens_noun_phrase(rest[1])):
        question, answer = f"What {does} {subject} {verb} {first}?", " ".join(rest[1:])
    else:
        question, answer = f"What {does} {subject} {verb}?", " ".join(rest)
    if not _is_object(answer.removeprefix("by ")) or not in_text(answer, chunk.text):
        return None
    return QuizItem(question, answer, "short", Citation.of(1, chunk))


def _opens_noun_phrase(word: str) -> bool:
    """Whether ``word`` after "to" opens a noun phrase (an article, a plural), so "to" goes with the verb before it
    ("lead to neurons that ..."), not an infinitive the notes misspelled ("attempt to descent")."""
    word = word.lower()
    return word in ("the", "a", "an") or (word.endswith("s") and not word.endswith("ss") and word.isalpha())


def _is_object(answer: str) -> bool:
    """Whether ``answer`` reads as what a verb acts on: four words or more, opening with an article or a content
    word, not with a preposition or a participle ("by comparing ...", "multiplied by ...")."""
    first = answer.split()[0].lower() if answer.split() else ""
    return len(answer.split()) >= 4 and not first.endswith("ed") and (
        first in ("the", "a", "an") or not is_function_word(first))


def _definition_item(sentence: str, chunk: Chunk, lookup: dict[str, int], notes: NotesWords) -> QuizItem | None:
    """"What is X?" from "X is a ...", "What does X help to do?" from "X helps to ...", and the like."""
    match = _DEFINITION.match(sentence)
    if not match:
        return None
    term, answer, verb = match.group("term"), match.group("rest").strip(), match.group("verb").lower()
    question = _QUESTION_OF[verb]
    passive = _PASSIVE.match(answer) if verb in ("is", "are") else None
    if verb in ("is", "are") and re.match(r"used (?:to|for) ", answer):  # "X is used to ...": what for
        question, answer = f"What {verb} {{term}} used for?", answer.removeprefix("used ")
    elif passive and passive.group("participle") != "used":  # "X is determined by Y": what by
        question, answer = f"What {verb} {{term}} {passive.group()}".rstrip() + "?", answer[passive.end():]
    expansion = verb == "stands for"  # "Adam stands for adaptive moment estimation": a name and a few words
    sized = 2 <= len(answer.split()) <= EXPANSION_MAX_WORDS if expansion else len(answer.split()) >= 4
    named = _is_subject(term, lookup, notes) or _is_name(term, notes) or (expansion and _is_word_of(term, notes))
    if (not named or not sized or not in_text(answer, chunk.text)
            or (verb in ("is", "are") and not passive and not _DEFINES.match(answer))):
        return None
    question = question.format(term=term if expansion else _mid_sentence(term))  # "What does Adam stand for?"
    return QuizItem(question, answer, "short", Citation.of(1, chunk))


def _cause_item(sentence: str, chunk: Chunk, lookup: dict[str, int], notes: NotesWords) -> QuizItem | None:
    """"Why does X ...?" from "X ... because / so that / in order to / to avoid Y": the reason is the key."""
    match = _CAUSE.search(sentence)
    if not match:
        return None
    clause, answer = sentence[:match.start()].rstrip(" ,"), sentence[match.start():].strip().rstrip(".")
    question = _why_question(clause, lookup, notes)
    if question is None or len(answer.split()) < 4 or not in_text(answer, chunk.text):
        return None
    return QuizItem(question, answer, "short", Citation.of(1, chunk))


def _why_question(clause: str, lookup: dict[str, int], notes: NotesWords) -> str | None:
    """"Why ...?" of a statement "Subject verb rest": the auxiliary moved before the subject ("Why is X ...?"),
    else "do"/"does" added ("Why do we use X?", "Why does X reduce Y?"); None when the clause has no such shape."""
    words = clause.split()
    if _POINTER.search(clause) or words[-1:] in (["and"], ["or"], ["but"]):  # "Why are we choosing this one ..."
        return None
    for k, word in enumerate(words[:MAX_SUBJECT_WORDS + 1]):
        lower = word.lower()
        subject = " ".join(words[:k])
        if k and lower in _AUXILIARIES and _is_subject(subject, lookup, notes, pronouns=True):
            rest = " ".join(words[k + 1:])
            return f"Why {lower} {_mid_sentence(subject)}{' ' + rest if rest else ''}?" if rest else None
        if k and lower.endswith("s") and _is_subject(subject, lookup, notes) and notes.is_verb(_base(lower)):
            return f"Why does {_mid_sentence(subject)} {_base(lower)} {' '.join(words[k + 1:])}".rstrip() + "?"
        if k == 1 and subject.lower() in _PLURAL_PRONOUNS and notes.is_verb(lower):
            return f"Why do {subject.lower()} {' '.join(words[1:])}?"
    return None


def _base(verb: str) -> str:
    """The base form of a third-person verb ("reduces" -> "reduce", "carries" -> "carry", "helps" -> "help")."""
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if verb.endswith(("sses", "shes", "ches", "xes", "zes")):
        return verb[:-2]
    return verb[:-1]


def _is_subject(phrase: str, lookup: dict[str, int], notes: NotesWords, pronouns: bool = False) -> bool:
    """Whether ``phrase`` can be asked about: a course term, or a noun phrase of the notes (optionally after an
    article), not a pointer ("this", "it"), a clause ("since ...") or generic words only, and specific
    (:func:`_is_specific`); ``pronouns``: "we"/"you" too."""
    words = [w for w in re.findall(r"[A-Za-z][\w'-]*", phrase.lower())]
    if not words or len(words) > MAX_SUBJECT_WORDS or points_back(phrase + " "):
        return False
    if pronouns and len(words) == 1 and words[0] in _PLURAL_PRONOUNS:
        return True
    core = tuple(words[1:] if words[0] in ("the", "a", "an") else words)
    if not core or core[0] in _SUBORDINATORS or all(w in _GENERIC for w in core) or any(
            w != "of" and (is_function_word(w) or w in _PLURAL_PRONOUNS) for w in core):
        return False
    named = " ".join(core) in lookup or notes.is_noun_phrase(core) or (names_a_thing(notes, core) and bool(
        notes.uses(core)))
    return named and _is_specific(core, lookup, notes)


def _is_name(term: str, notes: NotesWords) -> bool:
    """Whether ``term`` is one word of the notes written as a name, with capitals inside it ("RoBERTa", "DistilBERT",
    "GPT")."""
    return bool(re.fullmatch(r"[A-Z][A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*", term)) and _is_word_of(term, notes)


def _is_word_of(term: str, notes: NotesWords) -> bool:
    """Whether ``term`` is one capitalized word that the notes use ("Adam" in "Adam stands for ...")."""
    return bool(re.fullmatch(r"[A-Z][A-Za-z0-9-]*", term)) and bool(notes.at.get(term.lower()))


def _is_specific(words: tuple[str, ...], lookup: dict[str, int], notes: NotesWords) -> bool:
    """Whether a subject says what it is about: it holds a course term, or a word of the notes (used twice at
    least, not a typo) that is rare in English ("dropout", not "the final step")."""
    phrases = (" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1))
    return any(p in lookup for p in phrases) or any(
        english_count(w) < SUBJECT_RARITY and len(notes.at.get(w, [])) >= 2 for w in words)


def _mid_sentence(phrase: str) -> str:
    """``phrase`` as written inside a sentence: its first word lowercased unless it is a name ("ResNet", "BERT"),
    and then its other capitalized words too ("Max Pooling layers": "max pooling layers")."""
    words = phrase.split()
    if words[0].lower() in ("the", "a", "an") or _is_capitalized(words[0]):
        words = [w.lower() if i == 0 or _is_capitalized(w) else w for i, w in enumerate(words)]
    return " ".join(words)


def _is_capitalized(word: str) -> bool:
    """A capital first letter only ("Pooling"), not a name written with more ("ResNet", "BERT", "Multi-Agent" is)."""
    return word[:1].isupper() and word[1:] == word[1:].lower()


def in_text(span: str, text: str) -> bool:
    """Whether ``span`` (a piece of a cleaned, truecased sentence) is in ``text`` (a chunk as exported): letters
    and digits compared case-insensitively, spaces and emphasis ignored."""
    return _letters(span) in _letters(text)


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def question_without_answer(item: QuizItem) -> str:
    """The question as a student sees it before answering, with the blank (and no answer) in it removed."""
    return " ".join(item.question.replace(BLANK, " ").split())


# ----------------------------------------------------------------------------------------------- with a model
QUESTIONS_PER_CALL = 2


@dataclass
class ModelQuiz:
    """Questions written by a language model and kept because their chunk supports their answer; ``dropped``
    counts the others (unsupported answer, malformed question)."""

    items: list[QuizItem]
    dropped: int
    calls: int


def model_quiz(index: NotesIndex, chunks: list[Chunk], model: Model, *, n: int = 10, kind: str = "cloze",
               prompts_path: Path | None = None) -> ModelQuiz:
    """Ask ``model`` for questions about the source's most central chunks, one chunk per call, until ``n`` are
    kept. A question is kept only if its chunk supports it, its answer filled in (:func:`supported`). The prompt
    is ``quiz_write`` of :mod:`coursemate.prompts` (``prompts_path``, the settings', may override it)."""
    prompts = load_prompts(prompts_path)
    kept: list[QuizItem] = []
    dropped = calls = 0
    seen: set[str] = set()
    for chunk in central_chunks(index, chunks):
        if len(kept) >= n:
            break
        prompt = prompts.format("quiz_write", n=QUESTIONS_PER_CALL, rule=prompts.format(f"quiz_rule_{kind}"),
                                passage=format_passage(Passage(1, chunk)))
        calls += 1
        for raw in _parse_questions(ask_model(model, prompt, "write questions")):
            item = _model_item(raw, chunk, kind)
            if item is None or not supported(index, item) or item.question.lower() in seen:
                dropped += 1
                continue
            seen.add(item.question.lower())
            kept.append(item)
    return ModelQuiz(kept[:n], dropped, calls)


def central_chunks(index: NotesIndex, chunks: list[Chunk]) -> list[Chunk]:
    """``chunks`` in the order of their best key sentence (see :func:`key_sentences`)."""
    order = list(dict.fromkeys(source for _, source in key_sentences(index, chunks)))
    return [chunks[i] for i in order]


def claim_of(item: QuizItem) -> str:
    """What the question says once answered: the blank filled in, or the question followed by its answer."""
    return item.question.replace(BLANK, item.answer) if BLANK in item.question else f"{item.question} {item.answer}"


def supported(index: NotesIndex, item: QuizItem) -> bool:
    """Whether the cited chunk supports the answered question (the check of generated answers, grounding/verify.py)."""
    from coursemate.tools.grounding.verify import support_scores

    chunk = Chunk(item.citation.chunk_id, item.citation.doc_id, item.citation.title, item.citation.section, "",
                  item.citation.text, 0, len(item.citation.text))
    return bool(support_scores(index, [claim_of(item)], [Passage(1, chunk)])[0, 0] > 0)


def _parse_questions(reply: str) -> list[dict[str, Any]]:
    """The JSON list of question objects in ``reply`` (a model may wrap it in prose or a code fence)."""
    start, end = reply.find("["), reply.rfind("]")
    try:
        value = json.loads(reply[start:end + 1]) if 0 <= start < end else []
    except ValueError:
        return []
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _model_item(raw: dict[str, Any], chunk: Chunk, kind: str) -> QuizItem | None:
    """A well-formed item of ``kind`` from one question object, or None."""
    question, answer = str(raw.get("question", "")).strip(), str(raw.get("answer", "")).strip()
    distractors = [str(d).strip() for d in raw.get("distractors") or [] if str(d).strip()]
    if not question or not answer or (kind != "short" and BLANK not in question):
        return None
    citation = Citation.of(1, chunk)
    if kind != "mcq":
        return QuizItem(question, answer, kind, citation, method="llm")
    distractors = [d for d in dict.fromkeys(distractors) if d.lower() != answer.lower()][:DISTRACTORS]
    if len(distractors) < DISTRACTORS:
        return None
    return QuizItem(question, answer, kind, citation, distractors, _shuffled([answer, *distractors], question), "llm")
