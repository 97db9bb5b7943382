"""The BM25 tokenizer: lowercase word tokens, English stop words removed, Snowball-stemmed."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)


@functools.lru_cache(maxsize=2)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


class Tokenizer:
    """Turns text into BM25 terms; the same instance serves indexing and queries."""

    def __init__(self, stemming: bool = True, stopwords: bool = True) -> None:
        self.stemming = stemming
        self.stopwords = stopwords

    def __call__(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        if self.stopwords:
            words = [w for w in words if w not in _STOPWORDS]
        if self.stemming:
            words = _stemmer().stemWords(words)
        return words

    def many(self, texts: Iterable[str]) -> list[list[str]]:
        """Tokenize several texts."""
        return [self(t) for t in texts]
