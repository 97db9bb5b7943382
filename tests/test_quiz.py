"""Study mode over the real index of the shipped notes: quiz quality on 200 questions, sources, Leitner boxes,
the Anki deck, the CLI, and questions written by a (scripted) model kept only when their chunk supports them."""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile

import pytest
from smolagents.models import ChatMessage, MessageRole, Model

from coursemate.cli import main
from coursemate.errors import CoursemateError
from coursemate.state import StateStore, state_path
from coursemate.tools.quiz import (
    BLANK,
    MAX_ITEMS,
    _is_truncation,
    _related,
    course_terms,
    generate_quiz,
    in_text,
    is_misfit_blank,
    model_quiz,
    number_distractors,
    opens_with_heading,
    question_without_answer,
    sibling_terms,
    source_groups,
)
from coursemate.tools.study import BOXES, StudyBoxes, export_anki
from coursemate.tools.wordclass import notes_words, quantities

QUALITY_N = 200


def sessions_of(index) -> set[str]:
    return {str(d.metadata["session"]) for d in index.documents.values() if "session" in d.metadata}


def retrieval_share(index, items) -> float:
    """The share of questions that, blank removed, retrieve their own cited chunk in the top 5."""
    found = [item.citation.chunk_id in {h.chunk.chunk_id for h in index.search(question_without_answer(item), k=5)}
             for item in items]
    return sum(found) / len(found)


@pytest.fixture(scope="module", autouse=True)
def terms(course_index, course_settings):
    """The course vocabulary, read from (or built into) the settings' quiz_dir once; later calls find it in memory."""
    return course_terms(course_index, course_settings.quiz_dir)


@pytest.fixture(scope="module")
def cloze_200(course_index):
    return generate_quiz(course_index, n=QUALITY_N, kind="cloze")


@pytest.fixture(scope="module")
def mcq_200(course_index):
    return generate_quiz(course_index, n=QUALITY_N, kind="mcq")


# ----------------------------------------------------------------------------------------------- the figures
@pytest.mark.slow
def test_200_offline_cloze_questions_meet_the_quality_figures(course_index, cloze_200):
    items = cloze_200
    assert len(items) == QUALITY_N
    assert all(in_text(item.answer, item.citation.text) for item in items)  # 100 %: every key is a span of its chunk
    assert len({item.question for item in items}) == len(items)  # no duplicates
    covered = {str(course_index.documents[i.citation.doc_id].metadata.get("session")) for i in items}
    assert len(covered & sessions_of(course_index)) >= 0.8 * len(sessions_of(course_index))
    share = retrieval_share(course_index, items)
    print(f"cloze: {len(items)} questions, own chunk in the top 5 for {share:.1%}")
    assert share >= 0.9


def _says(text: str, part: str) -> bool:
    """Whether ``part`` is in ``text`` as whole words ("normalization" in "batch normalization", not "2" in "32")."""
    return re.search(rf"(?<![\w.]){re.escape(part)}(?![\w.])", text) is not None


@pytest.mark.slow
def test_multiple_choice_distractors_are_siblings_not_the_answer(course_index, mcq_200):
    items = mcq_200
    assert len(items) >= 60  # 67 on the shipped notes: the keys with three distractors of their own kind bound it
    assert all(in_text(item.answer, item.citation.text) for item in items)
    assert len({item.question for item in items}) == len(items)
    for item in items:
        assert len(item.distractors) == 3 and len(set(item.distractors)) == 3
        assert sorted(item.choices) == sorted([item.answer, *item.distractors])
        answer = item.answer.lower()
        for d in item.distractors:
            assert d.lower() != answer and not _says(answer, d.lower()) and not _says(d.lower(), answer)
            assert d.lower() not in item.question.lower()  # the question does not give a choice away
        if re.fullmatch(r"[\d.x%]+", answer):  # a number gets numbers of its shape
            assert all(re.fullmatch(r"[\d.x%]+", d.lower()) and ("x" in d.lower()) == ("x" in answer)
                       and d.endswith("%") == answer.endswith("%") for d in item.distractors), item
    assert sum(bool(re.fullmatch(r"[\d.x%]+", i.answer)) for i in items) >= 15  # number-for-number questions
    share = retrieval_share(course_index, items)
    print(f"mcq: {len(items)} questions, own chunk in the top 5 for {share:.1%}")
    assert share >= 0.8


