"""How the notes use their words: the notes as one stream of lowercase tokens, read for word classes (a noun phrase,
a verb) by the words around each use. Shared by the outline summaries and the quizzes; nothing is hard-coded per
term, so it works on any instructor's notes."""

from __future__ import annotations

import functools
import re
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coursemate.retrieval.notetext import english_count

if TYPE_CHECKING:
    from coursemate.retrieval import NotesIndex

FUNCTION_WORD_COUNT = 250_000_000  # an English word this common never opens or closes a heading ("very", "used")
NOUN_SHARE = 0.15  # a noun phrase: this share of its uses follow a determiner or precede a verb ...
MODIFIER_SHARE = 0.6  # ... and at most this share run straight into another content word ("pre-trained weights")
VERB_SHARE = 0.3  # a word the notes use this often right after "to", a modal or a pronoun is a verb ("use")
WORDS = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[-'’][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
DETERMINERS = frozenset("a an the this these those each every our your its their his her my some any no".split())
SUBJECT_SLOTS = frozenset("is are was were can will would should could may might must has have does".split())
_VERB_SLOTS = frozenset("to we you they i can will would should must could may might don't didn't".split())


class NotesWords:
    """The notes as one stream of lowercase tokens (punctuation kept): how the notes use a word or a phrase."""

    def __init__(self, texts: list[str]) -> None:
        self.tokens = [t.lower() for text in texts for t in WORDS.findall(text)]
        self.at: dict[str, list[int]] = {}
        for i, token in enumerate(self.tokens):
            self.at.setdefault(token, []).append(i)

    def uses(self, words: tuple[str, ...]) -> list[int]:
        """Where the phrase ``words`` (lowercase) starts in the notes."""
        return [i for i in self.at.get(words[0], []) if tuple(self.tokens[i:i + len(words)]) == words]

    def is_noun_phrase(self, words: tuple[str, ...]) -> bool:
        """Whether the notes use ``words`` as a noun phrase: often after a determiner or before a verb ("the query",
        "embeddings are"), and not mostly straight before another content word (an adjective: "pre-trained")."""
        starts = self.uses(words)
        if not starts:
            return False
        after = [self.tokens[i + len(words)] if i + len(words) < len(self.tokens) else "." for i in starts]
        noun = sum(self.tokens[i - 1] in DETERMINERS or a in SUBJECT_SLOTS for i, a in zip(starts, after))
        modifier = sum(a[0].isalpha() and not is_function_word(a) for a in after)
        return noun >= NOUN_SHARE * len(starts) and modifier <= MODIFIER_SHARE * len(starts)

    def is_verb(self, word: str) -> bool:
        """Whether the notes use ``word`` as a verb: often right after "to", a modal or a pronoun ("we use")."""
        starts = self.at.get(word.lower(), [])
        slots = sum(i > 0 and self.tokens[i - 1] in _VERB_SLOTS for i in starts)
        return slots >= 2 and slots >= VERB_SHARE * len(starts)


_NOTES_WORDS: weakref.WeakKeyDictionary[Any, NotesWords] = weakref.WeakKeyDictionary()
_NOTES_WORDS_LOCK = threading.Lock()


def notes_words(index: NotesIndex) -> NotesWords:
    """The :class:`NotesWords` of ``index``'s documents (built once per index, in well under a second)."""
    with _NOTES_WORDS_LOCK:
        if index not in _NOTES_WORDS:
            _NOTES_WORDS[index] = NotesWords([d.text for d in index.documents.values()])
        return _NOTES_WORDS[index]


def is_function_word(word: str) -> bool:
    """A word too common in English to carry a topic ("the", "very", "used")."""
    return english_count(word) >= FUNCTION_WORD_COUNT


# ----------------------------------------------------------------------------------------------- what kind of thing
_COPULAS = frozenset("is are was were".split())
_ARTICLES = frozenset("a an the".split())
_KIND_WORDS = frozenset("type kind form class family variant variation".split())  # "a type of <class>"
_LIST_CUES = (("such", "as"), ("including",), ("like",), ("e.g.",))
_JOINS = frozenset(("and", "or", ","))
MAX_CLASS_WORDS = 4  # the noun phrase after "is a" that names a term's class


@functools.cache
def stem(word: str) -> str:
    """The Snowball stem of one word, as the BM25 tokenizer stems it."""
    return _english_stemmer().stemWord(word)


@functools.cache
def _english_stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def term_classes(notes: NotesWords, terms: list[str]) -> dict[str, set[str]]:
    """What kind of thing each term (lowercase) is, as the notes put it, as stemmed class nouns: its own head noun
    ("batch normalization": normalization), the class the notes name ("Adam is an optimizer", "a type of neural
    network", "optimizers such as Adam, SGD and RMSprop"), and "&a|b" for two terms the notes join by "and"/"or"
    ("sigmoid and tanh"). A named class counts only when some term has it as its head or the notes list members
    of it, so vague words ("a technique", "an approach") type nothing. A term the notes do not use as a noun phrase
    ("increase model", "generative adversarial") has no class."""
    phrases = {t: tuple(WORDS.findall(t)) for t in terms}
    starts: dict[str, list[tuple[str, ...]]] = {}
    for words in sorted(phrases.values(), key=len, reverse=True):
        starts.setdefault(words[0], []).append(words)
    heads = {stem(w[-1]) for w in phrases.values() if len(w) > 1 and notes.is_noun_phrase(w[-1:])}
    named: dict[str, set[str]] = {t: set() for t in terms}
    classes: dict[str, set[str]] = {t: ({stem(w[-1])} & heads) if len(w) > 1 else set() for t, w in phrases.items()}
    for term, words in phrases.items():
        for i in notes.uses(words):
            end = _after_parenthesis(notes.tokens, i + len(words))
            named[term].add(_class_named(notes, end))
            partner = _term_at(notes.tokens, end + 1, starts) if notes.tokens[end:end + 1] in (["and"], ["or"]) \
                else None
            if partner and partner != words and _is_plural(partner[-1]) == _is_plural(words[-1]):
                pair = "&" + "|".join(sorted((" ".join(words), " ".join(partner))))
                classes[term].add(pair)
                classes[" ".join(partner)].add(pair)
    for category, members in _listed(notes, starts):
        heads.add(category)
        for words in members:
            classes[" ".join(words)].add(category)
    for term, words in phrases.items():
        classes[term] = classes[term] | (named[term] & heads) if names_a_thing(notes, words) else set()
    return classes


def names_a_thing(notes: NotesWords, words: tuple[str, ...]) -> bool:
    """Whether a term is a noun phrase: its last word a noun (or the plural of one), its first word no verb."""
    last = words[-1]
    noun = notes.is_noun_phrase((last,)) or (_is_plural(last) and notes.is_noun_phrase((last[:-1],)))
    return noun and (len(words) == 1 or not notes.is_verb(words[0]))


def _is_plural(word: str) -> bool:
    return word.endswith("s") and not word.endswith("ss")


def _after_parenthesis(tokens: list[str], j: int) -> int:
    """The position after a parenthesis that opens at ``j`` ("ReLU (rectified linear unit) is ..."), else ``j``."""
    if tokens[j:j + 1] == ["("]:
        close = next((k for k in range(j + 1, min(len(tokens), j + 12)) if tokens[k] == ")"), None)
        return close + 1 if close is not None else j
    return j


def _class_named(notes: NotesWords, j: int) -> str:
    """The stemmed head noun of "is a [type of] <noun phrase>" at ``j``, or ""."""
    tokens = notes.tokens
    if tokens[j:j + 1] and tokens[j] in _COPULAS:
        j += 1
        if tokens[j:j + 3] == ["one", "of", "the"]:
            j += 3
        elif tokens[j:j + 1] and tokens[j] in _ARTICLES:
            j += 1
        else:
            return ""
        if tokens[j:j + 2] and tokens[j] in _KIND_WORDS and tokens[j + 1:j + 2] == ["of"]:
            j += 2
        while j < len(tokens) and (tokens[j].endswith("ly") or is_function_word(tokens[j])) and tokens[j].isalpha():
            j += 1  # "a widely used activation function"
        run = []
        while j < len(tokens) and len(run) < MAX_CLASS_WORDS and tokens[j][0].isalpha() and not is_function_word(
                tokens[j]):
            run.append(tokens[j])
            j += 1
        if run and notes.is_noun_phrase((run[-1],)):
            return stem(run[-1])
    return ""


def _term_at(tokens: list[str], j: int, starts: dict[str, list[tuple[str, ...]]]) -> tuple[str, ...] | None:
    """The longest term that starts at ``tokens[j]``, or None."""
    for words in starts.get(tokens[j] if j < len(tokens) else "", []):
        if tuple(tokens[j:j + len(words)]) == words:
            return words
    return None


def _listed(notes: NotesWords, starts: dict[str, list[tuple[str, ...]]]):
    """``(class, member terms)`` for every list of the notes that names its class: "optimizers such as Adam, SGD
    and RMSprop", "activation functions like sigmoid or tanh", "losses including ..."."""
    tokens = notes.tokens
    for cue in _LIST_CUES:
        for i in notes.uses(cue):
            category = tokens[i - 1] if i else ""
            if not category.isalpha() or is_function_word(category) or not notes.is_noun_phrase((category,)):
                continue
            members, j = [], i + len(cue)
            while (words := _term_at(tokens, j, starts)) is not None:
                members.append(words)
                j += len(words)
                while j < len(tokens) and tokens[j] in _JOINS:
                    j += 1
            if len(members) >= 2:
                yield stem(category), members


# ----------------------------------------------------------------------------------------------- numbers
NUMBER_WORDS = ("two three four five six seven eight nine ten eleven twelve".split())
_NUMBER = re.compile(r"(?<![\w.,$/*+-])(?:\d+(?:\.\d+)?(?:x\d+)*%?|" + "|".join(NUMBER_WORDS) + r")(?![\w/*+-]|[.,]\d)",
                     re.IGNORECASE)
MAX_UNIT_WORDS = 3  # the noun phrase after a number that names its unit ("16 layers", "five convolutional layers")


@dataclass(frozen=True)
class Quantity:
    """A number as the notes write it (``text``), its shape (integer, decimal, percent, year, dims2, word) and its
    unit: the stemmed head of the noun phrase after it ("16 convolution layers": layer), "" when none."""

    text: str
    shape: str
    unit: str

    @property
    def value(self) -> float:
        """The number's size (the first side of "3x3", the place in the list of a number word)."""
        if self.shape == "word":
            return float(NUMBER_WORDS.index(self.text.lower()) + 2)
        return float(re.match(r"\d+(?:\.\d+)?", self.text).group())  # type: ignore[union-attr]

    @property
    def kind(self) -> tuple[str, str]:
        return self.shape, self.unit


def quantities(text: str, notes: NotesWords) -> list[tuple[int, int, Quantity]]:
    """``(start, end, quantity)`` of the numbers of ``text`` that stand on their own: not part of a name ("GPT-4",
    "ResNet-50", "VGG16") and not a list number; a number word only before a unit ("five layers")."""
    found = []
    for m in _NUMBER.finditer(text):
        quantity = Quantity(m.group(), _shape(m.group()), _unit(text[m.end():], notes))
        if (quantity.shape == "word" and not quantity.unit) or quantity.value == 0 or _names(text[:m.start()], notes):
            continue
        if re.match(r"\s*[.)]\s", text[m.end():m.end() + 3]) and not text[:m.start()].strip():
            continue  # "1. " or "2) " opening a line
        found.append((m.start(), m.end(), quantity))
    return found


def _names(before: str, notes: NotesWords) -> bool:
    """Whether a number after ``before`` is part of a name or a label: it follows a capitalized word inside the
    sentence ("GPT 3.5", "Best Match 25") or a noun ("session 3", "block 1"); "in 2015", "have 32", "contains
    five" are quantities."""
    words = before.split()
    if not words:
        return False
    last = words[-1].lower().strip("(\"'“‘")
    if len(words) > 1 and words[-1][:1].isupper():
        return True
    return last.isalpha() and not is_function_word(last) and notes.is_noun_phrase((last,))


def _shape(number: str) -> str:
    if number.isalpha():
        return "word"
    if "x" in number.lower():
        return f"dims{number.lower().count('x') + 1}"
    if number.endswith("%"):
        return "percent"
    if "." in number:
        return "decimal"
    return "year" if len(number) == 4 and 1900 <= int(number) <= 2099 else "integer"


def _unit(after: str, notes: NotesWords) -> str:
    """The stemmed head of the noun phrase that opens ``after`` ("convolutional layers and ...": layer)."""
    run = []
    for word in re.findall(r"[^\s]+", after)[:MAX_UNIT_WORDS]:
        clean = word.lower().rstrip(".,;:)")
        if not re.fullmatch(r"[a-z][a-z-]*", clean) or is_function_word(clean):
            break
        run.append(clean)
        if clean != word.lower():
            break
    while run and not notes.is_noun_phrase((run[-1],)):
        run.pop()
    return stem(run[-1]) if run else ""


def quantities_of_notes(texts: list[str], notes: NotesWords) -> dict[tuple[str, str], list[Quantity]]:
    """Every distinct quantity of the notes, by shape and unit."""
    by_kind: dict[tuple[str, str], dict[str, Quantity]] = {}
    for text in texts:
        for _, _, quantity in quantities(text, notes):
            by_kind.setdefault(quantity.kind, {}).setdefault(quantity.text.lower(), quantity)
    return {kind: list(found.values()) for kind, found in by_kind.items()}
