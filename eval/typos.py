"""Deterministic, realistic typos for the course questions' misspelled variants.

Each question gets about one typo per four eligible words (at least one): an adjacent-letter swap, a dropped
letter, a doubled letter or a neighbouring key on a QWERTY keyboard. The random generator is seeded by the
question id, so the variants are reproducible. Regenerate the committed file with ``python -m eval.typos``.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
from pathlib import Path

from coursemate.eval.datasets import COURSE_QUESTIONS
from coursemate.io import atomic_write_jsonl, read_jsonl

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    ch: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)) for row in _ROWS for i, ch in enumerate(row)
}
_WORD = re.compile(r"[A-Za-z]{4,}")


def misspell(text: str, seed: str) -> str:
    """``text`` with reproducible typos (the same ``seed`` always gives the same result)."""
    rng = random.Random(int(hashlib.sha256(seed.encode()).hexdigest(), 16))
    words = [m for m in _WORD.finditer(text) if not m.group().isupper()]
    if not words:
        return text
    chosen = sorted(rng.sample(words, max(1, round(len(words) / 4))), key=lambda m: m.start())
    pieces, last = [], 0
    for match in chosen:
        pieces.append(text[last : match.start()])
        pieces.append(_typo(match.group(), rng))
        last = match.end()
    return "".join(pieces) + text[last:]


def _typo(word: str, rng: random.Random) -> str:
    """One typo inside ``word`` (its first letter is kept, as people rarely get it wrong)."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "neighbour"))
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    neighbours = _NEIGHBOURS.get(word[i].lower(), "")
    if not neighbours:
        return word[:i] + word[i + 1 :]
    replacement = rng.choice(neighbours)
    return word[:i] + (replacement.upper() if word[i].isupper() else replacement) + word[i + 1 :]


def main(path: Path = COURSE_QUESTIONS) -> int:
    """Fill in the ``misspelled`` field of every question of ``path`` (atomically rewritten)."""
    rows = read_jsonl(path)
    for row in rows:
        row["misspelled"] = misspell(row["question"], row["id"])
    atomic_write_jsonl(path, rows)
    print(f"wrote {len(rows)} misspelled variants to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else COURSE_QUESTIONS))
