"""Word-level spelling accuracy on Norvig-format test sets (``right: wrong1 wrong2`` per line).

Reports the statistics of Norvig's ``spelltest``: the share of (right, wrong) pairs corrected exactly, the share
whose right word the dictionary does not know ("unknown"), and the speed in words per second.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursemate.errors import CoursemateError

if TYPE_CHECKING:
    from coursemate.retrieval.spelling import SpellingCorrector

SHOWN_FAILURES = 10


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """The ``(right, wrong)`` pairs of a Norvig-format file, in file order."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CoursemateError(f"cannot read spelling test set {path}: {exc}") from None
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        right, sep, wrongs = line.partition(":")
        if not sep or not right.strip() or not wrongs.split():
            raise CoursemateError(f"{path}:{number}: expected 'right: wrong1 wrong2 ...', got {line[:60]!r}")
        pairs.extend((right.strip(), wrong) for wrong in wrongs.split())
    if not pairs:
        raise CoursemateError(f"{path} has no 'right: wrong ...' lines")
    return pairs


def evaluate_spelling(path: str | Path, corrector: SpellingCorrector) -> dict[str, Any]:
    """Correct every misspelling of the file word by word and score it like Norvig's ``spelltest``."""
    pairs = read_pairs(path)
    started = time.perf_counter()
    guesses = [corrector.correct_word(wrong.lower()) for _, wrong in pairs]
    seconds = time.perf_counter() - started
    failures = [(wrong, guess, right) for (right, wrong), guess in zip(pairs, guesses) if guess != right.lower()]
    unknown = sum(not corrector.is_known(right.lower()) for right, _ in pairs)
    return {
        "test_set": Path(path).name,
        "pairs": len(pairs),
        "correct": len(pairs) - len(failures),
        "accuracy": (len(pairs) - len(failures)) / len(pairs),
        "unknown": unknown / len(pairs),
        "seconds": round(seconds, 3),
        "words_per_second": round(len(pairs) / seconds, 1) if seconds > 0 else None,
        "dictionary": corrector.dictionary_name,
        "ranking": corrector.ranking,
        "failures": [{"wrong": w, "guess": g, "right": r} for w, g, r in failures[:SHOWN_FAILURES]],
    }
