"""Clean, typed sentences of the notes: what answers, summaries and quizzes may show a student.

Search sees every word of a chunk; a student should only read sentences that stand on their own. At index time
each line of a chunk is a block of one kind (:data:`KINDS`): prose, a lead-in ending in ":" (``lead``), a list
item, a table or log row, code, a heading, or a pointer to a figure or formula that is not there (``figure``).
Each sentence is tidied the same way for any course:

- a heading glued to its first sentence is cut off ("Ricap ricap 22 nov 2018 ricap crops ..." -> "Ricap crops ...");
- words glued where links were stripped are split again ("thanAlexNetused" -> "than AlexNet used"), using the
  general English word counts and the corpus' own words;
- lowercased exports are truecased: sentence starts, "I", and the cased forms the corpus' cased documents use for
  their terms (:class:`CaseModel`: "resnet" -> "ResNet" when the notes write "ResNet"). Nothing is per term.

A sentence is ``standalone`` when its ``issue`` is empty: prose that ends like a sentence, 6-60 words, that is not
a question, does not point at a missing figure or formula ("shown below", "as follows", a dropped symbol) and does
not open by pointing back ("It ...", "This ..." - ``issue == "back-reference"``: usable right after its antecedent).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from coursemate.retrieval.spelling import english_word_counts

KINDS = ("prose", "lead", "list", "table", "code", "heading", "figure")
MIN_STANDALONE_WORDS = 6
MAX_STANDALONE_WORDS = 60
TITLE_WORDS = 10  # a prose line shorter than this without a full stop is a title or a caption
RUN_ON_WORDS = 40  # a sentence this long without a comma, colon or parenthesis is a run of transcript lines
LOWERCASED_SHARE = 0.03  # a document whose words past a sentence start are this rarely capitalized is lowercased
CASED_MAJORITY = 0.6  # a cased form replaces the lowercase one when the cased documents write it so this often
COMMON_CASED_MAJORITY = 0.8  # ... and this often (at least 3 times) for a common English word ("Adam", "Google")
COMMON_WORD_COUNT = 1_000_000  # a word this frequent in general English is common
LABEL_WORD_COUNT = 20_000_000  # a one-word label this common in English labels a note ("Note:", "Example:")
MIN_GLUED_CHARS = 6  # shorter unknown words are left alone
_INFLECTIONS = ("s", "es", "ies", "d", "ed", "ing", "er", "or", "ly")
FUNCTION_WORDS = frozenset("""the an and or but than then that this these those with without from into onto of in on
at to by for as is are was were be been has have had its their our your his her my it we they not also which where
when while how what""".split())
HEADING_MAX_WORDS = 12  # a heading glued to the start of a sentence has at most this many words (a list of them)
HEADING_BEFORE_ARTICLE = 4  # ... and at most this many before "the", "a", "an", "in" ("Making commits a commit is")
HEADING_ECHO_WORDS = 15  # ... and the clause after it names it again within this many words
HEADING_INNER_WORDS = frozenset("of and & vs on for in to with".split())  # "concept of channels", "lr on plateau"
# words that open or carry a clause, never a heading: quantifiers, subordinators, object pronouns
CLOSED_CLASS = frozenset("""each every few many most some any all both several no even before after since because
although though while once until unless whether using given them us him her let's""".split())
CLAUSE_OPENERS = frozenset("we this these it here there let's our you i now what".split())  # lowercase, mid-line
SHORT_HEADING_OPENERS = frozenset("the a an in".split())  # ... and after a short heading only
OUTLINE_MIN_WORDS = 20  # a lowercased export's first line this long is its outline: the headings it goes through
KNOWN_USES = 3  # a word the corpus uses this often is a word of its own, even when English does not know it
BACK_REFERENCES = ("it ", "it's ", "this ", "these ", "they ", "that ", "such ", "those ", "its ", "their ",
                   "here ", "however", "therefore", "thus", "hence", "so ", "so,", "also", "instead", "similarly",
                   "then ", "now ", "now,", "well,", "finally", "next,", "again", "and ", "but ", "or ", "because ",
                   "which ", "where ", "above", "below", "in contrast", "by contrast", "on the other hand",
                   "as a result", "in addition", "additionally", "moreover", "furthermore", "for example",
                   "for instance", "likewise", "in this case", "in that case", "to do this", "to do so",
                   "in other words", "otherwise", "again", "one such", "another ", "similar is", "the same is",
                   "same is", "same goes", "the same goes", "here,", "then,", "thereby", "of course", "after this",
                   "after that", "firstly", "secondly", "thirdly", "lastly", "besides", "still,", "apart from this")

