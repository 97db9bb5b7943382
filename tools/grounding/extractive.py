"""Extractive answers composed for the question asked, shared selection helpers for summaries and quizzes.

Sentences come split, typed and embedded from the index (:meth:`retrieval.NotesIndex.chunk_sentences`), so
choosing them costs a few matrix products, never a model call per sentence. :func:`extractive_answer` reads the
question's type and focus (:mod:`.questions`), leads with the one standalone sentence that answers that type
for the focus (a number for "how many", "X is ..." for "what is X", both sides for a comparison, a cause for
"why", a name for "who"), and adds at most two supporting sentences of the same passage or topic (one that points
back, "It is used in ...", only right after the sentence it points back to): at most 90 words (a short answer
is not padded: a blind grader reads padding as filler), no table row, code line, figure pointer or sentence over
60 words, nothing said twice. A list question gets the lead-in with its list.
:func:`mmr_within_budget` picks relevant, non-redundant sentences within a word budget (summaries, quizzes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from coursemate.retrieval.notetext import comes_from, refers_back_in_opening, word_count
from coursemate.retrieval.types import Chunk
from coursemate.tools.grounding.citations import Citation, Passage, strip_markers
from coursemate.tools.grounding.questions import Question, analyze

if TYPE_CHECKING:
    from coursemate.retrieval import NotesIndex

__all__ = ["Candidate", "candidates_of", "extractive_answer", "mmr_within_budget", "term_overlap", "with_marker"]

MMR_LAMBDA = 0.7  # weight of relevance against redundancy with sentences already chosen
ANSWER_MAX_WORDS = 90
MAX_SUPPORTING = 2
PASSAGE_WEIGHT = 0.2  # bonus of a sentence by its passage's search rank: 1/(1 + rank) (dev split)
FOCUS_WEIGHT = 0.0  # bonus of a sentence that names the question's focus term (dev split)
TERM_WEIGHT = 0.5  # weight of query-term overlap beside the embedding cosine (dev split)
TYPE_WEIGHT = 0.15  # bonus of a sentence that has what the question's type asks for (dev split)
SUPPORT_RELATIVE = 0.6  # a supporting sentence is at least this close to the lead's relevance (dev split)
LEAD_MIN_OVERLAP = 0.25  # the lead holds at least this share of the question's terms when any sentence does
SUPPORT_MIN_OVERLAP = 0.2  # ... and holds at least this share of the question's terms (IDF-weighted): no padding
OTHER_PASSAGE_RELATIVE = 0.75  # ... and this close when it comes from another passage than the lead's
FRESH_RELATIVE = 0.8  # a follow-up's new sentences are preferred when this close to the repeated ones (dev split)
REDUNDANT = 0.85  # a sentence this similar to a chosen one says the same thing
USABLE = ("", "back-reference")  # the issues an answer sentence may have (a back-reference only after its antecedent)
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|hundred|thousand|million|"
                     r"billion|half|twice|double)\b", re.IGNORECASE)
_CAUSE = re.compile(r"\b(?:because|since|so that|in order to|due to|the reason|helps?|allows?|enables?|prevents?|"
                    r"avoids?|reduces?|leads? to|causes?|results? in|so|therefore|thus|which means|to make|to get|"
                    r"to avoid|to reduce|to prevent|otherwise)\b", re.IGNORECASE)
_MEANS = re.compile(r"\b(?:by|using|uses|use|through|via|first|then|step|steps|applies|apply|takes|computes?|"
                    r"adds?|multipl|divid|replac)\w*", re.IGNORECASE)
_CONTRAST = re.compile(r"\b(?:whereas|while|unlike|compared|than|but|instead|on the other hand|however|differ\w*)\b",
                       re.IGNORECASE)
# a person named: "proposed by G. Hinton", "from Yann LeCun", "Ian Goodfellow and co-authors introduced it"
_PERSON_NAMED = re.compile(r"\b(?:by|from)\s+(?:[A-Z]\.\s*)*[A-Z][a-z]+"
                           r"|\b[A-Z][a-z]+ [A-Z][a-zA-Z]+ (?:and|et\b|proposed|introduced|invented|coined|said|stated"
                           r"|suggested|called)")
_EXPANSION_ASKED = re.compile(r"\bstands? for\b|\bshort for\b|\babbreviat|\bacronym|\bfull form\b", re.IGNORECASE)
_NAMED = r"\b(?:called|known as|termed|referred to as)"
_DEFINES = r"\b(?:is|are|was|were|refers? to|means?|stands? for|is called|are called|is defined as|describes?)\b"


@dataclass(frozen=True)
class Candidate:
    """Sentence ``position`` of source ``source`` (a chunk or passage position): its text, kind and issue."""

    source: int
    position: int
    text: str
    kind: str = "prose"
    issue: str = ""

    @property
    def usable(self) -> bool:
        return self.issue in USABLE


def candidates_of(chunks: list[Chunk], sentences_of) -> tuple[list[Candidate], np.ndarray]:
    """Every distinct sentence of ``chunks`` (``sentences_of(chunk) -> (records, vectors)``) and its vectors."""
    candidates: list[Candidate] = []
    rows: list[np.ndarray] = []
    seen: set[str] = set()
    for source, chunk in enumerate(chunks):
        records, vectors = sentences_of(chunk)
        for position, (record, vector) in enumerate(zip(records, vectors)):
            if record.text not in seen:  # overlapping chunks repeat sentences
                seen.add(record.text)
                candidates.append(Candidate(source, position, record.text, record.kind, record.issue))
                rows.append(vector)
    matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 1), dtype=np.float32)
    return candidates, matrix


def mmr_within_budget(
    vectors: np.ndarray,
    relevance: np.ndarray,
    lengths: list[int],
    budget: int,
    *,
    min_words: int = 0,
    relative: tuple[float, float] = (0.0, 0.0),
) -> list[int]:
    """Maximal marginal relevance selection of sentences whose lengths add up to at most ``budget`` words.

    A sentence is only added while its relevance is at least ``relative[0]`` times the best one's, and
    ``relative[1]`` times once ``min_words`` are chosen; the first is always chosen, even when over the budget.
    """
    chosen: list[int] = []
    remaining = set(range(len(lengths)))
    used = 0
    top = float(relevance.max()) if len(relevance) else 0.0
    while remaining:
        floor = relative[1] if used >= min_words else relative[0]
        fitting = [i for i in remaining if (used + lengths[i] <= budget and relevance[i] >= floor * top) or not chosen]
        if not fitting:
            break
        redundancy = (vectors[fitting] @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(len(fitting))
        scores = MMR_LAMBDA * relevance[fitting] - (1 - MMR_LAMBDA) * redundancy
        best = fitting[int(np.argmax(scores))]
        remaining.discard(best)
        if chosen and redundancy[fitting.index(best)] >= REDUNDANT:
            continue
        chosen.append(best)
        used += lengths[best]
    return chosen


def term_overlap(index: NotesIndex, query: str, texts: list[str]) -> np.ndarray:
    """For each text, the share of the query's content terms (stemmed, IDF-weighted) it contains."""
    terms = list(dict.fromkeys(index.tokenizer(query)))
    if not terms or not texts:
        return np.zeros(len(texts), dtype=np.float32)
    weights = index.idf(terms)
    weights = weights / (weights.sum() or 1.0)
    found = np.array([[t in words for t in terms] for words in (set(index.tokenizer(text)) for text in texts)],
                     dtype=np.float32)
    return found @ weights


