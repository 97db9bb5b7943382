"""Question-aware extractive answers (tools/grounding/: extractive.py, questions.py): what the question asks leads, the
answer reads like a tutor's, a term the notes never name is refused, a follow-up names its topic; and the answer
benchmark's readability checks and grader dump (eval/answers.py)."""

from __future__ import annotations

import json

import pytest

from coursemate.agents import CourseAssistant
from coursemate.cli import main
from coursemate.eval.answers import answer_sentences, readability_failures
from coursemate.retrieval.notetext import comes_from, word_count
from coursemate.tools.grounding.citations import strip_markers
from coursemate.tools.grounding.extractive import type_fit
from coursemate.tools.grounding.questions import analyze


@pytest.mark.parametrize("question, kind", [
    ("How many gates does a GRU have?", "number"),
    ("Why do we need non-linear activation functions?", "why"),
    ("What is the difference between SGD and Adam?", "comparison"),
    ("What are the types of separable convolutions?", "list"),
    ("What does BERT stand for?", "definition"),
    ("How does RICAP build a new training image?", "how"),
    ("Is batch normalization used in ResNet?", "yesno"),
    ("What batch size were DCGAN models trained with?", "number"),
    ("Which activation does the DCGAN discriminator use?", "other"),
    ("Who came up with RMSprop?", "person"),
    ("and how big are the patches?", "number"),  # a follow-up's opening "and" does not hide its type
    ("What are dilated convolutions used for?", "why"),
])
def test_the_question_type_comes_from_its_wording(question, kind):
    assert analyze(question).kind == kind


def test_a_which_question_asks_for_a_kind_of_thing_that_the_answer_names():
    asked = analyze("Which activation does the DCGAN discriminator use?")
    assert asked.slot == ("activation",)
    assert analyze("Which network uses depthwise separable convolutions?").slot == ("network",)
    focus = analyze("Why are 1x1 convolutions used after 512 channels?").focus
    assert focus == ("1x1", "convolutions", "512", "channels")  # "1x1" and "512" name what is asked too
    tokenizer = str.split
    assert type_fit(asked, "leakyrelu activation is used in the discriminator", [], tokenizer) == 1.0
    assert type_fit(asked, "dcgan uses convolutional layers in its design", [], tokenizer) == 0.0


@pytest.mark.parametrize("question, sentence, fits", [
    ("What is the degradation problem?", "Extra layers degrade performance (called the degradation problem).", True),
    ("What is the degradation problem?", "The paper addresses the degradation problem with residual blocks.", False),
    ("What does BERT stand for?", "BERT (Bidirectional Encoder Representations from Transformers) is a model.", True),
    ("What does BERT stand for?", "BERT is based on the encoder of the Transformer.", False),
])
def test_a_definition_is_the_sentence_that_defines_or_spells_out_the_term(question, sentence, fits):
    assert type_fit(analyze(question), sentence, [], None) == float(fits)


def test_a_who_question_is_answered_by_a_sentence_that_names_a_person():
    asked = analyze("Who designed VGGNet?")
    assert type_fit(asked, "VGGNet was proposed by Karen Simonyan and Andrew Zisserman in 2014.", [], None) == 1.0
    assert type_fit(asked, "This was the statement from Yann LeCun regarding GANs.", [], None) == 1.0
    assert type_fit(asked, "VGGNet uses 3x3 convolutions stacked in blocks.", [], None) == 0.0


def test_a_sentence_that_points_back_may_follow_its_antecedent_in_an_answer(extractive):
    """The quote, then "This was the statement from Yann LeCun ...": about the quote, right after it."""
    sentences = answer_sentences(extractive.ask(
        "Who called adversarial nets the most exciting machine learning idea of the past decade?").answer)
    at = next(i for i, s in enumerate(sentences) if "Yann LeCun" in s)
    assert at > 0 and "interesting idea" in sentences[at - 1], sentences


def test_a_name_is_what_a_question_is_about():
    asked = analyze("What is DDIM sampling in diffusion models?")
    assert "ddim" in asked.names and asked.missing(lambda word: word != "ddim") == "ddim"
    assert analyze("Which analogy with forgers of money explains a GAN?").missing(lambda word: word == "gan") is None


@pytest.fixture(scope="module")
def extractive(course_settings, course_index):
    return CourseAssistant(course_settings.replace(llm="extractive"), index=course_index)


