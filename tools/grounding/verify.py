"""Post-hoc citation verification of generated text (answers of any model, LLM summaries).

In the spirit of RAGFlow's ``insert_citations``: the text is split into sentences, each sentence is matched to the
passages that support it (embedding similarity to the passage's best sentence plus the share of the sentence's
content terms found in the passage), markers that point at a passage that does not support their sentence are
corrected or dropped, a marker is added where one passage clearly supports an uncited sentence, and a sentence
that no passage supports is marked ``supported=False``. A model can therefore never invent a citation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from coursemate.retrieval.sentences import segmenter
from coursemate.tools.grounding.citations import MARKER, Citation, Passage, cited_numbers, strip_markers
from coursemate.tools.grounding.extractive import term_overlap

if TYPE_CHECKING:
    from coursemate.retrieval import NotesIndex

MIN_CLAIM_WORDS = 4  # shorter pieces ("Yes.", "In short:") make no claim to support
PARAPHRASE_COSINE = 0.8  # the sentence says what one sentence of the passage says, in other words
SUPPORT_COSINE = 0.5  # or: close in meaning to the passage's best sentences ...
SUPPORT_TERMS = 0.7  # ... which hold most of its content terms (IDF-weighted) ...
SUPPORT_PAIRS = 0.3  # ... and some of its pairs of adjacent terms: "output layer" is not "output gate"
WINDOW = 2  # the passage sentences a sentence is checked against: its closest ones


@dataclass(frozen=True)
class SentenceSupport:
    """One sentence of a generated text (markers removed), the passages that support it, and whether any does."""

    text: str
    citations: tuple[int, ...]
    supported: bool

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Verified:
    """The text with verified markers, the citations it keeps, and each sentence's support."""

    text: str
    citations: list[Citation]
    sentences: list[SentenceSupport]

    @property
    def supported_ratio(self) -> float:
        claims = [s.supported for s in self.sentences]
        return sum(claims) / len(claims) if claims else 1.0


def split_generated(text: str) -> list[str]:
    """Sentences of a generated text, each with the markers that follow it (``"... pooling. [2]"`` keeps ``[2]``)."""
    pieces: list[str] = []
    for block in (b for b in (text or "").splitlines() if b.strip()):
        for piece in segmenter().segment(block):
            piece = piece.strip()
            lead = MARKER.match(piece)
            while lead and pieces:  # markers written after the full stop belong to the previous sentence
                pieces[-1] += " " + lead.group(0)
                piece = piece[lead.end():].strip()
                lead = MARKER.match(piece)
            if piece:
                pieces.append(piece)
    return pieces


def with_markers(sentence: str, numbers: list[int]) -> str:
    """``sentence`` with ``[n]`` markers placed before its closing punctuation ("... state [1].")."""
    if not numbers:
        return sentence
    body, end = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?" else (sentence, "")
    return body + "".join(f" [{n}]" for n in numbers).replace("] [", "][") + end


def support_scores(index: NotesIndex, sentences: list[str], passages: list[Passage]) -> np.ndarray:
    """``scores[i, j] > 0`` when passage ``j`` supports sentence ``i`` (larger: closer); 0 when it does not.

    Support means: a paraphrase of one of the passage's sentences, or close in meaning to its ``WINDOW`` closest
    sentences while those hold most of the sentence's content terms and some of its adjacent term pairs. A sentence
    that gets the facts wrong in the passage's own words ("the three gates are the output layer, the input layer
    and the memory") fails the pairs.
    """
    scores = np.zeros((len(sentences), len(passages)), dtype=np.float32)
    if not sentences or not passages:
        return scores
    vectors = index.embed(sentences)
    for j, passage in enumerate(passages):
        records, rows = index.chunk_sentences(passage.chunk)
        texts = [r.text for r in records]
        if not texts:
            continue
        similarity = vectors @ rows.T
        for i, sentence in enumerate(sentences):
            closest = np.argsort(-similarity[i])[:WINDOW]
            cosine = float(similarity[i, closest[0]])
            window = " ".join(texts[k] for k in closest)
            overlap = float(term_overlap(index, sentence, [window])[0])
            pairs = _pair_overlap(index.tokenizer(sentence), index.tokenizer(window))
            if cosine >= PARAPHRASE_COSINE or (cosine >= SUPPORT_COSINE and overlap >= SUPPORT_TERMS
                                                and pairs >= SUPPORT_PAIRS):
                scores[i, j] = cosine + overlap
    return scores


def _pair_overlap(terms: list[str], source: list[str]) -> float:
    """The share of adjacent term pairs of ``terms`` that are adjacent in ``source`` too (1.0 with no pairs)."""
    pairs = set(zip(terms, terms[1:]))
    return len(pairs & set(zip(source, source[1:]))) / len(pairs) if pairs else 1.0


def verify_citations(index: NotesIndex, text: str, passages: list[Passage]) -> Verified:
    """``text`` with every marker checked against the passage it names; see the module docstring."""
    pieces = split_generated(text)
    plain = [strip_markers(p) for p in pieces]
    claims = [i for i, s in enumerate(plain) if len(s.split()) >= MIN_CLAIM_WORDS]
    scores = support_scores(index, [plain[i] for i in claims], passages)
    by_number = {p.n: j for j, p in enumerate(passages)}
    out, sentences, used = [], [], set()
    for i, sentence in enumerate(plain):
        if i not in claims:
            out.append(sentence)
            continue
        row = scores[claims.index(i)]
        kept = [n for n in cited_numbers(pieces[i]) if n in by_number and row[by_number[n]] > 0]
        if not kept and row.size and row.max() > 0:
            kept = [passages[int(np.argmax(row))].n]
        used.update(kept)
        sentences.append(SentenceSupport(sentence, tuple(kept), bool(kept)))
        out.append(with_markers(sentence, kept))
    citations = [p.citation() for p in passages if p.n in used]
    return Verified(" ".join(out).strip(), citations, sentences)