def type_fit(question: Question, text: str, stems, tokenizer) -> float:
    """How well ``text`` has what the question's type asks for, from 0 to 1 (``stems``: a term set per side)."""
    kind = question.kind
    slot = set(tokenizer(" ".join(question.slot))) if question.slot else set()
    named = len(slot & set(tokenizer(text))) / len(slot) if slot else 1.0  # "which activation": names an activation
    if kind == "number":  # "What batch size ...?": a number, and the batch size's
        return (0.5 + 0.5 * named) if _NUMBER.search(text) else 0.0
    if kind == "why":
        return 1.0 if _CAUSE.search(text) else 0.0
    if kind == "how":
        return 1.0 if _MEANS.search(text) else 0.0
    if kind == "person":
        return 1.0 if _PERSON_NAMED.search(text) else 0.0
    if kind in ("comparison", "choice") and question.sides:
        words = set(tokenizer(text))
        named = sum(bool(side and side <= words) or bool(side & words) for side in stems)
        return named / 2 + (0.25 if _CONTRAST.search(text) and named else 0.0)
    if kind == "other" and slot:
        return named
    if kind == "definition" and question.focus:
        head = "|".join(re.escape(w) for w in question.focus)
        if _EXPANSION_ASKED.search(question.text):  # "What does BERT stand for?": the sentence that spells it out
            spelled = (rf"\b(?:{head})\w*\s*\((?:[A-Za-z][\w-]*[\s)]+){{2,}}|\b(?:{head})\w*\s+stands? for\b"
                       rf"|\(\s*(?:{head})\s*\)")
            return 1.0 if re.search(spelled, text, re.IGNORECASE) else 0.0
        defines = (rf"\b(?:{head})\w*\b(?:\s*\([^)]{{0,80}}\))?[^.;]{{0,40}}?{_DEFINES}|\b(?:{head})\w*\s*\([A-Z]"
                   rf"|\b{_NAMED} (?:the |an? )?(?:{head})")  # "... (called the degradation problem)"
        return 1.0 if re.search(defines, text, re.IGNORECASE) else 0.0
    return 0.0


