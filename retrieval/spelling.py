"""Spelling correction for questions about the course: symspellpy's English dictionary + the notes' vocabulary.

Each unknown word is replaced by the candidate (within edit distance 2) that maximizes a small noisy-channel
score: ``log(frequency) - TYPO_PENALTY * typing_distance(typed, candidate)``, where the typing distance makes the
common slips (doubled letters, vowel swaps, neighbouring keys, transpositions) cheaper than other edits.
On Norvig's development set this beats plain ``Verbosity.TOP`` lookup (see ``coursemate eval spelling``).

Left alone: known words (English or course vocabulary), numbers, code-like tokens (digits, ``_``, ``.``,
ALLCAPS), words shorter than three letters. A camelCase name is corrected only towards a course word
("MoileNet" -> "mobilenet"), since such names are model and library names, not English.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from coursemate.errors import CoursemateError

if TYPE_CHECKING:
    from symspellpy import SymSpell

DICTIONARY_FILE = "frequency_dictionary_en_82_765.txt"
DICTIONARY_NAME = f"symspellpy {DICTIONARY_FILE}"
MAX_EDIT_DISTANCE = 2
MAX_TEXT_CHARS = 20_000  # a few pages; longer texts are refused with a clear error
MIN_WORD_LENGTH = 3
MIN_NAME_LENGTH = 5  # a shorter name written capitalized inside a sentence ("Swin") is left as written
RANKINGS = ("noisy-channel", "top")
# Weights of the typing distance and the penalty per unit of distance, tuned on Norvig's development set
# (spell-testset1); spell-testset2 is the held-out check.
TYPO_PENALTY = 8.0
VOWEL_SWAP_COST = 0.7
NEIGHBOUR_KEY_COST = 0.7
DOUBLED_LETTER_COST = 0.4
TRANSPOSITION_COST = 0.7
CHEAPEST_EDIT = min(DOUBLED_LETTER_COST, VOWEL_SWAP_COST, NEIGHBOUR_KEY_COST, TRANSPOSITION_COST)
# A course word counts like this many occurrences of the rarest English dictionary word per mention in the notes
# (a course assistant's questions are about course words: "encoer" -> "encoder", not "encore"). Chosen on the
# misspelled variants of the course question set (eval/): 10 restored 76 of 119 questions, 100 restored 79.
COURSE_MENTION_WEIGHT = 100
# Weight of the typed (uncorrected) query when it is fused with the corrected one (``NotesIndex.search``): it only
# fills in and breaks
# ties, since a heavier typed query drags good corrections down. Course set, hybrid R@5 on the misspelled
# questions (RRF k=10): typed alone 0.857; corrected + typed at weight 0.3: 0.924; at 0.02: 0.933; clean 0.958.
TYPED_QUERY_WEIGHT = 0.02

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_TOKEN = re.compile(r"(\S+)")
_EDGES = re.compile(r"^([^A-Za-z0-9_]*)(.*?)([^A-Za-z0-9_]*)$", re.S)
_PLAIN_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_CAMEL = re.compile(r"[a-z][A-Z]")
_VOWELS = frozenset("aeiou")
_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_POSITION = {c: (row, col) for row, keys in enumerate(_KEY_ROWS) for col, c in enumerate(keys)}


@dataclass
class Correction:
    """The result of correcting a text: ``changes`` lists each ``(wrong, right)`` replacement in order."""

    original: str
    corrected: str
    changed: bool
    changes: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["changes"] = [list(pair) for pair in self.changes]
        return data


@functools.lru_cache(maxsize=1)
def english_dictionary() -> SymSpell:
    """symspellpy's bundled English unigram dictionary (loaded once per process, ~2-3 s)."""
    symspell = _symspell()
    if not symspell.load_dictionary(str(files("symspellpy") / DICTIONARY_FILE), term_index=0, count_index=1):
        raise RuntimeError(f"symspellpy's {DICTIONARY_FILE} could not be read")
    return symspell


@functools.lru_cache(maxsize=1)
def english_word_counts() -> dict[str, int]:
    """The word counts of that same dictionary, as a plain mapping (how common a word is in general English)."""
    lines = (files("symspellpy") / DICTIONARY_FILE).read_text(encoding="utf-8").splitlines()
    return {word: int(count) for word, count in (line.split() for line in lines if line.strip())}


