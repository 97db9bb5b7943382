"""The answer checks that need no language model: refusal detection, citation markers, gold citations."""

from coursemate.eval.answers import cites_gold
from coursemate.eval.datasets import GOLD, EvalQuery, load_dataset
from coursemate.eval.runner import open_index
from coursemate.tools.grounding.citations import NOT_IN_NOTES, Citation, says_not_in_notes


def citation(n: int, text: str = "It clamps every component.", chunk_id: str = "notes#2") -> Citation:
    return Citation(n, chunk_id, "notes", "t", "", text)


def test_refusals_are_recognized_and_answers_are_not():
    assert says_not_in_notes(NOT_IN_NOTES)
    assert says_not_in_notes("Sorry, that is not in the course notes.")
    assert says_not_in_notes("The notes don't cover the capital of Australia.")
    assert says_not_in_notes("The notes do not cover GANs.")
    assert says_not_in_notes("I could not find any information about sourdough in the notes.")
    assert not says_not_in_notes("Dropout randomly ignores 20-50% of neurons during training [1].")


def test_a_citation_counts_when_it_holds_the_gold_evidence():
    query = EvalQuery("q", "?", {GOLD: 1}, doc_id="notes", evidence=(("notes", "clamps every component"),))
    gold = citation(1)
    other = citation(2, "Unrelated.", "notes#3")
    assert cites_gold(query, [other, gold])
    assert not cites_gold(query, [other])


def test_course_questions_are_evaluated_over_the_shipped_notes_whatever_the_home_serves(course_settings, tmp_path):
    own = tmp_path / "my-notes"
    own.mkdir()
    (own / "cooking.md").write_text("# Bread\n\nKnead the dough for ten minutes before it rises.\n")
    index = open_index(course_settings.replace(corpus_paths=[own]), load_dataset("course", "dev"), progress=False)
    assert "blog-alexnet" in index.documents and not any("cooking" in d for d in index.documents)