@pytest.mark.slow
def test_blanks_are_course_terms_in_full_sentences(course_index, cloze_200):
    """What a student reads: a whole sentence, one term blanked everywhere it occurs, never a stop word, a number
    or a figure caption, never the term in parentheses after its own expansion."""
    for item in cloze_200:
        q = item.question
        assert BLANK in q and q.endswith(".")
        assert not re.search(rf"(?<![\w'-]){re.escape(item.answer)}(?![\w'-])", q, re.IGNORECASE)
        assert not re.search(r"\d", item.answer) and len(item.answer) >= 3
        assert item.answer.lower() not in {"the", "this", "that", "and", "with", "from"}
        assert not re.match(r"(?i)fig(ure)?\b", q) and f"({BLANK})" not in q
        assert 8 <= len(q.replace(BLANK, item.answer).split()) <= 40
        assert q[0].isupper() or q.startswith(BLANK)
    lookup = {t: i for i, t in enumerate(course_terms(course_index).terms)}
    assert not [i.question for i in cloze_200 if opens_with_heading(i.question.replace(BLANK, i.answer), lookup)]


def test_the_rules_against_glued_headings_weak_blanks_and_near_synonyms():
    """The general rules behind the defects read in generated quizzes, on the sentences they came from."""
    lookup = {"receptive field": 0, "self-attention": 1, "dropout": 2}
    assert opens_with_heading("Receptive field here we see our first layer as a 5x5 image.", lookup)
    assert opens_with_heading("Self attention the self-attention mechanism is part of transformers.", lookup)
    assert opens_with_heading("Gpt gpt (generative pre-trained transformer) is a language model.", lookup)
    assert not opens_with_heading("Dropout is a regularization technique for neural networks.", lookup)
    assert not opens_with_heading("The receptive field here grows with every layer we add.", lookup)
    for sentence, word in (("We initialize it (and all other kernels) randomly.", "initialize"),
                           ("Whenever we are convolving over a spot, we aggregate.", "convolving"),
                           ("You can learn more about positional encodings here.", "positional")):
        start = sentence.index(word)
        assert is_misfit_blank(sentence, start, start + len(word)), word
    sentence = "We add dropout after every layer."
    assert not is_misfit_blank(sentence, sentence.index("dropout"), sentence.index("dropout") + 7)
    words = {"repository", "vocabulary", "tokenizer", "gang"}
    assert _is_truncation("repo", words) and _is_truncation("vocab", words)
    assert not _is_truncation("token", words) and not _is_truncation("gan", words)
    for near in (("model size", "model capacity"), ("cnn", "convolutional network"), ("cnn", "traditional cnns"),
                 ("lang chain", "langchain"), ("nlp", "natural language processing"), ("repo", "git repository")):
        assert _related(*near), near
    for siblings in (("layer normalization", "batch normalization"), ("max pooling", "average pooling"),
                     ("dropout", "batch normalization"), ("real data", "fake data")):
        assert not _related(*siblings), siblings


def test_distractors_are_of_the_keys_kind(course_index):
    """Typed by general rules: a term's head noun and the class the notes name; a number by shape and unit."""
    terms = course_terms(course_index)
    at = {t: i for i, t in enumerate(terms.terms)}
    for key in ("style loss", "final layer", "separable convolution"):
        head = key.split()[-1]
        assert all(d.lower().split()[-1].startswith(head) for d in sibling_terms(terms, at[key])), key
    notes = notes_words(course_index)
    (_, _, kernel), = quantities("If we are using 3x3 kernels, each pixel sees more.", notes)
    assert kernel.shape == "dims2" and kernel.unit == "kernel"
    assert all(re.fullmatch(r"(\d+)x\1", d) for d in number_distractors(kernel, terms.quantities[kernel.kind]))
    (_, _, year), = quantities("ResNet was introduced in 2015 by Microsoft Research.", notes)
    assert year.shape == "year" and all(re.fullmatch(r"(19|20)\d\d", d) for d in number_distractors(year, []))
    (_, _, count), = quantities("AlexNet contains five convolutional layers.", notes)
    assert count.unit == "layer" and set(number_distractors(count, [])) <= {"two", "three", "four", "six", "seven"}
    assert not quantities("GPT 3.5 and ResNet-50 are models; VGG16 too.", notes)  # numbers of names