_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_CODE_LINE = re.compile(
    r"^\s*(?:from \w[\w.]* import |import \w|def \w+\(|class \w+[(:]|return\b|print\(|@\w|>>>|\$ |pip install)"
    r"|[\w\])]\s*=\s*[\w\[({'\"]+.*\(|\w+\.\w+\(.*\)|^\s*[\w.]+\(.*\)\s*$|[{};]\s*$|==|->|\bnn\.\w+|\bself\.")
_FIGURE = re.compile(
    r"\b(?:shown below|shown above|as shown|as follows|the following (?:figure|image|diagram|table|equation|formula"
    r"|code|example)s?|(?:figure|image|diagram|picture|chart|graph|table|animation|video|gif) (?:below|above)"
    r"|look at (?:this|these|the (?:image|figure|diagram|picture))|take a look|see (?:the )?(?:figure|image|"
    r"diagram|below|above)|this (?:image|figure|diagram|picture|animation|video|chart)|below is|above is|here is"
    r"|is given (?:below|by)|given below|like this|as below|as the following|shown here|\bfig\b\.?|source\s*$"
    r"|click|watch"
    r"|below|above|(?:on|to) the (?:right|left)|right side|left side|mentioned (?:earlier|before|previously)"
    r"|as mentioned|as discussed|as we (?:saw|discussed|have seen)|we saw|earlier|previous (?:section|image|figure"
    r"|example|step|code|lecture|session)|in this (?:post|blog|article|video|session|lecture)|this blog)\b",
    re.IGNORECASE,
)
_FORMULA = re.compile(r"\$|\\\(|\\\[|\\[a-z]{3,}\b|\^\{|_\{")  # LaTeX: "$x$", "\(x\)", "\alpha", "^{2}"
_DROPPED_SYMBOL = re.compile(  # "If is small", "was  parameters": a symbol or formula of the export is missing
    r"\b(?:if|of|the|a|an|by|for|to|where)\s+"
    r"(?:is|are|was|were|becomes|equals|=|,|\.)(?=\s|$)",
    re.IGNORECASE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)? {_MONTH},? \d{{4}}|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})"
                   r"\)?\s*[-–—:]?\s*", re.IGNORECASE)
_GLUED_PUNCTUATION = re.compile(r"(?<=[a-z]{2})([:;,])(?=[A-Za-z]{2})")  # "convolutions:spatial"
_AUXILIARY = re.compile(r"\b(?:is|are|was|were|has|have|had|does|do|did|can|could|will|would|should|may|might|must)\b")
_LIST_START = re.compile(r":\s*(?:\d{1,2}|[a-z])[.)]?$")  # "has two major problems: 1": its list cut off after the mark
_LABEL = re.compile(r"^(?:[\w'’()/-]+ ){0,5}[\w'’()/-]+: (.)")  # a short label before a colon
_RUN_ON_LIST = re.compile(r": [a-z][^.;:]{80,}")  # a colon followed by a long lowercase run: a list glued into a line
_GAP = re.compile(r"\w {2,}\w| [.,](?:\s|$)")  # "was  parameters", "ratio : 1 .": a dropped symbol or number
_GARBLED = re.compile(r"\b\d+[a-z]{3,}\b")  # "the range 0 to 13hen each pixel": characters lost in the export
_LINK = re.compile(r"https?:|www\.|\w\.(?:com|org|io|net)\b|\w/\w+/\w")
_REPEATED = re.compile(r"\b([A-Za-z]{3,}(?: \w+){0,3}) \1\b", re.IGNORECASE)  # "max pooling max pooling"
_ENDS_CLAUSE = re.compile(r"(?:[.!]|[.!][)\"”’']|[A-Za-z0-9%)\]])$")
_ENDS_SENTENCE = re.compile(r"[.!?][)\"”’']?$")
_CLAUSE_PUNCTUATION = re.compile(r"[,;:()]")
# "softargmax[1]", "torchsummary [125]": the page's own footnote or mark, never one of the answer's citations
_RUN_TOGETHER = re.compile(r"(?<=[a-z0-9)\]])\s+(?=(?:The|This|These|We|It|Here|There|Our|If|When|However|Now|"
                           r"Let's|Let’s)[ ,])")  # "... the image) Here, image patches ...": a sentence starts