@pytest.mark.parametrize("question", [
    "How many gates does a GRU have?",
    "What does the width multiplier do in MobileNet?",
    "Why do we need non-linear activation functions instead of linear ones?",
    "What is the BM25 ranking function?",
    "How does RICAP build a new training image?",
    "What is a saddle point?",
    "What does git push do?",  # "Git push: This command is used to ...": the label kept, the quote literal
])
def test_an_answer_reads_like_a_tutor_and_quotes_what_it_cites(extractive, question):
    answer = extractive.ask(question)
    assert answer.mode == "extractive", answer.answer
    assert readability_failures(answer.answer) == set(), answer.answer
    sentences = answer_sentences(answer.answer)
    assert 1 <= len(sentences) <= 4 and word_count(strip_markers(answer.answer)) <= 90, answer.answer
    cited = {c.n: c.text for c in answer.citations}
    for sentence, n in _quoted(answer.answer):
        assert comes_from(sentence, cited[n]), f"[{n}] does not hold {sentence!r}"


def test_the_lead_sentence_answers_what_was_asked(extractive):
    assert "two gates" in answer_sentences(extractive.ask("How many gates does a GRU have?").answer)[0]
    lead = answer_sentences(extractive.ask("What is a saddle point?").answer)[0]
    assert lead.lower().startswith("saddle point is a point"), lead
    lead = answer_sentences(extractive.ask("What does BERT stand for?").answer)[0]
    assert "Bidirectional Encoder Representations from Transformers" in lead, lead  # the expansion, not "BERT is ..."


@pytest.mark.parametrize("question", [
    "What is DDIM sampling in diffusion models?",
    "How does gradient checkpointing save memory?",
    "What is rotary position embedding (RoPE)?",
])
def test_a_term_the_notes_never_name_is_not_answered_with_its_neighbours(extractive, question):
    answer = extractive.ask(question)
    assert answer.mode == "not_in_notes"
    assert answer.notice is None  # not "... answering with sentences from the notes" under a refusal


def test_a_paraphrase_in_plain_english_is_still_answered(extractive):
    answer = extractive.ask("Which analogy with forgers of money and cops explains the two networks of a GAN?")
    assert answer.mode == "extractive" and "counterfeiters" in answer.answer.lower()


def test_a_follow_up_names_the_topic_it_points_back_to(extractive):
    extractive.ask("What is leaky ReLU?", conversation_id="slope")
    answer = extractive.ask("what value is usually used for that small slope?", conversation_id="slope")
    assert answer.trace.resolved_question == "what value is usually used for the small slope of leaky ReLU?"
    assert any("relu" in c.text.lower() for c in answer.citations)


def test_what_about_asks_the_last_question_of_the_new_topic_in_good_grammar(extractive):
    extractive.ask("What does an LSTM cell do?", conversation_id="about")
    answer = extractive.ask("what about GRUs?", conversation_id="about")
    assert answer.trace.resolved_question == "What do GRUs do?"
    assert any("gru" in c.text.lower() for c in answer.citations)


def test_a_pronoun_whose_noun_the_question_names_itself_is_no_follow_up(extractive):
    extractive.ask("What does the width multiplier do in MobileNet?", conversation_id="own-noun")
    answer = extractive.ask("how do I train a CNN so it stops overfitting?", conversation_id="own-noun")
    assert answer.trace.resolved_question == "how do I train a CNN so it stops overfitting?"
    assert answer.mode == "extractive" and "overfit" in answer.answer.lower()


def test_a_follow_up_answer_says_something_new(extractive):
    first = extractive.ask("What is the receptive field of a convolution?", conversation_id="increase")
    answer = extractive.ask("how do we increase it?", conversation_id="increase")
    said = {strip_markers(s) for s in answer_sentences(first.answer)}
    assert answer.answer and not said & {strip_markers(s) for s in answer_sentences(answer.answer)}, answer.answer


def test_a_question_about_something_the_last_answer_named_keeps_its_topic(extractive):
    extractive.ask("How does self-attention work?", conversation_id="attention")
    answer = extractive.ask("what are the queries, keys and values?", conversation_id="attention")
    assert answer.trace.resolved_question == "what are the queries, keys and values? (self-attention)"
    extractive.ask("What is a GAN?", conversation_id="switch")
    switched = extractive.ask("What does the forget gate do?", conversation_id="switch")
    assert switched.trace.resolved_question == "What does the forget gate do?"


def test_eval_answers_dumps_records_for_a_blind_grader(course_settings, course_index, tmp_path, capsys):
    dump = tmp_path / "answers.jsonl"
    assert main(["--home", str(course_settings.home), "eval", "answers", "--mode", "extractive", "--split", "dev",
                 "--limit", "3", "--dump", str(dump)]) == 0
    out = capsys.readouterr().out
    assert "ends_colon" in out and "glued_heading" in out
    records = [json.loads(line) for line in dump.read_text().splitlines()]
    assert records and set(records[0]) == {"id", "question", "reference_evidence", "answer", "cited_passages"}


def _quoted(text: str) -> list[tuple[str, int]]:
    import re

    return [(s.strip(), int(n)) for s, n in re.findall(r"(?:^|\n- )?(.+?) \[(\d+)\][.!?:](?: |$|\n)", text)]
