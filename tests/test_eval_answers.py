"""The answer checks that need no language model: refusal detection, citation markers, gold citations."""

from eval.answers import cited_sentences, cites_gold, says_not_in_notes
from eval.datasets import GOLD, EvalQuery


def test_refusals_are_recognized_and_answers_are_not():
    assert says_not_in_notes("Sorry, that is not in the course notes.")
    assert says_not_in_notes("The notes don't cover the capital of Australia.")
    assert says_not_in_notes("I could not find any information about sourdough in the notes.")
    assert not says_not_in_notes("Dropout randomly ignores 20-50% of neurons during training [1].")


def test_each_marker_links_its_sentence_to_a_citation():
    answer = "Dropout ignores neurons [1]. It reduces overfitting [1][2]. Unsupported claim [7]. No marker."
    assert cited_sentences(answer, 2) == [
        ("Dropout ignores neurons.", 0),
        ("It reduces overfitting.", 0),
        ("It reduces overfitting.", 1),
    ]


def test_a_citation_counts_when_it_holds_the_gold_evidence():
    query = EvalQuery("q", "?", {GOLD: 1}, doc_id="notes", evidence=(("notes", "clamps every component"),))
    gold = {"chunk_id": "notes#2", "doc_id": "notes", "title": "t", "section": "", "text": "It clamps every component."}
    other = {**gold, "chunk_id": "notes#3", "text": "Unrelated."}
    assert cites_gold(query, [other, gold])
    assert not cites_gold(query, [other])