# the subject of what follows a label, pointing at it: "Git push: this command is used to ...", "ReLU: it has ..."
_LABEL_POINTER = re.compile(r"(?:this|it)(?: [a-z]+)? (?=(?:is|are|was|were|can|could|will|would|has|have|does|do|helps"
                            r"|allows|uses|returns|creates|makes|takes|gives)\b)", re.IGNORECASE)
# a label that names a model or method ("MobileNetV3-Small", "Leaky ReLU", "(ELU)") and a verb it is the subject of
_NAME_LABEL = re.compile(r"\b[A-Za-z]+[A-Z0-9][\w-]*|\([A-Z]{2,}\)")
_SUBJECT_VERB = re.compile(r"[A-Z][a-z]{2,}(?<![siu])s (?=[a-z])(?!(?:is|are|was|were|can|will|have|has)\b)")
# "(remember heads) the paper ...": a speaker's aside, never "(x, y) are ..." or "(2017)"
_ASIDE = re.compile(r"^\((?=[^()]*[A-Za-z]{3})[A-Za-z][^(),]{0,40}\)\s+(?=[a-z]+ )")
# "Here, position embeddings are used ...": a connective that only links to the sentence before; what follows it
# stands alone unless it points back itself ("However, it ...": still a back-reference)
_CONNECTIVE = re.compile(r"^(?:here|so|thus|hence|therefore|also|of course|now|well|basically|in addition|additionally"
                         r"|moreover|furthermore|finally|then|again|in other words|besides|however"
                         r"|thereby|still|firstly|secondly|thirdly|lastly|next|in fact|indeed|essentially|in general"
                         r"|generally|in practice|in short|in simple terms|in simpler terms|simply put)"
                         r",\s+(?=[A-Za-z])",
                         re.IGNORECASE)
_CONCLUSION = re.compile(  # "This also means that two layers of 3x3 ...": the conclusion reads alone
    r"^(?:this|that) (?:also |then |simply )?(?:means|implies)(?: that)?\s+(?=[A-Za-z])",
    re.IGNORECASE)
_CAMEL_GLUE = re.compile(r"([a-z]{4,})([A-Z][A-Za-z0-9]*)")
_FOOTNOTE = re.compile(r"\s?\[(?:\d+|ref|reference|source|citation needed)\s*\]", re.IGNORECASE)  # "[125]", "[ref]"
_CUT_SHORT = re.compile(r"\b(?:e|i|e\.g|i\.e|etc|vs|fig|eq|no|approx)\.$", re.IGNORECASE)  # split at "e.g."
_NARRATION = re.compile(  # the course's own story, not its subject: "Let's look at ...", "we'll cover this later"
    r"\b(?:let's|let’s|let us|till now|we'll (?:cover|see|look|discuss|learn)|we’ll (?:cover|see|look|discuss|learn)"
    r"|we will (?:see|look|cover|discuss|learn|be using)|(?:next|previous|this|today's) (?:session|lecture|class)"
    r"|in this (?:post|article|blog|video|chapter|tutorial))\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I've|I’ve|I'll|I’ll|I'd|[Mm]y|me)\b")
