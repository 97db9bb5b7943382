"""Topic sub-sections inside long sections that have no headings of their own (lexical TextTiling).

The course sessions are exported as one long run of lines per session: without structure, a hit can only say
"Session 5" and chunks cut across topics. :func:`topic_sections` recovers the sub-topics the way TextTiling
(Hearst, 1997) does: it compares the words of the lines before and after every line break, cuts where the
vocabulary changes most (the deepest valleys of that similarity), and always cuts before a line that opens a
block of its own ("assignment", "target:", "results:", "part 2", ...). The first part keeps the section's title;
each later one is titled with its most distinctive phrases ("Session 5 - ... > covariate shift, batch
normalization"). No model is needed, so it runs at ingest.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from coursemate.retrieval.spelling import english_word_counts
from coursemate.retrieval.tokenize import Tokenizer
from coursemate.retrieval.types import Section

LONG_SECTION_CHARS = 3_000  # sections longer than this (and without sub-headings) are split into topics
MIN_TOPIC_CHARS = 900  # no sub-section shorter than this
WINDOW_CHARS = 600  # the text compared on each side of a candidate cut
DEPTH_CUTOFF = 0.5  # cut at valleys deeper than mean + DEPTH_CUTOFF * std of all depths
TITLE_PHRASES = 2
_BLOCK_OPENER = re.compile(
    r"^\s*(?:assignment|target|targets|results?|analysis|part \d+|step \d+|code \d+|session \d+\.\d+|quiz)\b[\s:.-]",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]|[a-z]")
_TOKENIZER = Tokenizer()
MIN_WORD_SPECIFICITY = 0.25  # title words at least this rare in English ("want", "very", "above" are not)
_CONTRACTION_TAILS = frozenset({"doesnt", "dont", "isnt", "didnt", "cant", "wont", "thats", "lets", "youll", "ll",
                                "ve"})


def topic_sections(text: str, section: Section) -> list[Section]:
    """``section`` split into topic sub-sections (just ``[section]`` when it is short or has too few lines)."""
    if section.end - section.start < LONG_SECTION_CHARS:
        return [section]
    lines = _lines(text, section)
    if len(lines) < 6:
        return [section]
    cuts = _cuts(text, lines)
    bounds = [section.start] + [lines[i][0] for i in cuts] + [section.end]
    pieces = [(start, start + len(text[start:end].rstrip())) for start, end in zip(bounds, bounds[1:])]
    titles = _titles([text[s:e] for s, e in pieces])
    titles[0] = section.title or titles[0]  # the part right under the heading keeps the heading's title
    return [Section(title if i == 0 else _join(section.title, title), s, e)
            for i, ((s, e), title) in enumerate(zip(pieces, titles))]


def _join(parent: str, title: str) -> str:
    return f"{parent} > {title}" if parent and title else parent or title


def _lines(text: str, section: Section) -> list[tuple[int, int]]:
    """``(start, end)`` of the non-blank lines of the section."""
    out, offset = [], section.start
    for line in text[section.start : section.end].splitlines(keepends=True):
        if line.strip():
            out.append((offset, offset + len(line)))
        offset += len(line)
    return out


def _cuts(text: str, lines: list[tuple[int, int]]) -> list[int]:
    """Indexes of the lines that start a new topic."""
    terms = [Counter(_TOKENIZER(text[s:e])) for s, e in lines]
    lengths = [e - s for s, e in lines]
    similarity = [_cosine(_window(terms, lengths, i, -1), _window(terms, lengths, i, 1)) for i in range(len(lines))]
    depth = [_depth(similarity, i) for i in range(len(lines))]
    candidates = [i for i in range(1, len(lines))]
    forced = {i for i in candidates if _BLOCK_OPENER.match(text[lines[i][0] : lines[i][1]])}
    scored = [depth[i] for i in candidates]
    mean = sum(scored) / len(scored)
    std = math.sqrt(sum((d - mean) ** 2 for d in scored) / len(scored))
    deep = sorted((i for i in candidates if depth[i] > mean + DEPTH_CUTOFF * std), key=lambda i: -depth[i])
    chosen: list[int] = []
    for i in sorted(forced) + deep:  # block openers first, then the deepest valleys
        trial = sorted(chosen + [i])
        if i not in chosen and _long_enough(lines, trial):
            chosen = trial
    return chosen


def _window(terms: list[Counter], lengths: list[int], i: int, direction: int) -> Counter:
    """The terms of about ``WINDOW_CHARS`` of lines before line ``i`` (direction -1) or from it on (+1)."""
    total, used = Counter(), 0
    j = i - 1 if direction < 0 else i
    while 0 <= j < len(terms) and used < WINDOW_CHARS:
        total.update(terms[j])
        used += lengths[j]
        j += direction
    return total


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(t, 0) for t, v in a.items())
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def _depth(similarity: list[float], i: int) -> float:
    """How far the similarity at ``i`` lies below the highest peaks on its left and right."""
    left = max(similarity[: i + 1]) if i else similarity[0]
    right = max(similarity[i:])
    return (left - similarity[i]) + (right - similarity[i])


def _long_enough(lines: list[tuple[int, int]], cuts: list[int]) -> bool:
    bounds = [lines[0][0]] + [lines[i][0] for i in cuts] + [lines[-1][1]]
    return all(b - a >= MIN_TOPIC_CHARS for a, b in zip(bounds, bounds[1:]))


def _titles(texts: list[str]) -> list[str]:
    """For each text, its ``TITLE_PHRASES`` most distinctive phrases among ``texts``: 1-3 word phrases that neither
    start nor end with a stop word, scored by frequency in the text, rarity among the texts and how specific their
    words are (rare in general English: "covariate shift" beats "make sure")."""
    counts = [_phrases(t) for t in texts]
    frequency = Counter(p for c in counts for p in c)
    titles = []
    for c in counts:
        def score(p: str, c: Counter = c) -> float:
            return c[p] * math.log(1 + len(texts) / frequency[p]) * sum(_specificity(w) ** 2 for w in p.split())

        picked: list[str] = []
        usable = (p for p in c if c[p] >= 2 and all(_specificity(w) >= MIN_WORD_SPECIFICITY for w in p.split()))
        for phrase in sorted(usable, key=lambda p: (-score(p), p)):
            if any(w in q.split() for w in phrase.split() for q in picked):
                continue
            picked.append(phrase)
            if len(picked) == TITLE_PHRASES:
                break
        titles.append(", ".join(picked))
    return titles


def _phrases(text: str) -> Counter:
    words = _WORD.findall(text.lower())
    found: Counter = Counter()
    for n in (1, 2, 3):
        for k in range(len(words) - n + 1):
            gram = words[k : k + n]
            if _content(gram[0]) and _content(gram[-1]) and all(len(w) > 1 for w in gram):
                found[" ".join(gram)] += 1
    return found


def _content(word: str) -> bool:
    return (len(word) > 2 and bool(_TOKENIZER(word)) and not any(ch.isdigit() for ch in word)
            and word not in _CONTRACTION_TAILS)


def _specificity(word: str) -> float:
    """How rare ``word`` is in general English: 0 for the most common words, about 1 for rare ones."""
    counts = english_word_counts()
    return max(0.0, 1.0 - math.log1p(counts.get(word, 0)) / math.log1p(counts["the"]))