def extractive_answer(index: NotesIndex, question: str, passages: list[Passage],
                      query_vector: np.ndarray | None = None, said: str = "") -> tuple[str, list[Citation]]:
    """An answer to ``question`` composed of the passages' sentences, each followed by its ``[n]``; ("", [])
    when no usable sentence is about the question's most specific term. ``said``: what the conversation's last
    answer said, which a follow-up's answer does not repeat while other sentences can answer."""
    candidates, vectors = candidates_of([p.chunk for p in passages], index.chunk_sentences)
    if not candidates:
        return "", []
    candidates = [replace(c, issue="back-reference") if not c.issue and refers_back_in_opening(c.text) else c
                  for c in candidates]  # quoted, it needs the sentence before it
    asked = analyze(question)
    query = index.embed([question])[0] if query_vector is None else query_vector
    texts = [c.text for c in candidates]
    sides = [set(index.tokenizer(side)) for side in asked.sides] if asked.sides else []
    fit = np.array([type_fit(asked, t, sides, index.tokenizer) for t in texts], dtype=np.float32)
    rank_prior = np.array([1.0 / (1 + c.source) for c in candidates], dtype=np.float32)  # passages in search order
    overlap = term_overlap(index, " ".join(asked.focus) or question, texts)  # content terms, not "why", "does"
    previous = _previous(candidates)
    for i, c in enumerate(candidates):  # "This was the statement from Yann LeCun": about what it points back to
        if c.issue == "back-reference" and previous[i] is not None:
            overlap[i] = max(overlap[i], overlap[previous[i]])
    fit *= overlap > 0  # a number or a cause answers the question only in a sentence about it
    relevance = vectors @ query + TERM_WEIGHT * overlap + TYPE_WEIGHT * fit + PASSAGE_WEIGHT * rank_prior
    focus = asked.focus_term(lambda w: _corpus_idf(index, w))
    if focus:
        stems = set(index.tokenizer(focus))
        relevance += FOCUS_WEIGHT * np.array([bool(stems & set(index.tokenizer(t))) for t in texts], dtype=np.float32)
    usable = _usable(candidates, previous)
    if said:  # a follow-up says something new when a new sentence answers about as well as a repeated one
        heard = strip_markers(said)
        fresh = [i for i in usable if not comes_from(texts[i], heard)]
        if fresh and max(relevance[fresh]) >= FRESH_RELATIVE * max(relevance[usable]):
            usable = fresh
    if not usable:
        return "", []
    if asked.kind == "list":
        listed = _list_answer(candidates, relevance, usable)
        if listed:
            return _render(listed, candidates, passages, as_list=True)
    fits = [i for i in usable  # a lead with what it points back to fits the answer's length
            if sum(word_count(texts[j]) for j in _with_antecedent([i], candidates, previous)) <= ANSWER_MAX_WORDS
            ] or usable
    about = [i for i in fits if overlap[i] >= LEAD_MIN_OVERLAP]  # and names what the question asks about
    lead = max(about or fits, key=lambda i: relevance[i])
    chosen = _with_antecedent([lead], candidates, previous)
    words = sum(word_count(texts[i]) for i in chosen)
    supporters = 0
    for i in sorted(usable, key=lambda i: -relevance[i]):
        if supporters == MAX_SUPPORTING:
            break
        floor = OTHER_PASSAGE_RELATIVE if candidates[i].source != candidates[lead].source else SUPPORT_RELATIVE
        if i in chosen or relevance[i] < floor * relevance[lead] or overlap[i] < SUPPORT_MIN_OVERLAP:
            continue
        if candidates[i].issue and previous[i] not in chosen:  # a supporter stands alone, or follows
            continue  # the sentence it points back to ("This was the statement from Yann LeCun ..." after the quote)
        extra = word_count(texts[i])
        if words + extra > ANSWER_MAX_WORDS or _repeats([i], chosen, vectors, texts, index.tokenizer):
            continue
        chosen.append(i)
        words += extra
        supporters += 1
    head = _with_antecedent([lead], candidates, previous)  # the lead (and what it points back to) first
    rest = sorted((i for i in chosen if i not in head), key=lambda i: (candidates[i].source, candidates[i].position))
    order = head + [i for i in rest if candidates[i].issue != "back-reference"]
    for i in (i for i in rest if candidates[i].issue == "back-reference"):  # right after what it points back to
        order.insert(order.index(previous[i]) + 1, i)
    return _render(order, candidates, passages)