_DEIXIS = re.compile(  # "To solve these issues", "he": it needs the sentence before it
    r"\b(?:these|those|this|such|that|the same|the above|the previous) (?:issues?|problems?|concepts?|methods?"
    r"|approach(?:es)?|ideas?|cases?|steps?|results?|techniques?|examples?|papers?|ways?|things?|points?|changes?)\b"
    r"|^(?:(?!(?<=\s)(?-i:[A-Z][a-z])).)*?\b(?:he|she|his|her|him)\b"  # "by Ian Goodfellow on his paper": named
    r"|\b(?:this|that|these|those|it)\s*[,.;:!?]"
    r"|^the (?:paper|authors?|article|researchers|writers?)\b", re.IGNORECASE)  # "The paper address ...": which paper?
_OPENING_REFERENCE = re.compile(  # "To overcome this trade-off, we ...", "with mentioned approach"
    r"^(?:[\w'’-]+ ){0,4}(?:this|these|those|such) [\w'’-]+(?: [\w'’-]+)?,"
    r"|\b(?:aforementioned|above-mentioned|mentioned (?:above|earlier|before)|(?:with|using|by) (?:the )?mentioned)\b",
    re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*")
_ALPHA = re.compile(r"[A-Za-z]+")
_WORDLIKE = re.compile(r"[A-Za-z0-9]")
_SENTENCE_OPENING = re.compile(r"(?:^|[.!?:]\s+|^\s*(?:[-*•]|\d+[.)])\s+|\n\s*)$")


@dataclass(frozen=True)
class NoteSentence:
    """One sentence of the notes as a student may read it: its clean ``text``, its block ``kind`` and the ``issue``
    that keeps it from standing alone ("" when it does)."""

    text: str
    kind: str
    issue: str = ""

    @property
    def standalone(self) -> bool:
        return not self.issue


def comes_from(sentence: str, text: str) -> bool:
    """Whether ``sentence`` (a clean sentence, maybe with its heading cut, words unglued and truecased) is a piece
    of ``text``: its letters and digits, in order, without case or spacing."""
    return _letters(sentence) in _letters(text)


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _FOOTNOTE.sub("", text).lower())  # the notes' own "[125]", "[ref]" marks dropped


def word_count(text: str) -> int:
    """The words of ``text`` that hold a letter or digit (a dash or bullet is not a word)."""
    return sum(1 for word in text.split() if _WORDLIKE.search(word))


def is_lowercased(text: str) -> bool:
    """Whether ``text`` was lowercased by its export: its words past a sentence start are hardly ever capitalized."""
    inner = [m.group() for m in _TOKEN.finditer(text) if not _SENTENCE_OPENING.search(text[max(0, m.start() - 3):
                                                                                           m.start()])]
    if len(inner) < 50:
        return False
    return sum(any(ch.isupper() for ch in w) for w in inner) / len(inner) < LOWERCASED_SHARE


@functools.lru_cache(maxsize=1)
def _english() -> dict[str, int]:
    return english_word_counts()


def english_count(word: str) -> int:
    """How often ``word`` occurs in general English (the spelling dictionary's count; 0 for an unknown word)."""
    return _english().get(word.lower(), 0)


def points_back(sentence: str) -> bool:
    """Whether ``sentence`` opens by pointing back at an earlier one ("It ...", "This ...", "However ...")."""
    return sentence.lower().startswith(BACK_REFERENCES)


def refers_back_in_opening(sentence: str) -> bool:
    """Whether ``sentence``'s opening clause names something said before it ("To overcome this trade-off, we
    introduce ...", "... with mentioned approach"): whole, it still reads as a sentence (a quiz may use it), but an
    answer that quotes it needs the sentence before it."""
    return bool(_OPENING_REFERENCE.search(sentence))


