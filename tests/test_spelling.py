"""Spelling correction with the real symspellpy dictionary and the real course vocabulary (from data/notes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coursemate.cli import main
from coursemate.config import DEFAULT_CORPUS_DIR
from coursemate.errors import CoursemateError
from coursemate.eval.spelling import evaluate_spelling, read_pairs
from coursemate.retrieval.spelling import SpellingCorrector, is_code_like, vocabulary_from_texts
from coursemate.tools.text_agent_tools import SpellTool

BENCHMARKS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "spelling"  # shared/ beside the checkout
needs_benchmarks = pytest.mark.skipif(not BENCHMARKS.is_dir(), reason="Norvig test sets not present")


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    """The corrector over the shipped notes' vocabulary (the words NotesIndex.vocabulary() counts)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(DEFAULT_CORPUS_DIR.rglob("*.md"))]
    assert texts, "the shipped notes are missing"
    return SpellingCorrector(vocabulary_from_texts(texts))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("what is a convolutoin", "what is a convolution"),
        ("bacth normalization", "batch normalization"),
        ("the gradeint of the loss", "the gradient of the loss"),
        ("which optimzer", "which optimizer"),
        ("add dropuot", "add dropout"),
        ("use albumentaions", "use albumentations"),
        ("softmx output", "softmax output"),
        ("a batchnrom layer", "a batchnorm layer"),
        ("the recptive feild", "the receptive field"),
    ],
)
def test_course_typos_are_fixed(corrector, typed, expected):
    assert corrector.correct(typed).corrected == expected


def test_domain_words_numbers_and_code_are_left_alone(corrector):
    text = ("resnet softmax albumentations dropout relu batchnorm gradcam: x_train.shape is (60000, 28, 28), "
            "torch.nn.Conv2d, numClasses, LSTM, CIFAR10, lr=0.01, 3x3 kernels, resnet50")
    result = corrector.correct(text)
    assert result.corrected == text
    assert not result.changed and result.changes == []


def test_course_vocabulary_is_what_makes_domain_words_known(corrector):
    text = "resnet relu gradcam pytorch"
    assert SpellingCorrector().correct(text).corrected == "resent rely graham porch"
    assert not corrector.correct(text).changed


def test_a_name_inside_a_sentence_is_corrected_only_towards_a_course_word(corrector):
    assert corrector.correct("How does the Swin Transformer use windows?").corrected == \
        "How does the Swin Transformer use windows?"  # not "Swim" nor "skin": the notes never name it
    assert corrector.correct("What did the Alexnett paper use?").corrected == "What did the alexnet paper use?"


def test_casing_punctuation_and_changes_are_kept(corrector):
    result = corrector.correct("Convolutoin, then (dropuot)!  Done.")
    assert result.corrected == "Convolution, then (dropout)!  Done."
    assert result.changed
    assert result.changes == [("Convolutoin", "Convolution"), ("dropuot", "dropout")]
    assert result.to_dict()["changes"] == [["Convolutoin", "Convolution"], ["dropuot", "dropout"]]


def test_code_like_tokens():
    assert all(is_code_like(t) for t in ["x_train", "model.fit", "numClasses", "LSTM", "3x3", "2024"])
    assert not any(is_code_like(t) for t in ["dropout", "Convolution", "well-known"])


@needs_benchmarks
def test_beats_norvig_on_his_test_sets():
    english_only = SpellingCorrector()
    dev = evaluate_spelling(BENCHMARKS / "spell-testset1.txt", english_only)
    final = evaluate_spelling(BENCHMARKS / "spell-testset2.txt", english_only)
    assert dev["pairs"] == 270 and final["pairs"] == 400
    assert dev["accuracy"] > 0.75  # Norvig's published 75% on the development set
    assert final["accuracy"] > 0.68  # and 68% on the final test set
    assert 0 <= dev["unknown"] < 0.1 and dev["words_per_second"] > 0
    assert "frequency_dictionary_en_82_765" in dev["dictionary"]


def test_malformed_test_set_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("right wrong\n")
    with pytest.raises(CoursemateError, match="expected 'right: wrong1"):
        read_pairs(bad)


def test_spell_tool(corrector):
    tool = SpellTool(corrector)
    assert tool.name == "correct_spelling"
    out = tool.forward("bacth normalization")
    assert out.startswith("batch normalization") and "bacth -> batch" in out


def test_spell_cli_without_an_index_falls_back_to_english(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSEMATE_HOME", str(tmp_path))
    monkeypatch.setenv("COURSEMATE_CORPUS_PATHS", str(tmp_path / "no-notes"))
    assert main(["spell", "--json", "the gradeint of 3x3 kernals"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "original": "the gradeint of 3x3 kernals",
        "corrected": "the gradient of 3x3 kernels",
        "changed": True,
        "changes": [["gradeint", "gradient"], ["kernals", "kernels"]],
    }
    assert "English dictionary alone" in captured.err
