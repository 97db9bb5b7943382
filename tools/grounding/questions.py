"""What a question asks: its type and its focus terms, read from its wording alone (any course, no model).

The type says what kind of sentence answers it: a number for "how many", "X is ..." for "what is X", a sentence
naming both sides for a comparison, a cause for "why", steps or a means for "how", a list for "which are the
types of". The focus is the question's content words; its most specific term (the rarest in general English,
e.g. "DDIM", "rotary") is what an answer must be about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coursemate.retrieval.notetext import english_count

QUESTION_TYPES = ("number", "why", "how", "comparison", "choice", "list", "person", "definition", "yesno", "other")
SPECIFIC_MAX_COUNT = 10_000_000  # a term rarer than this in general English can name what a question is about
FOCUS_MAX_COUNT = 2_000_000  # ... and one rarer than this is the focus an answer's sentences should name

_NUMBER = re.compile(
    r"^\W*(?:how (?:many|much|long|big|large|deep|wide|fast|often|far|old|small)|what(?:'s| is| was)? (?:the )?"
    r"(?:percentage|percent|number|size|count|value|accuracy|error rate|rate|year|ratio|dimension|depth|amount"
    r"|budget|total)|in (?:what|which) year|when (?:was|did|were))\b|\bhow many\b|\bnumber of\b|\bwhat (?:value|"
    r"accuracy|size|percentage)\b|^\W*(?:which|what) (?:[\w-]+ ){0,2}(?:value|size|rate|accuracy|percentage|count|"
    r"ratio|budget|dimension)s? (?:do|does|did|is|are|was|were|can|should|would)\b", re.IGNORECASE)
_WHY = re.compile(r"^\W*(?:why|what (?:is|was) the (?:reason|purpose|point|motivation)|what for|for what reason)\b"
                  r"|\b(?:why|reason|purpose)\b|\b(?:used|useful|good|needed) for\W*$", re.IGNORECASE)
_HOW = re.compile(r"^\W*(?:how (?:do|does|did|is|are|was|were|can|should|to|would)|what happens|in what way)\b",
                  re.IGNORECASE)
_COMPARISON = re.compile(r"\b(?:difference|differences|differ|differs|compare[ds]?|comparison|versus|vs\.?|"
                         r"compared (?:to|with)|better than|worse than|unlike|instead of|rather than)\b",
                         re.IGNORECASE)
_LIST = re.compile(r"^\W*(?:list|name|enumerate)\b|\b(?:what|which) (?:are|were) (?:the )?(?:\w+ ){0,3}(?:types|"
                   r"kinds|steps|components|parts|stages|ways|layers|methods|techniques|categories|operations|"
                   r"problems|advantages|disadvantages|benefits|gates|elements)\b", re.IGNORECASE)
_DEFINITION = re.compile(r"^\W*(?:what(?:'s| is| are| was| were| does| do)|define|definition of|meaning of|"
                         r"what do you mean|who (?:is|was)|explain)\b|\b(?:stand for|stands for|mean by|refer to|"
                         r"refers to|defined)\b", re.IGNORECASE)
# "which activation does", "which network uses": the kind of thing the answer names
_SLOT = re.compile(r"^\W*(?:which|what)\s+((?:[\w-]+\s+){0,2}?[\w-]+)\s+(?:do|does|did|is|are|was|were|can|could|"
                   r"has|have|had|will|would|should|must|may|might|uses|used)\b", re.IGNORECASE)
_LEAD_IN = re.compile(r"^\W*(?:(?:and|so|but|also|then|ok|okay|now)\b[\s,]*)+", re.IGNORECASE)  # "and how big ...?"
_PERSON = re.compile(r"^\W*who\b|\b(?:which|what) (?:person|researchers?|authors?|scientists?|people)\b",
                     re.IGNORECASE)  # "Who came up with RMSprop?": a name answers it
_YESNO = re.compile(r"^\W*(?:is|are|does|do|did|can|could|should|will|would|was|were|has|have)\b", re.IGNORECASE)
# a word, a term that opens with a digit ("1x1", "3d") or a number of two digits or more ("512", "2014")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#-]*[A-Za-z0-9+#]|[A-Za-z]|\b\d+[A-Za-z][A-Za-z0-9]*|\b\d{2,}\b")
_NOT_FOCUS = frozenset("""
what which who whom whose when where why how is are was were be been being do does did done doing can could should
would will shall may might must have has had having a an the this that these those it its they them their there here
of in on at to for from by with about into over under between through during before after above below up down out
and or but if then than so as not no nor too very just also only even much many more most less few some any each
every all both either neither other another such same own i me my we our you your he she his her us use used using
uses mean means meaning meant call called tell explain describe define definition difference differences differ
compare compared comparison versus vs way ways thing things kind type types example examples get gets got make
makes made give gives given happen happens happened work works worked need needs needed say says said notes note
course lecture session sessions part one two first second does doing idea purpose reason point role actually
exactly really basically please help show shown like different value number size whats stand stands acronym
abbreviation
""".split())


@dataclass(frozen=True)
class Question:
    """A question's ``kind`` (one of :data:`QUESTION_TYPES`), its ``focus`` words (in order, lowercase), its
    ``specific`` terms (focus words rare in general English or written as names, rarest first), for a
    comparison or an "X or Y" question, its two ``sides``, and for a "which X ...?" question the ``slot`` X: what
    kind of thing the answer names ("activation" in "Which activation does the discriminator use?")."""

    text: str
    kind: str
    focus: tuple[str, ...]
    specific: tuple[str, ...]
    sides: tuple[str, str] | None = None
    names: frozenset[str] = frozenset()
    slot: tuple[str, ...] = ()

    def focus_term(self, idf) -> str | None:
        """The specific term that the notes use most rarely (``idf(word) -> float``, 0 when unused), or None."""
        used = [(idf(w), w) for w in self.specific if idf(w) > 0 and english_count(w) < FOCUS_MAX_COUNT]
        return max(used)[1] if used else None

    def missing(self, in_notes) -> str | None:
        """The term naming what is asked that the notes never use (``in_notes(word) -> bool``), or None: a name
        written as one ("LoRA", "DDIM", "Mamba") or a word general English does not know ("checkpointing"). A
        paraphrase of the notes in plain English ("forgers", "slimmer", "single-letter") is not one."""
        named = [w for w in self.focus if w in self.names or (
            english_count(w) == 0 and "-" not in w and not any(ch.isdigit() for ch in w) and len(w) > 3)]
        return next((w for w in named if not in_notes(w)), None)


def analyze(question: str) -> Question:
    """The type, focus and sides of ``question``."""
    text = _LEAD_IN.sub("", " ".join(question.split()))
    words = [w for w in _WORD.findall(text) if w.lower() not in _NOT_FOCUS]
    focus = tuple(dict.fromkeys(w.lower() for w in words))
    names = {m.group().lower() for m in _WORD.finditer(text) if m.group().lower() in focus and (
        any(ch.isupper() for ch in m.group()[1:]) or (m.group()[0].isupper() and m.start() > 0))}  # DDIM, Mamba
    slot = _SLOT.match(text)
    slot_words = tuple(w.lower() for w in _WORD.findall(slot.group(1)) if w.lower() not in _NOT_FOCUS) if slot else ()
    return Question(text, _kind(text), focus, _specific(focus, names), _sides(text), frozenset(names), slot_words)


def _kind(text: str) -> str:
    """The first of :data:`_KIND_RULES` that ``text`` matches ("other" when none does)."""
    return next((kind for kind, matches in _KIND_RULES if matches(text)), "other")


def _is_choice(text: str) -> bool:
    """ "Is it X or Y?", "Which ... X or Y?" """
    yes_no = re.search(r"\b\w+ or \w+\b", text) and _YESNO.search(text)
    return bool(yes_no or re.match(r"^\W*which\b.*\bor\b", text, re.I))


_KIND_RULES = (("number", _NUMBER.search), ("comparison", _COMPARISON.search), ("why", _WHY.search),
               ("list", _LIST.search), ("choice", _is_choice), ("how", _HOW.search), ("person", _PERSON.search),
               ("definition", _DEFINITION.search), ("yesno", _YESNO.search))


def _specific(focus: tuple[str, ...], names: set[str]) -> tuple[str, ...]:
    """The focus words that name a topic of their own (rare in general English, or written as a name), rarest
    first."""
    counts = [(0 if w in names else english_count(w), w) for w in focus if len(w) > 2 and not w.isdigit()]
    return tuple(w for count, w in sorted(counts) if count < SPECIFIC_MAX_COUNT)


def _sides(text: str) -> tuple[str, str] | None:
    """The two things compared: "between X and Y", "X vs Y", "X or Y", "X compared to Y" (focus words of each)."""
    patterns = (r"between (.+?) and (.+?)(?:[?.,]|$| in | for | when )",
                r"(\S+(?: \S+)?) (?:vs\.?|versus|or|compared (?:to|with)|rather than|instead of) (\S+(?: \S+)?)")
    for pattern in patterns:
        m = re.search(pattern, text, re.IGNORECASE)
        if m:
            sides = [tuple(w.lower() for w in _WORD.findall(g) if w.lower() not in _NOT_FOCUS) for g in m.groups()]
            if all(sides):
                return " ".join(sides[0]), " ".join(sides[1])
    return None