class CaseModel:
    """How the corpus writes its words: the cased form of each term (learned from its cased documents), the
    corpus' word counts, and the outlines of its lowercased exports (a session's first line lists its headings),
    used to truecase lowercased exports, to split glued words and to cut off headings glued to sentences."""

    def __init__(self, forms: dict[str, str], counts: Counter[str], outlines: tuple[str, ...] = ()) -> None:
        self.forms = forms
        self.counts = counts
        self.outlines = outlines

    @classmethod
    def learn(cls, texts: Iterable[str]) -> CaseModel:
        """The model of ``texts`` (the documents of a corpus): forms from those that are not lowercased."""
        votes: dict[str, Counter[str]] = {}
        counts: Counter[str] = Counter()
        outlines: list[str] = []
        for text in texts:
            counts.update(m.group().lower() for m in _TOKEN.finditer(text))
            if is_lowercased(text):
                first = next((line for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
                if word_count(first) >= OUTLINE_MIN_WORDS:
                    outlines.append(f" {_plain_words(first)} ")
                continue
            for line in text.splitlines():
                words = list(_TOKEN.finditer(line))
                if line.lstrip().startswith("#") or sum(m.group()[0].isupper() for m in words) > 0.5 * len(words):
                    continue  # a heading or a title capitalizes every word
                for m in words:
                    if not _SENTENCE_OPENING.search(line[max(0, m.start() - 3):m.start()]):
                        votes.setdefault(m.group().lower(), Counter())[m.group()] += 1
        forms = {}
        for lower, forms_seen in votes.items():
            form, n = forms_seen.most_common(1)[0]
            common = english_count(lower) >= COMMON_WORD_COUNT  # "dense", "unit": cased only when always cased
            if form != lower and n >= (3 if common else 1) and n >= (
                    COMMON_CASED_MAJORITY if common else CASED_MAJORITY) * sum(forms_seen.values()):
                forms[lower] = form
        return cls(forms, counts, tuple(outlines))

    def truecase(self, sentence: str) -> str:
        """``sentence`` with its terms in the corpus' cased forms, "i" as "I", and a capital first letter."""
        def case(m: re.Match) -> str:
            word = m.group()
            if word == "i" and not sentence[m.end():m.end() + 1] == ".":  # "i", not "i.e."
                return "I"
            if word.islower():
                return self.forms.get(word, word)
            form = self.forms.get(word.lower(), "")
            if word[1:].islower() and any(ch.isupper() for ch in form[1:]):
                return form  # "Gpt" opening a lowercased line: "GPT"
            return word

        text = _TOKEN.sub(case, sentence)
        first = next((i for i, ch in enumerate(text) if ch.isalnum()), None)
        if first is not None and text[first].islower():
            text = text[:first] + text[first].upper() + text[first + 1:]
        return text

    def unglue(self, sentence: str) -> str:
        """``sentence`` with words glued where links were stripped split again ("thanAlexNetused")."""
        return _ALPHA.sub(lambda m: " ".join(self._split(m.group())), sentence)

    def _known(self, lower: str) -> bool:
        """A word of English, a name of the corpus, or a word the corpus uses often (not a one-off gluing)."""
        return lower in _english() or self.counts.get(lower, 0) >= KNOWN_USES

    def _split(self, word: str) -> list[str]:
        lower = word.lower()
        if len(word) < MIN_GLUED_CHARS or self._known(lower) or any(
                lower.endswith(end) and self._known(lower[:-len(end)]) for end in _INFLECTIONS):
            return [word]  # a word, or a form of one ("logits", "onwards", "augmentor")
        parts = self._split_at_function_word(word)
        camel = _CAMEL_GLUE.fullmatch(word)  # "releasedPaLM", "sentenceHello": a link's text glued after a word
        if len(parts) == 1 and camel and self._known(camel.group(1)):
            return [camel.group(1), camel.group(2)]
        return parts

    def _split_at_function_word(self, word: str) -> list[str]:
        """``word`` cut into two or three known words, one of them a function word; [word] when it is not so."""
        best = _segment(word.lower(), self._cost)
        if best is None or len(best) < 2 or len(best) > 3 or any(len(p) < 3 and p not in FUNCTION_WORDS for p in best):
            return [word]
        parts, start = [], 0
        for piece in best:
            parts.append(word[start:start + len(piece)])
            start += len(piece)
        # a link's text meets its neighbours at a function word ("than", "and", "is"); in a capitalized word, which
        # may be a name ("Tubingen"), only at one of three letters or more
        shortest = 3 if word[:1].isupper() and word[1:].islower() else 2
        if not any(p.lower() in FUNCTION_WORDS and len(p) >= shortest for p in parts):
            return [word]
        return parts

    def _cost(self, piece: str) -> float | None:
        """The cost of ``piece`` as one word (rarer = dearer), None when it is no word."""
        if len(piece) < 2 and piece not in ("a", "i"):
            return None
        corpus = self.counts.get(piece, 0)
        english = _english().get(piece, 0)
        if corpus < 2 and english < 1000:
            return None
        return -math.log((english + 10_000 * corpus + 1) / 1e12)


def _segment(word: str, cost) -> list[str] | None:
    """The cheapest split of ``word`` into words (dynamic programming over its prefixes), None when none exists."""
    best: list[tuple[float, int] | None] = [None] * (len(word) + 1)
    best[0] = (0.0, 0)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 25), end):
            if best[start] is None:
                continue
            c = cost(word[start:end])
            if c is not None and (best[end] is None or best[start][0] + c < best[end][0]):
                best[end] = (best[start][0] + c, start)
    if best[-1] is None:
        return None
    pieces, end = [], len(word)
    while end > 0:
        start = best[end][1]
        pieces.append(word[start:end])
        end = start
    return pieces[::-1]