def test_short_answers_come_from_definitions_causes_and_actions(course_index):
    items = generate_quiz(course_index, n=MAX_ITEMS, kind="short")
    assert len(items) >= 100  # 105 on the shipped notes
    assert len({i.question for i in items}) == len(items)
    assert len(generate_quiz(course_index, topic="attention", n=5, kind="short")) == 5
    for item in items:
        assert item.question.startswith(("What ", "Why ", "How ")) and item.question.endswith("?")
        assert not re.search(r"\b(?:can|were|try to|attempt to)\?$", item.question)  # "What do bayesian CNNs can?"
        expansion = item.question.endswith(" stand for?")  # "What does Adam stand for?": a few words
        assert in_text(item.answer, item.citation.text) and len(item.answer.split()) >= (2 if expansion else 4)
        assert not expansion or len(item.answer.split()) <= 8  # never a run-on export line
        assert not re.search(r"\b(?:this|it|there|if)\b", item.question.split("?")[0].lower().split(" ", 2)[-1])
    questions = {i.question: i.answer for i in items}
    assert questions.get("What does Adam stand for?") == "adaptive moment estimation"
    assert "encoder and decoder" in questions.get("What does the transformer architecture consist of?", "")
    assert questions.get("What is DistilBERT?") == "a smaller, faster version of BERT"  # a name written as one


def test_questions_come_from_standalone_prose_only(course_index):
    """No pointer at text around the sentence ("for all the above methods"), no lost symbol ("If is small")."""
    for kind in ("cloze", "short"):
        for item in generate_quiz(course_index, session=7, n=40, kind=kind):
            text = item.question.lower()
            assert "above" not in text and "below" not in text and not re.search(r"\bif (?:is|are)\b", text)


def test_one_source_at_a_time(course_index):
    session = generate_quiz(course_index, session=5, n=8)
    docs = {d.doc_id for d in course_index.documents.values() if str(d.metadata.get("session")) == "5"}
    assert session and {i.citation.doc_id for i in session} <= docs
    doc = generate_quiz(course_index, doc_id="blog-alexnet", n=5, kind="mcq")
    assert doc and {i.citation.doc_id for i in doc} == {"blog-alexnet"}
    topic = generate_quiz(course_index, topic="receptive field", n=5)
    topic_chunks = {c.chunk_id for c in source_groups(course_index, topic="receptive field")[0]}
    assert topic and {i.citation.chunk_id for i in topic} <= topic_chunks
    assert [i.to_dict() for i in generate_quiz(course_index, session=5, n=8)] == [i.to_dict() for i in session]


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "essay"}, "unknown quiz kind"),
    ({"n": 0}, "between 1 and"),
    ({"session": 4, "doc_id": "blog-gans"}, "at most one source"),
    ({"session": 99}, "no course session 99"),
    ({"doc_id": "nope"}, "unknown document"),
])
def test_bad_requests_are_one_clear_error(course_index, kwargs, message):
    with pytest.raises(CoursemateError, match=message):
        generate_quiz(course_index, **kwargs)


def test_course_terms_are_cached_beside_the_index(course_index):
    terms = course_terms(course_index)
    assert len(terms.terms) > 200 and terms.vectors.shape == (len(terms.terms), 384)
    assert {"batch normalization", "dropout", "receptive field"} <= set(terms.terms)
    assert not {"the", "model", "including", "efficient"} & set(terms.terms)
    assert list((course_index.settings.home / "quiz").glob("terms-*.npz"))


# ----------------------------------------------------------------------------------------------- Anki, boxes, CLI
def test_anki_deck_is_a_zip_with_a_sqlite_collection_of_n_notes(course_index, tmp_path):
    items = generate_quiz(course_index, session=4, n=7, kind="mcq")
    path = export_anki(items, tmp_path / "session4.apkg", "session 4")
    with zipfile.ZipFile(path) as deck:
        assert "collection.anki2" in deck.namelist()
        deck.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as db:
        assert db.execute("select count(*) from notes").fetchone()[0] == len(items)
        fields = [row[0].split("\x1f") for row in db.execute("select flds from notes")]
    assert {f[1] for f in fields} == {i.answer for i in items}
    with pytest.raises(CoursemateError, match=".apkg"):
        export_anki(items, tmp_path / "deck.zip")


def test_leitner_boxes_move_and_persist_per_user(course_settings, course_index):
    settings = course_settings.replace(home=course_settings.home / "leitner")
    items = generate_quiz(course_index, session=3, n=4)
    boxes = StudyBoxes(settings, "ana")
    assert boxes.next_item(items) == items[0]  # never answered: first
    boxes.record(items[0], True, "3")
    boxes.record(items[0], True, "3")
    boxes.record(items[1], False, "3")
    again = StudyBoxes(settings, "ana")
    cards = again.cards()
    assert cards[items[0].item_id].box == 3 and cards[items[1].item_id].box == 1
    assert again.box_counts() == {1: 1, 2: 0, 3: 1, 4: 0, 5: 0}
    assert again.next_item(items) in items[2:]  # unseen questions come before answered ones
    (row,) = again.progress()
    assert row == {"session": "3", "questions": 2, "right": 2, "wrong": 1, "learned": 0, "mean box": 2.0}
    for _ in range(BOXES + 2):
        again.record(items[0], True, "3")
    assert again.cards()[items[0].item_id].box == BOXES
    assert StudyBoxes(settings, "bo").cards() == {}  # another user has boxes of their own
    assert StateStore(state_path(settings)).study_state("ana")[0] == BOXES + 5  # a new process reads the same


