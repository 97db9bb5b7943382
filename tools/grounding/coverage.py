"""Coverage: whether the retrieved notes cover a question, from several signals (dense, sentence, terms, a missing
rare term) weighed into one score."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from coursemate.retrieval.types import Hit

COVERAGE_PASSAGES = 4
# Coverage.score: a logistic regression over (sentence, terms, dense, missing rare term) fitted on the dev split
# (answerable course questions against near- and off-topic ones), shifted so that 0 keeps false refusals <= 2.5 %.
# The rarity of the missing term is its IDF as a share of an unseen term's, so the weights hold for any corpus size.
COVERAGE_WEIGHTS = (1.187, 0.547, 0.919, -7.840)
COVERAGE_BIAS = 6.584


def best_similarity(hits: list[Hit]) -> float:
    """The highest dense (cosine) score among ``hits``; 0 when none has one."""
    return max((h.dense_score for h in hits if h.dense_score is not None), default=0.0)


@dataclass(frozen=True)
class Coverage:
    """How well the retrieved passages cover a question, from several signals.

    ``dense``: the best passage cosine; ``sentence``: the best cosine between the question and one sentence of
    the top passages; ``terms``: the IDF-weighted share of the question's terms found in the top passages;
    ``missing``: the highest IDF of a question term that none of them contains, as a share of the IDF of a term
    no chunk contains (1.0 for a term such as "LoRA" that the notes never mention).
    """

    dense: float
    sentence: float
    terms: float
    missing: float

    def score(self) -> float:
        """One number: the question counts as covered from 0 up (``coverage_min_score``; dev split)."""
        signals = (self.sentence, self.terms, self.dense, self.missing)
        return COVERAGE_BIAS + sum(w * x for w, x in zip(COVERAGE_WEIGHTS, signals))

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()} | {"score": round(self.score(), 4)}


def coverage(index, question: str, hits: list[Hit], top: int = COVERAGE_PASSAGES) -> Coverage:
    """The coverage signals of ``question`` over its best ``top`` hits."""
    hits = hits[:top]
    if not hits:
        return Coverage(0.0, 0.0, 0.0, 0.0)
    query = index.embed([question])[0]
    sentence = max((float((rows @ query).max()) for texts, rows in (index.chunk_sentences(h.chunk) for h in hits)
                    if texts), default=0.0)
    terms = list(dict.fromkeys(index.tokenizer(question)))
    found_text = set(index.tokenizer(" ".join(h.chunk.text for h in hits)))
    idf = index.idf(terms) if terms else np.zeros(0, dtype=np.float32)
    found = np.array([t in found_text for t in terms], dtype=bool)
    share = float(idf[found].sum() / idf.sum()) if terms and idf.sum() > 0 else 0.0
    unseen = float(index.idf(["\0"])[0])  # the IDF of a term no chunk contains
    missing = float(idf[~found].max()) / unseen if (~found).any() else 0.0
    return Coverage(best_similarity(hits), sentence, share, missing)