def _symspell() -> SymSpell:
    """An empty SymSpell whose edit distances are computed in C (editdistpy), not in Python."""
    from symspellpy import SymSpell
    from symspellpy.editdistance import DistanceAlgorithm, EditDistance

    return SymSpell(MAX_EDIT_DISTANCE, prefix_length=7,
                    distance_comparer=EditDistance(DistanceAlgorithm.DAMERAU_OSA_FAST))


def vocabulary_from_texts(texts: Iterable[str]) -> Counter[str]:
    """Lowercase word counts over ``texts`` (the same words ``NotesIndex.vocabulary()`` counts)."""
    return Counter(w for text in texts for w in _WORD.findall(text.lower()))


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the word at ``start`` opens a sentence of ``text`` (nothing but spaces before it since the text's start
    or a ".", "!", "?" or ":"), so its capital says nothing ("MoileNet", "the Swin Transformer" are names)."""
    i = start - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return i < 0 or text[i] in ".!?:"


def is_code_like(token: str) -> bool:
    """True for tokens that are not plain words: numbers, identifiers, paths, camelCase, ALLCAPS acronyms."""
    if not _PLAIN_WORD.fullmatch(token):
        return True
    return bool(_CAMEL.search(token)) or (len(token) > 1 and token.isupper())


def typing_distance(typed: str, word: str) -> float:
    """Edit distance (with transpositions) where the usual typing slips cost less than 1."""
    n, m = len(typed), len(word)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][0] = d[i - 1][0] + (DOUBLED_LETTER_COST if i > 1 and typed[i - 1] == typed[i - 2] else 1.0)
    for j in range(1, m + 1):
        d[0][j] = d[0][j - 1] + (DOUBLED_LETTER_COST if j > 1 and word[j - 1] == word[j - 2] else 1.0)
    for i in range(1, n + 1):
        a = typed[i - 1]
        for j in range(1, m + 1):
            b = word[j - 1]
            # deleting a typed letter (or inserting a word letter) that repeats its neighbour is a doubling slip
            delete = DOUBLED_LETTER_COST if (i > 1 and typed[i - 2] == a) or b == a else 1.0
            insert = DOUBLED_LETTER_COST if (j > 1 and word[j - 2] == b) or a == b else 1.0
            best = min(d[i - 1][j - 1] + _substitution_cost(a, b), d[i - 1][j] + delete, d[i][j - 1] + insert)
            if i > 1 and j > 1 and a == word[j - 2] and typed[i - 2] == b:
                best = min(best, d[i - 2][j - 2] + TRANSPOSITION_COST)
            d[i][j] = best
    return d[n][m]


def _best_candidate(word: str, edits: Mapping[str, int], frequency) -> str:
    """The candidate maximizing ``log(frequency) - TYPO_PENALTY * typing_distance``, ties broken alphabetically.

    Exact, but fast: every edit costs at least ``CHEAPEST_EDIT``, so ``CHEAPEST_EDIT * edits`` bounds the typing
    distance from below and candidates whose bound cannot beat the best score so far are never scored.
    """
    bounds = sorted(
        ((math.log(frequency(c)) - TYPO_PENALTY * CHEAPEST_EDIT * d, c) for c, d in edits.items()),
        key=lambda pair: (-pair[0], pair[1]),
    )
    best, best_score = "", -math.inf
    for bound, candidate in bounds:
        if bound < best_score:
            break
        score = math.log(frequency(candidate)) - TYPO_PENALTY * typing_distance(word, candidate)
        if score > best_score or (score == best_score and candidate < best):
            best, best_score = candidate, score
    return best


def _substitution_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if a in _VOWELS and b in _VOWELS:
        return VOWEL_SWAP_COST
    pa, pb = _KEY_POSITION.get(a), _KEY_POSITION.get(b)
    if pa and pb and abs(pa[0] - pb[0]) <= 1 and abs(pa[1] - pb[1]) <= 1:
        return NEIGHBOUR_KEY_COST
    return 1.0


class SpellingCorrector:
    """Corrects words against the English dictionary merged with a course vocabulary.

    ``vocabulary`` is a mapping of lowercase word -> count (``NotesIndex.vocabulary()``) or an iterable of
    texts to count words in. ``ranking`` is ``"noisy-channel"`` (default) or ``"top"`` (symspellpy's own
    closest-then-most-frequent choice, kept for comparison in the evaluation).
    """

    def __init__(self, vocabulary: Mapping[str, int] | Iterable[str] | None = None, ranking: str = "noisy-channel"):
        if ranking not in RANKINGS:
            raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}; got {ranking!r}")
        self.ranking = ranking
        self.english = english_dictionary()
        if vocabulary is None:
            vocabulary = {}
        elif not isinstance(vocabulary, Mapping):
            vocabulary = vocabulary_from_texts(vocabulary)
        self.course_words = {w.lower(): int(c) for w, c in vocabulary.items() if c > 0 and _WORD.fullmatch(w.lower())}
        self.course = _symspell()
        for word, count in self.course_words.items():
            self.course.create_dictionary_entry(word, count)
        self.mention_weight = COURSE_MENTION_WEIGHT * min(self.english.words.values())
        course = f" + {len(self.course_words):,} course words" if self.course_words else ""
        self.dictionary_name = DICTIONARY_NAME + course

    def is_known(self, word: str) -> bool:
        """True if the lowercase ``word`` is in the English dictionary or the course vocabulary."""
        return word in self.english.words or word in self.course_words

    def frequency(self, word: str) -> float:
        """English count plus the weighted course count of a lowercase word."""
        return self.english.words.get(word, 0) + self.mention_weight * self.course_words.get(word, 0)

    def correct_word(self, word: str) -> str:
        """The best correction of one lowercase word (the word itself if known or nothing is close)."""
        if self.is_known(word):
            return word
        from symspellpy import Verbosity

        if self.ranking == "top":
            suggestions = self.english.lookup(word, Verbosity.TOP, MAX_EDIT_DISTANCE)
            suggestions += self.course.lookup(word, Verbosity.TOP, MAX_EDIT_DISTANCE)
            if not suggestions:
                return word
            return min(suggestions, key=lambda s: (s.distance, -self.frequency(s.term))).term
        edits: dict[str, int] = {}
        for suggestion in self.english.lookup(word, Verbosity.ALL, MAX_EDIT_DISTANCE) + self.course.lookup(
            word, Verbosity.ALL, MAX_EDIT_DISTANCE
        ):
            edits[suggestion.term] = suggestion.distance
        if not edits:
            return word
        return _best_candidate(word, edits, self.frequency)

    def correct(self, text: str) -> Correction:
        """Correct every plain unknown word of ``text``, keeping spacing, punctuation and capitalization
        (CoursemateError for a text over ``MAX_TEXT_CHARS``)."""
        if len(text) > MAX_TEXT_CHARS:
            raise CoursemateError(f"the text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}")
        changes: list[tuple[str, str]] = []

        def fix_token(match: re.Match) -> str:
            before, core, after = _EDGES.match(match.group(1)).groups()
            written_as_name = _CAMEL.search(core) or (core[:1].isupper() and not _opens_sentence(text, match.start()))
            if written_as_name and len(core) < MIN_NAME_LENGTH:  # "Swin", "Adam": too short to tell from a typo
                return match.group(0)
            if written_as_name and _PLAIN_WORD.fullmatch(core):
                return before + self._fix_course_name(core, changes) + after
            if is_code_like(core):
                return match.group(0)
            fixed = "-".join(self._fix_word(part, changes) for part in core.split("-"))
            return before + fixed + after

        corrected = _TOKEN.sub(fix_token, text)
        return Correction(original=text, corrected=corrected, changed=corrected != text, changes=changes)

    def _fix_course_name(self, name: str, changes: list[tuple[str, str]]) -> str:
        """A name ("MoileNet", a capitalized word inside a sentence) is corrected only towards a course word
        ("mobilenet"), never towards English ("Swin" is not "Swim")."""
        lower = name.lower()
        if self.is_known(lower):
            return name
        from symspellpy import Verbosity

        suggestions = self.course.lookup(lower, Verbosity.CLOSEST, MAX_EDIT_DISTANCE)
        if not suggestions:
            return name
        right = max(suggestions, key=lambda s: s.count).term
        changes.append((name, right))
        return right

    def _fix_word(self, word: str, changes: list[tuple[str, str]]) -> str:
        if len(word) < MIN_WORD_LENGTH:
            return word
        right = self.correct_word(word.lower())
        if right == word.lower():
            return word
        if word[0].isupper():
            right = right[0].upper() + right[1:]
        changes.append((word, right))
        return right
