"""How the notes use their words: the notes as one stream of lowercase tokens, read for word classes (a noun phrase,
a verb) by the words around each use. Shared by the outline summaries and the quizzes; nothing is hard-coded per
term, so it works on any instructor's notes."""

from __future__ import annotations

import re
import threading
import weakref
from typing import TYPE_CHECKING, Any

from retrieval.notetext import english_count

if TYPE_CHECKING:
    from retrieval import NotesIndex

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
