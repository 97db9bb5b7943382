"""What the intents' argument extraction shares: numbers as words, quotes, run references, notes sources.

Values are parsed as written, not validated: ``epochs -3`` comes back as ``-3`` and an unknown dataset as its
name, so that the domain function's own validation gives the same error the CLI gives. Run references come back
as ``{"run_ids": [...]}`` or ``{"last": n}``; documents are fuzzy-matched (rapidfuzz) against the notes' titles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

NUMBER_WORDS = {word: n for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"a couple of": 2, "a couple": 2, "couple of": 2, "both": 2, "a pair of": 2, "single": 1})
ORDINALS = {word: n for n, word in enumerate(
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())}
NUMBER = r"-?\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
FLOAT = r"-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?"
DOCUMENT_WORDS = ("paper", "blog", "post", "article", "one pager", "one-pager", "document", "doc", "write-up",
                  "writeup", "page", "explainer")
SESSION_WORDS = r"(?:session|lecture|class|lesson|week|module)"
RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{6}\b")
DOCUMENT_MATCH_MIN = 80.0  # rapidfuzz token_set_ratio of the request to a title (tuned on the dev split)
DOCUMENT_TIE = 3.0  # two titles this close to the best one: ambiguous
# Real quotes only: "…", “…”, «…», `…`, and '…' / ‘…’ opening and closing at word boundaries, so that the
# apostrophe of a contraction or a possessive ("wouldn't", "the students' notes") never delimits text.
QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»|`([^`]+)`|(?<![\w\'‘’])[\'‘](?=\S)([^\'‘’]+?)(?<=\S)[\'’](?!\w)')


def number(word: str) -> int:
    """``"3"`` or ``"three"`` as an int."""
    word = word.strip()
    return NUMBER_WORDS[word] if word in NUMBER_WORDS else int(word)


def quotes(text: str) -> list[str]:
    """The texts inside real quotes, in order."""
    return [next(g for g in match.groups() if g is not None) for match in QUOTED.finditer(text)]


# ------------------------------------------------------------------------------------------------ runs
def run_reference(text: str) -> dict[str, Any]:
    """``{"run_ids": [...]}`` for ids written out, ``{"last": n}`` for "my last two runs", else ``{}``."""
    ids = RUN_ID.findall(text)
    if ids:
        return {"run_ids": ids}
    count = rf"({NUMBER})"
    recent = r"(?:last|latest|most recent|recent|previous|newest)"
    match = (re.search(rf"\b{recent} {count} (?:training )?(?:runs|experiments|trainings|jobs)\b", text)
             or re.search(rf"\b{count} {recent} (?:training )?(?:runs|experiments|trainings|jobs)\b", text)
             or re.search(rf"\b{count} (?:training )?(?:runs|experiments|trainings|jobs)\b", text))
    if match:
        return {"last": number(match.group(1))}
    if re.search(rf"\b{recent} (?:training )?(?:runs|experiments|trainings|jobs)\b", text) or re.search(
            rf"\b{recent} (?:run|one)\b.*\bthe (?:run|one) before\b", text):  # "my last run or the one before it"
        return {"last": 2}
    if re.search(rf"\b(?:{recent}|current|my|the) (?:training )?(?:run|experiment|training|job|model)\b", text):
        return {"last": 1}
    return {}


# ------------------------------------------------------------------------------------------------ notes
def source_arguments(text: str, documents: Sequence[tuple[str, str]], quiz: bool = False) -> dict[str, Any]:
    """``{"session": n}``, ``{"doc_id": ...}`` (or ``{"doc_candidates": [...]}`` when two titles fit as well),
    or ``{"topic": ...}`` for a summary or a quiz; a quiz adds ``n`` (questions) and ``kind`` when stated."""
    found: dict[str, Any] = {}
    rest = text
    if quiz:
        kind = re.search(r"\b(multiple[ -]choice|mcq|cloze|fill[ -]in[ -]the[ -]blanks?|short[ -]answer)\b", rest)
        if kind:
            found["kind"] = {"m": "mcq", "c": "cloze", "f": "cloze", "s": "short"}[kind.group(1)[0]]
        count = re.search(rf"\b({NUMBER}) (?:[\w-]+ ){{0,3}}(?:questions|flashcards|cards|items)\b", rest)
        if count:
            found["n"] = number(count.group(1))
            rest = rest[:count.start()] + rest[count.end():]
    session = (re.search(rf"\b{SESSION_WORDS}\s*#?\s*({NUMBER})\b", rest)
               or re.search(rf"\b({'|'.join(ORDINALS)}) {SESSION_WORDS}\b", rest))
    if session:
        word = session.group(1)
        found["session"] = ORDINALS[word] if word in ORDINALS else number(word)
        return found
    subject = _subject(rest)
    named = [w for w in DOCUMENT_WORDS if re.search(rf"\b{w}\b", rest)]
    if named or any(doc_id in rest for doc_id, _ in documents):
        match = _document(subject, named, documents)
        if match:
            found.update(match)
            return found
    if subject:
        found["topic"] = subject
    return found


def _document(subject: str, named: list[str], documents: Sequence[tuple[str, str]]) -> dict[str, Any] | None:
    """``{"doc_id": ...}`` for the one title that fits ``subject`` (fuzzy, without its document words), or
    ``{"doc_candidates": [...]}`` when several fit as well and the document word ("paper", "post") does not
    single one out; None when no title fits."""
    words = " ".join(w for w in subject.split() if w not in {x for n in named for x in n.split()})
    scored = sorted(((fuzz.token_set_ratio(words or subject, f"{title} {doc_id}", processor=default_process), doc_id)
                     for doc_id, title in documents), reverse=True)
    if not scored or scored[0][0] < DOCUMENT_MATCH_MIN:
        return None
    close = [doc_id for score, doc_id in scored if score >= scored[0][0] - DOCUMENT_TIE]
    titles = dict(documents)
    marked = [d for d in close if any(n in default_process(f"{titles[d]} {d}") for n in map(default_process, named))]
    close = marked if len(marked) == 1 else close
    return {"doc_id": close[0]} if len(close) == 1 else {"doc_candidates": close}


_SUMMARY_WORDS = re.compile(
    r"\b(?:can|could|would|will) you\b|\bplease\b|\bi (?:want|need|would like|'d like)\b|\bgive me\b|\bshow me\b|"
    r"\b(?:write|make|do|prepare|create|produce|generate)(?: me)?\b|\bsummari[sz](?:e|ing|ed)?\b|\bsummary\b|"
    r"\bsum up\b|\bboil (?:it )?down\b|\brecap\b|\btl;?dr\b|\boverview\b|\bmain (?:points|ideas|takeaways)\b|"
    r"\bkey (?:points|ideas)\b|\bgist\b|\bquiz(?:zes)?\b|\btest (?:me|myself|my knowledge)\b|\bwith\b|"
    r"\bflashcards?\b|\bquestions?\b|\bme\b|\bbrief\b|\bshort\b|\bquick\b|"
    r"\bwhat\b|\b(?:is|are|was|were|does|did)\b|\bsays?\b|\btells?(?: us)?\b|\bin a nutshell\b|"
    r"\bin (?:a few|\w+) (?:words|sentences|lines)\b|"
    r"\b(?:the |my )?(?:course )?notes?\b|\b(?:on|about|of|for|from|regarding|covering)\b|\b(?:a|an|the)\b")


def _subject(text: str) -> str:
    """What a summary or quiz request is about: the request without its command and filler words."""
    words = _SUMMARY_WORDS.sub(" ", text)
    return " ".join(re.sub(r"[^\w\s'./+-]", " ", words).split()).strip(" .")