def split_run_together(piece: str) -> list[str]:
    """``piece`` split where two sentences of a cased text run together without a full stop ("... (flattening the
    image) Here, image patches are ...": a capitalized sentence opener right after a lowercase word or a bracket)."""
    return [part for part in _RUN_TOGETHER.split(piece) if part.strip()]


def strip_glued_heading(sentence: str, outlines: tuple[str, ...] = ()) -> str:
    """``sentence`` without a heading glued to its start: a leading phrase said again right after it ("Clip clip
    stands for ..."), a heading that the clause after it names again or that an export's ``outlines`` list (see
    :func:`_glued_heading_end`), and a date line after a heading ("Patchgaussian - 6 june 2019 prior work ...")."""
    words = sentence.split()
    cut = next((start for k in (4, 3, 2, 1) for start in _repeats_at(words, k)), 0) or _glued_heading_end(words,
                                                                                                           outlines)
    text = " ".join(words[cut:])
    date = _DATE.search(text)
    if date and word_count(text[:date.start()]) <= 6 and word_count(text[date.end():]) >= MIN_STANDALONE_WORDS:
        text = text[date.end():]
    return text


def _restates(label: str, rest: str) -> bool:
    """Whether the sentence after a label says what the label names ("Sparsity: ReLU often results in sparsity"),
    so the label can go; "Leaky ReLU: Allows a small gradient" keeps it (the label is the subject)."""
    named = {w for w in re.findall(r"[a-z0-9]{3,}", label.lower()) if w not in FUNCTION_WORDS}
    said = set(re.findall(r"[a-z0-9]{3,}", rest.lower()))
    return word_count(rest) >= MIN_STANDALONE_WORDS and bool(named & said)


def _defined(label: str, rest: str) -> str:
    """A label that a noun phrase defines, said as a sentence: "DistilBERT: A smaller, faster version of BERT." is
    "DistilBERT is a smaller, faster version of BERT."; "" when ``rest`` is not an indefinite noun phrase (it has a
    verb, or the label is a plural, which "is" would not fit)."""
    words = label.split()
    if not re.match(r"An? [a-z]", rest) or word_count(rest) < 4 or _AUXILIARY.search(rest) or (
            words[-1].endswith("s") and not words[-1].isupper()) or (
            len(words) == 1 and english_count(label.lower()) >= LABEL_WORD_COUNT):
        return ""
    return f"{label} is {rest[0].lower()}{rest[1:]}"


def _repeats_at(words: list[str], k: int) -> list[int]:
    """Where the sentence's first ``k`` words are said again right after them, past nothing but function words or
    marks ("Self attention the self-attention ..." -> [3]); [] when they are not."""
    head = _plain(words[:k])
    if len(words) <= 2 * k or len(head) < 3 or words[0].lower() in FUNCTION_WORDS:
        return []
    for start in range(k, min(k + 3, len(words))):
        if start > k and not all(w.lower() in FUNCTION_WORDS or not _plain([w]) for w in words[k:start]):
            break
        if any(_plain(words[start:start + m]) == head for m in range(1, k + 2)):
            return [start]
    return []


