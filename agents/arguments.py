"""Deterministic argument extraction for chat requests: what a routed request asks the tool for.

>>> extract("train", "can you fit the small cnn on digits, three passes, lr 0.01?")
{'model': 'mnist_cnn', 'dataset': 'digits', 'epochs': 3, 'lr': 0.01}

Values are parsed as written, not validated: ``epochs -3`` comes back as ``-3`` and an unknown dataset as its
name, so that the tool's own validation gives the same error the CLI gives. Run references come back as
``{"run_ids": [...]}`` or ``{"last": n}``; documents are fuzzy-matched (rapidfuzz) against the notes' titles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

NUMBER_WORDS = {word: n for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"a couple of": 2, "a couple": 2, "couple of": 2, "both": 2, "a pair of": 2, "single": 1})
ORDINALS = {word: n for n, word in enumerate(
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())}
_NUMBER = r"-?\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_FLOAT = r"-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?"

MODEL_ALIASES = {  # alias (a regex) -> model name; the longest alias is tried first
    r"mnist[_ -]?cnn": "mnist_cnn", r"(?:small|course(?:'s)?|little|tiny|mnist) (?:cnn|convnet)": "mnist_cnn",
    r"cnn": "mnist_cnn", r"convnet": "mnist_cnn", r"resnet[_ -]?18": "resnet18", r"resnet": "resnet18",
    r"mlp": "mlp", r"multi-?layer perceptron": "mlp", r"fully[ -]connected(?: network| baseline| net)?": "mlp",
    r"perceptron": "mlp",
}
DATASET_ALIASES = {
    r"(?:sklearn|scikit-learn|scikit)?[' ]*s? ?digits": "digits", r"fashion[_ -]?mnist": "fashion-mnist",
    r"mnist": "mnist", r"cifar[_ -]?10": "cifar10", r"cifar": "cifar10",
}
OPTIMIZER_ALIASES = {r"adamw": "adamw", r"adam": "adam", r"sgd": "sgd", r"(?:plain )?gradient descent": "sgd"}
SCHEDULER_ALIASES = {r"one[ -]?cycle": "onecycle", r"step (?:lr|schedule|scheduler|decay)": "step",
                     r"plateau": "plateau", r"(?:no |without (?:a |any )?)(?:lr )?(?:scheduler|schedule)": "none",
                     r"constant (?:lr|learning rate)": "none"}
NOT_DATASETS = {"a", "an", "the", "my", "it", "this", "that", "cpu", "gpu", "cuda", "top", "them", "me"}
DOCUMENT_WORDS = ("paper", "blog", "post", "article", "one pager", "one-pager", "document", "doc", "write-up",
                  "writeup", "page", "explainer")
SESSION_WORDS = r"(?:session|lecture|class|lesson|week|module)"
RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{6}\b")
DOCUMENT_MATCH_MIN = 80.0  # rapidfuzz token_set_ratio of the request to a title (tuned on the dev split)
DOCUMENT_TIE = 3.0  # two titles this close to the best one: ambiguous


def extract(intent: str, text: str, documents: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """The arguments of a request routed to ``intent``; ``documents``: ``(doc_id, title)`` of the notes."""
    lowered = " ".join(text.lower().split())
    if intent == "train":
        return training_arguments(lowered)
    if intent in ("run_status", "cancel_run"):
        return run_reference(lowered) or {"last": 1}
    if intent == "compare_runs":
        return run_reference(lowered)
    if intent in ("summarize", "quiz"):
        return source_arguments(lowered, list(documents), quiz=intent == "quiz")
    if intent == "spell":
        return {"text": quoted_text(text)} if quoted_text(text) else {}
    if intent == "search":
        query = search_query(lowered)
        return {"query": query} if query else {}
    return {}


# ------------------------------------------------------------------------------------------------ training
def training_arguments(text: str) -> dict[str, Any]:
    """dataset, model, epochs, lr, optimizer, batch_size, scheduler, augment, seed: those the text states."""
    found: dict[str, Any] = {}
    rest = text
    model, rest = _alias(rest, MODEL_ALIASES)
    if model:
        found["model"] = model
    dataset, rest = _alias(rest, DATASET_ALIASES)
    if dataset is None:  # a dataset the course does not have: kept, so that validation names the valid ones
        named = re.search(r"\bdataset (?:called |named )?([a-z][\w:/.-]*)|\bon (?:the )?([a-z][\w:/.-]*)", rest)
        if named and (named.group(1) or named.group(2)) not in NOT_DATASETS:
            dataset = named.group(1) or named.group(2)
    if dataset:
        found["dataset"] = dataset
    epochs = (re.search(rf"(?<![\w.-])({_NUMBER})\s*(?:full |training )?(?:epochs?|passes|pass|rounds?|sweeps?)\b",
                        rest)
              or re.search(rf"\bepochs?\s*(?:=|:|of|to)?\s*({_NUMBER})\b", rest))
    if epochs:
        found["epochs"] = _number(epochs.group(1))
    lr = re.search(rf"\b(?:lr|learning[ -]rate|step size)\s*(?:=|:|of|at|to|is)?\s*({_FLOAT})", rest)
    if lr:
        found["lr"] = float(lr.group(1))
    optimizer, rest = _alias(rest, OPTIMIZER_ALIASES)
    if optimizer:
        found["optimizer"] = optimizer
    batch = (re.search(rf"\b(?:batch[ -]?size|batches of|batch of|mini-?batch(?:es)? of|bs)\s*(?:=|:|of)?\s*"
                       rf"({_NUMBER})\b", rest)
             or re.search(rf"\b({_NUMBER}) (?:per batch|images per batch|samples per batch)\b", rest))
    if batch:
        found["batch_size"] = _number(batch.group(1))
    scheduler, rest = _alias(rest, SCHEDULER_ALIASES)
    if scheduler:
        found["scheduler"] = scheduler
    if re.search(r"\b(?:no|without) (?:data )?augment", rest):
        found["augment"] = False
    elif re.search(r"\baugment", rest):
        found["augment"] = True
    seed = re.search(r"\bseed\s*(?:=|:|of)?\s*(-?\d+)\b", rest)
    if seed:
        found["seed"] = int(seed.group(1))
    return found


def _alias(text: str, aliases: dict[str, str]) -> tuple[str | None, str]:
    """The value of the first alias found in ``text`` (longest patterns first), and the text without it."""
    for pattern in sorted(aliases, key=len, reverse=True):
        match = re.search(rf"(?<![\w-]){pattern}(?![\w-])", text)
        if match:
            return aliases[pattern], text[:match.start()] + " " + text[match.end():]
    return None, text


def _number(word: str) -> int:
    word = word.strip()
    return NUMBER_WORDS[word] if word in NUMBER_WORDS else int(word)


# ------------------------------------------------------------------------------------------------ runs
def run_reference(text: str) -> dict[str, Any]:
    """``{"run_ids": [...]}`` for ids written out, ``{"last": n}`` for "my last two runs", else ``{}``."""
    ids = RUN_ID.findall(text)
    if ids:
        return {"run_ids": ids}
    count = rf"({_NUMBER})"
    recent = r"(?:last|latest|most recent|recent|previous|newest)"
    match = (re.search(rf"\b{recent} {count} (?:training )?(?:runs|experiments|trainings|jobs)\b", text)
             or re.search(rf"\b{count} {recent} (?:training )?(?:runs|experiments|trainings|jobs)\b", text)
             or re.search(rf"\b{count} (?:training )?(?:runs|experiments|trainings|jobs)\b", text))
    if match:
        return {"last": _number(match.group(1))}
    if re.search(rf"\b{recent} (?:training )?(?:runs|experiments|trainings|jobs)\b", text):
        return {"last": 2}
    if re.search(rf"\b(?:{recent}|current|my|the) (?:training )?(?:run|experiment|training|job|model)\b", text):
        return {"last": 1}
    return {}


# ------------------------------------------------------------------------------------------------ notes
def source_arguments(text: str, documents: list[tuple[str, str]], quiz: bool = False) -> dict[str, Any]:
    """``{"session": n}``, ``{"doc_id": ...}`` (or ``{"doc_candidates": [...]}`` when two titles fit as well),
    or ``{"topic": ...}`` for a summary or a quiz; a quiz adds ``n`` (questions) and ``kind`` when stated."""
    found: dict[str, Any] = {}
    rest = text
    if quiz:
        kind = re.search(r"\b(multiple[ -]choice|mcq|cloze|fill[ -]in[ -]the[ -]blanks?|short[ -]answer)\b", rest)
        if kind:
            found["kind"] = {"m": "mcq", "c": "cloze", "f": "cloze", "s": "short"}[kind.group(1)[0]]
        count = re.search(rf"\b({_NUMBER}) (?:[\w-]+ ){{0,3}}(?:questions|flashcards|cards|items)\b", rest)
        if count:
            found["n"] = _number(count.group(1))
            rest = rest[:count.start()] + rest[count.end():]
    session = (re.search(rf"\b{SESSION_WORDS}\s*#?\s*({_NUMBER})\b", rest)
               or re.search(rf"\b({'|'.join(ORDINALS)}) {SESSION_WORDS}\b", rest))
    if session:
        word = session.group(1)
        found["session"] = ORDINALS[word] if word in ORDINALS else _number(word)
        return found
    subject = _subject(rest, quiz)
    named = [w for w in DOCUMENT_WORDS if re.search(rf"\b{w}\b", rest)]
    if named or any(doc_id in rest for doc_id, _ in documents):
        match = _document(subject, named, documents)
        if match:
            found.update(match)
            return found
    if subject:
        found["topic"] = subject
    return found


def _document(subject: str, named: list[str], documents: list[tuple[str, str]]) -> dict[str, Any] | None:
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
    r"\bwhat (?:are|is|were)\b|\bwhat the notes say\b|\bin (?:a few|\w+) (?:words|sentences|lines)\b|"
    r"\b(?:the |my )?(?:course )?notes?\b|\b(?:on|about|of|for|from|regarding|covering)\b|\b(?:a|an|the)\b")


def _subject(text: str, quiz: bool) -> str:
    """What a summary or quiz request is about: the request without its command and filler words."""
    words = _SUMMARY_WORDS.sub(" ", text)
    return " ".join(re.sub(r"[^\w\s'./+-]", " ", words).split()).strip(" .")


def quoted_text(text: str) -> str | None:
    """The text to spell-check: inside quotes, or after the first colon."""
    quoted = re.search(r"[\"“”'‘’]{1}(.+?)[\"“”'‘’]{1}(?=[\s?.!,]*$|\s)", text)
    if quoted and len(quoted.group(1).split()) >= 1 and not re.fullmatch(r"[st]|ll|re|ve|d|m", quoted.group(1)):
        return quoted.group(1).strip()
    if ":" in text:
        after = text.split(":", 1)[1].strip()
        return after or None
    return None


_SEARCH_LEAD = re.compile(
    r"^.*?\b(?:search(?:es|ing)?(?: the| my| course)?(?: notes| corpus)?(?: for)?|look(?:ing)? up|looking for"
    r"(?: the)?(?: passages?| places?| parts?| mentions?| sections?)?(?: of| about| on| that mention)?|find(?: me)?"
    r"(?: all| every| the)?(?: passages?| places?| parts?| mentions?| sections?| chunks?)?"
    r"(?: of| about| on| that mention)?|"
    r"where (?:do|does|did) (?:the )?(?:notes?|course|sessions?) "
    r"(?:talk about|mention|discuss|cover|say about|explain)|"
    r"which (?:notes|passages|documents|sessions) (?:mention|talk about|discuss|cover)|"
    r"(?:pull|bring) up(?: the)?(?: passages?)?(?: on| about)?)\s+")


def search_query(text: str) -> str:
    """What to search the notes for: the request without its lead ("search the notes for ...")."""
    query = _SEARCH_LEAD.sub("", text, count=1)
    query = re.sub(r"\b(?:in|across|from) (?:the |my )?(?:course )?notes\b|\bplease\b|\bfor me\b", " ", query)
    query = re.sub(r"^(?:the|a|an) ", "", " ".join(query.split()))
    return query.strip(" ?.!\"'")
