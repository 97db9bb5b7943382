"""Course abbreviations in questions: "global average pooling" is "gap" in the notes, "batch normalization" "bn".

A run of two to four consecutive content words whose initials spell a word the notes use often enough is taken
as that abbreviation when one note uses both the phrase and the abbreviation; the question phrased with it is
searched beside the question itself.
"""

from __future__ import annotations

import re
from collections import Counter

MIN_USES = 3  # how often the notes must use the abbreviation
MAX_WORDS = 4
_WORD = re.compile(r"[A-Za-z]+")
# Short English words that a run of initials can spell by chance ("such as ImageNet" is not "ai").
_NOT_ABBREVIATIONS = frozenset("ai am an as at be by do go he if in is it me my no of on or so to up us we vs".split())
_STOPWORDS = frozenset("a an the of in on for to and or with by is are was does do did what why how which who when "
                       "where this that these those it its course notes use used using".split())


def abbreviated(question: str, vocabulary: Counter[str], documents: list[str]) -> str | None:
    """``question`` with its spelled-out abbreviations replaced ("... use gap?"), or None when it has none.

    ``vocabulary``: word counts of the notes; ``documents``: the notes' texts, lowercase.
    """
    words = list(_WORD.finditer(question))
    out, changed, i = question, False, 0
    while i < len(words):
        for size in range(MAX_WORDS, 1, -1):
            run = words[i:i + size]
            if len(run) < size or any(w.group(0).lower() in _STOPWORDS for w in run):
                continue
            acronym = "".join(w.group(0)[0].lower() for w in run)
            phrase = " ".join(w.group(0).lower() for w in run)
            if (acronym not in _NOT_ABBREVIATIONS and vocabulary.get(acronym, 0) >= MIN_USES
                    and acronym not in question.lower().split()
                    and any(phrase in d and re.search(rf"\b{acronym}\b", d) for d in documents)):
                out = out.replace(question[run[0].start():run[-1].end()], acronym, 1)
                changed, i = True, i + size - 1
                break
        i += 1
    return out if changed else None