def _glued_heading_end(words: list[str], outlines: tuple[str, ...] = ()) -> int:
    """Where a clause starts after a heading glued to it, 0 when there is none. The heading is a noun phrase (no
    auxiliary, no function word but "of", "and", "vs", ...) followed by a word that opens a clause: a pronoun (after
    a short heading also "in" or an article), and either an export's outline lists it ("Reduce lr on plateau the
    "patience" ...": the session's first line names "reduce lr on plateau") or the clause names it again ("Learning
    rates the learning rate is ...", "Kernels let's look at what 3x3 kernels ...", "Step 2 in the second step"):
    within :data:`HEADING_ECHO_WORDS` words, or right after the article."""
    for k in range(1, min(HEADING_MAX_WORDS + 1, len(words) - MIN_STANDALONE_WORDS)):
        word = words[k - 1].lower()
        if not re.fullmatch(r"[A-Za-z0-9&'-]+", word) or _AUXILIARY.fullmatch(word) or word in CLOSED_CLASS or (
                word in FUNCTION_WORDS | {"a"} and (k == 1 or word not in HEADING_INNER_WORDS)):
            return 0
        opener = words[k]
        if opener not in CLAUSE_OPENERS and (opener not in SHORT_HEADING_OPENERS or k > HEADING_BEFORE_ARTICLE):
            continue
        if k >= 2 and any(f" {_plain_words(' '.join(words[:k]))} " in outline for outline in outlines):
            return k
        named = {_stem(w) for w in words[:k] if w.lower() not in FUNCTION_WORDS and len(_stem(w)) >= 3}
        span = words[k + 1:k + 3] if opener in ("the", "a", "an") else words[k + 1:k + 1 + HEADING_ECHO_WORDS]
        if named & {_stem(w) for w in span}:
            return k
    return 0


def _plain_words(text: str) -> str:
    """``text``'s words, lowercase, without marks, one space apart ("Reduce LR on plateau" -> "reduce lr on
    plateau")."""
    return " ".join(re.findall(r"[a-z0-9&'’-]+", text.lower()))


def _stem(word: str) -> str:
    """``word`` lowercased, without marks or a plural "s"/"es" ("commits" and "commit" are one word here)."""
    plain = re.sub(r"[^a-z0-9]", "", word.lower())
    return plain[:-2] if plain.endswith("es") and len(plain) > 4 else plain[:-1] if plain.endswith("s") and len(
        plain) > 3 else plain


def _plain(words: list[str]) -> str:
    return re.sub(r"[^a-z0-9]", "", " ".join(words).lower())


def line_kind(line: str, next_line: str = "") -> str:
    """The block kind of one line of a chunk (before it is split into sentences)."""
    s = line.strip()
    if s.startswith(("\\#", "# ", "//")) and not s.startswith("# ") or s.startswith("```"):
        return "code"  # a code comment ("\\# build the model") or a fence
    if s.startswith("#"):
        return "heading"
    if s.startswith("|") or s.count("|") >= 2:
        return "table"
    if _CODE_LINE.search(s) and not s.endswith((".", "?", "!")) or s.startswith(("import ", "from ")) and " import " \
            in s:
        return "code"
    if _LIST_ITEM.match(s):
        return "list"
    if s.endswith(":") and _LIST_ITEM.match(next_line.strip() or "x"):
        return "lead"
    return "prose"