def test_cli_quiz_json_text_anki_and_errors(course_settings, capsys, tmp_path):
    """One session (the whole course: test_cli_quiz_text_and_anki_of_the_whole_course)."""
    home = ["--home", str(course_settings.home)]
    assert main([*home, "quiz", "--session", "5", "--n", "3", "--kind", "mcq", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert len(items) == 3 and all(len(i["distractors"]) == 3 and i["citation"]["chunk_id"] for i in items)
    deck = tmp_path / "session5.apkg"
    assert main([*home, "quiz", "--session", "5", "--n", "3", "--anki", str(deck)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. ") and "Answers:" in out and zipfile.is_zipfile(deck)
    assert main([*home, "quiz", "--doc", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("coursemate: error: unknown document") and len(err.strip().splitlines()) == 1


@pytest.mark.slow  # --all picks key sentences in every source of the course: about 15 s on a busy CPU
def test_cli_quiz_text_and_anki_of_the_whole_course(course_settings, capsys, tmp_path):
    home = ["--home", str(course_settings.home)]
    deck = tmp_path / "all.apkg"
    assert main([*home, "quiz", "--all", "--n", "4", "--anki", str(deck)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. ") and "Answers:" in out and zipfile.is_zipfile(deck)
    assert not re.search(r"\(([^>;]+) > \1 > ", out)  # a section never repeats its document's title


# ----------------------------------------------------------------------------------------------- with a model
class ScriptedQuizWriter(Model):
    """A smolagents model that answers every request with the questions it was given (as JSON)."""

    def __init__(self, questions: list[dict]):
        super().__init__(model_id="scripted-quiz-writer")
        self.questions = questions
        self.prompts: list[str] = []

    def generate(self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kwargs):
        self.prompts.append(messages[-1].content[0]["text"])
        return ChatMessage(role=MessageRole.ASSISTANT, content="Here you are:\n```json\n"
                           + json.dumps(self.questions) + "\n```")


def test_model_questions_are_kept_only_when_their_chunk_supports_the_answer(course_index):
    chunks = source_groups(course_index, doc_id="post-what-is-relu")[0]
    sentence = next(s.text for s in course_index.chunk_sentences(chunks[0])[0]
                    if "ReLU" in s.text and len(s.text.split()) > 8)
    supported = {"question": sentence.replace("ReLU", BLANK, 1), "answer": "ReLU", "distractors": []}
    invented = {"question": f"{BLANK} was invented by sailors in 1850 to navigate the oceans.", "answer": "ReLU",
                "distractors": []}
    not_cloze = {"question": "Is ReLU good?", "answer": "yes", "distractors": []}
    writer = ScriptedQuizWriter([supported, invented, not_cloze])
    quiz = model_quiz(course_index, chunks[:1], writer, n=5, kind="cloze")
    assert [i.question for i in quiz.items] == [supported["question"]]
    assert quiz.items[0].method == "llm" and quiz.items[0].citation.chunk_id == chunks[0].chunk_id
    assert quiz.dropped == 2 and quiz.calls == 1
    assert chunks[0].text.strip()[:60] in writer.prompts[0]  # the model saw the passage it is cited for
    via_api = generate_quiz(course_index, doc_id="post-what-is-relu", n=1, model=writer)
    assert len(via_api) == 1 and via_api[0].method == "llm"


class BrokenBackend(Model):
    """A smolagents model whose backend fails on every call."""

    def generate(self, messages, stop_sequences=None, response_format=None, tools_to_call_from=None, **kwargs):
        raise ConnectionError("connection refused")


def test_a_failing_model_and_a_users_quiz_prompt(course_index, tmp_path):
    chunks = source_groups(course_index, doc_id="post-what-is-relu")[0][:1]
    with pytest.raises(CoursemateError, match="failed to write questions: ConnectionError: connection refused"):
        model_quiz(course_index, chunks, BrokenBackend(model_id="broken"), n=1)
    own = tmp_path / "prompts.yaml"
    own.write_text("quiz_rule_cloze: Blank out the activation function's name.\n", encoding="utf-8")
    writer = ScriptedQuizWriter([])
    assert model_quiz(course_index, chunks, writer, n=1, prompts_path=own).items == []
    assert "Blank out the activation function's name." in writer.prompts[0]