def _previous(candidates: list[Candidate]) -> list[int | None]:
    """For each candidate, the candidate just before it in its passage (None when that sentence is no candidate)."""
    position = {(c.source, c.position): i for i, c in enumerate(candidates)}
    return [position.get((c.source, c.position - 1)) for c in candidates]


def _usable(candidates: list[Candidate], previous: list[int | None]) -> list[int]:
    """The candidates an answer may use: clean prose or list items, and a sentence that points back only when the
    sentence before it is usable too."""
    ok = [c.usable and c.kind in ("prose", "list") for c in candidates]
    for i, c in enumerate(candidates):  # reading order: an antecedent is decided before the sentence after it
        if ok[i] and c.issue == "back-reference":
            ok[i] = previous[i] is not None and ok[previous[i]]
    return [i for i, good in enumerate(ok) if good]


def _corpus_idf(index: NotesIndex, word: str) -> float:
    """The IDF of ``word``'s rarest term in the notes; 0 when the notes never use it."""
    terms = index.tokenizer(word)
    unseen = float(index.idf(["\0"])[0])
    values = [float(v) for v in index.idf(terms) if v < unseen] if terms else []
    return max(values, default=0.0)


def _with_antecedent(chosen: list[int], candidates: list[Candidate], previous: list[int | None]) -> list[int]:
    """``chosen`` with the sentences before each one that points back ("It ...", "This ..."), back to one that
    stands alone, antecedents first."""
    out: list[int] = []
    for i in chosen:
        chain = [i]
        while candidates[chain[0]].issue == "back-reference":
            before = previous[chain[0]]
            if before is None or before in out or not candidates[before].usable:
                break
            chain.insert(0, before)
        out += [j for j in chain if j not in out]
    return out


def _repeats(added: list[int], chosen: list[int], vectors: np.ndarray, texts: list[str], tokenizer) -> bool:
    """Whether a sentence of ``added`` says what a chosen one already says (embedding or term containment)."""
    for i in added:
        terms = set(tokenizer(texts[i]))
        for j in chosen:
            if float(vectors[i] @ vectors[j]) >= REDUNDANT or terms <= set(tokenizer(texts[j])):
                return True
    return False


def _list_answer(candidates: list[Candidate], relevance: np.ndarray, usable: list[int]) -> list[int]:
    """A lead-in ("... the following types:") with its list items, when it is as relevant as the best sentence."""
    leads = [i for i, c in enumerate(candidates) if c.kind == "lead"]
    if not leads or not usable:
        return []
    best = max(leads, key=lambda i: relevance[i])
    if relevance[best] < SUPPORT_RELATIVE * max(relevance[i] for i in usable):
        return []
    items, words = [best], word_count(candidates[best].text)
    for j in range(best + 1, len(candidates)):
        c = candidates[j]
        if c.source != candidates[best].source or c.kind != "list" or c.issue in ("code", "table", "figure"):
            break
        if words + word_count(c.text) > ANSWER_MAX_WORDS:
            break
        items.append(j)
        words += word_count(c.text)
    return items if len(items) >= 3 else []


def _render(chosen: list[int], candidates: list[Candidate], passages: list[Passage],
            as_list: bool = False) -> tuple[str, list[Citation]]:
    """The chosen sentences with their passages' markers; a list answer puts each item on its own line."""
    parts = [with_marker(candidates[i].text, passages[candidates[i].source].n) for i in chosen]
    text = parts[0] + "".join(f"\n- {p}" for p in parts[1:]) if as_list else " ".join(parts)
    cited = sorted({candidates[i].source for i in chosen}, key=lambda source: passages[source].n)
    return text, [passages[source].citation() for source in cited]


def with_marker(sentence: str, n: int) -> str:
    """``sentence`` with its ``[n]`` before the closing punctuation, which a list item without one gets: "... [2]."."""
    body, end = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?:" else (sentence, ".")
    return f"{body} [{n}]{end}"