def sentence_issue(raw: str, text: str, kind: str) -> tuple[str, str]:
    """The block kind of one sentence (refined from its line's ``kind``) and what keeps it from standing alone."""
    if kind in ("code", "table", "heading"):
        return kind, kind
    words = word_count(text)
    tokens = text.split()
    digits = sum(1 for t in tokens if any(ch.isdigit() for ch in t))
    if text.count(":") >= 2 or (words >= 6 and digits / max(words, 1) > 0.35):
        return "table", "table"
    if _CODE_LINE.search(text) and not re.search(r"[a-z]{3,} [a-z]{3,} [a-z]{3,}", text):
        return "code", "code"
    if _FORMULA.search(raw) or _DROPPED_SYMBOL.search(text) or _GAP.search(raw) or _GARBLED.search(text):
        return "figure", "missing symbol"
    if _FIGURE.search(text):
        return "figure", "figure"
    if text.endswith(":") or _LIST_START.search(text):
        return ("lead", "lead-in") if kind == "lead" else ("figure", "lead-in without its list")
    if _LINK.search(text):
        return "prose", "link"
    if _REPEATED.search(text):
        return "prose", "repeated words"
    if kind == "list":
        return "list", "" if MIN_STANDALONE_WORDS <= words <= MAX_STANDALONE_WORDS and _ENDS_CLAUSE.search(
            text) and " - " not in text else "list item"
    if _CUT_SHORT.search(text):
        return "prose", "cut short"
    if re.search(r"\?\s+[A-Z]", text):
        return "prose", "run-on"  # "Dropout (what gets dropped? How does it help? ) weight penalty ...": lines glued
    if text.endswith("?"):
        return "prose", "question"
    if text.endswith("!"):
        return "prose", "exclamation"
    label = _LABEL.match(text)
    if label and not label.group(1)[:1].isupper():
        return "prose", "label"  # "Source: andrew ng starting with ..."
    if text.count(" - ") >= 2 or _RUN_ON_LIST.search(text):
        return "list", "inline list"
    if words < MIN_STANDALONE_WORDS:
        return "prose", "too short"
    if words > MAX_STANDALONE_WORDS:
        return "prose", "too long"
    if not _ENDS_CLAUSE.search(text) or words < TITLE_WORDS and not _ENDS_SENTENCE.search(text):
        return "prose", "no end"  # a short line without a full stop is a title ("Activation functions and which one")
    if text.count("(") != text.count(")"):
        return "prose", "unbalanced"  # "(you must be running validation ... share the link": lines run together
    if words >= RUN_ON_WORDS and not _CLAUSE_PUNCTUATION.search(text):
        return "prose", "run-on"
    if text[:1].islower():
        return "prose", "lowercase start"
    if _NARRATION.search(text):
        return "prose", "narration"
    if _FIRST_PERSON.search(text):
        return "prose", "first person"  # "I could replicate the results": the author's story, not the subject
    if points_back(text) or _DEIXIS.search(text):
        return "prose", "back-reference"
    return "prose", ""


def tidy(piece: str, case: CaseModel | None) -> str:
    """The clean text of one sentence: list marks, emphasis, an opening aside, connective or restatement ("Here,
    ...", "This means that ..."), glued headings and a label that the sentence after it restates ("Sparsity: ReLU
    often results in sparsity", "Pooling the gradients: pool the gradients ...") removed, a label it points at kept
    ("Git push: This command is ..."), words unglued, truecased."""
    text = _ASIDE.sub("", _FOOTNOTE.sub("", _EMPHASIS.sub("", _LIST_ITEM.sub("", piece.strip()))))
    text = " ".join(_GLUED_PUNCTUATION.sub(r"\1 ", text).split()).strip("* ")
    text = strip_glued_heading(case.unglue(text), case.outlines) if case is not None else strip_glued_heading(text)
    label = _LABEL.match(text)
    if label:
        name, rest = text[:label.start(1) - 2], text[label.start(1):]
        named = re.fullmatch(r"[A-Za-z]\w*(?: \w+){0,2}", name) and not points_back(text)
        pointer = _LABEL_POINTER.match(rest) if named else None
        if pointer:  # "Git push: this command is used to ...": the label stays, it is what "this command" names
            text = f"{name}: {rest[:1].upper()}{rest[1:]}"
        elif _NAME_LABEL.search(name) and _SUBJECT_VERB.match(rest):  # "MobileNetV3-Small: Prioritizes low ..."
            text = f"{name} {rest[:1].lower()}{rest[1:]}"
        elif _restates(name, rest):
            text = rest  # "Pooling the gradients: pool the gradients ..." (truecasing capitalizes it)
        else:
            text = _defined(name, rest) or text
    connective = _CONNECTIVE.match(text) or _CONCLUSION.match(text)
    if connective:
        text = text[connective.end()].upper() + text[connective.end() + 1:]
    return case.truecase(text) if case is not None else text
