"""The Study tab: practise quiz questions one at a time, with Leitner boxes kept per user.

The user is the logged-in one (``--auth``), else an id kept in the browser's local storage (encrypted with the
home's kept secret), so the boxes of a student survive a page reload and a restart of the server. Questions come
from :func:`tools.quiz.generate_quiz`; boxes from :class:`tools.study.StudyBoxes`.
"""

from __future__ import annotations

import html
import uuid

import gradio as gr
import pandas as pd

from coursemate.config import QUIZ_KINDS
from coursemate.errors import CoursemateError
from coursemate.tools.grounding.render import source_html
from coursemate.tools.quiz import QuizItem, generate_quiz
from coursemate.tools.study import BOXES, StudyBoxes
from coursemate.ui.errors import warn
from coursemate.ui.services import Services

QUIZ_SIZE = 20
ALL_NOTES = "all"
PROGRESS_COLUMNS = ["session", "questions", "right", "wrong", "learned", "mean box"]
NO_QUESTION = "Pick what to study and press Start."


def source_choices(services: Services) -> list[tuple[str, str]]:
    """"All notes", each course session, then each document."""
    documents = services.index.documents.values()
    sessions = sorted({str(d.metadata["session"]) for d in documents if "session" in d.metadata}, key=int)
    by_title = sorted(documents, key=lambda d: d.title.lower())
    return ([("All notes", ALL_NOTES)] + [(f"Session {s}", f"session:{s}") for s in sessions]
            + [(d.title, f"doc:{d.doc_id}") for d in by_title])


def quiz_for(services: Services, source: str, topic: str, kind: str) -> list[QuizItem]:
    """The questions of the chosen source (the topic wins when one is typed)."""
    if topic and topic.strip():
        chosen = {"topic": topic.strip()}
    elif source.startswith("session:"):
        chosen = {"session": int(source.split(":", 1)[1])}
    elif source.startswith("doc:"):
        chosen = {"doc_id": source.split(":", 1)[1]}
    else:
        chosen = {}
    return generate_quiz(services.index, **chosen, n=QUIZ_SIZE, kind=kind, cache_dir=services.settings.quiz_dir)


def question_html(item: QuizItem | None, boxes: StudyBoxes | None = None) -> str:
    """The question, its choices (multiple choice) and the box it is in."""
    if item is None:
        return f'<div class="study-empty">{NO_QUESTION}</div>'
    card = boxes.cards().get(item.item_id) if boxes else None
    where = f"box {card.box}" if card else "new question"
    choices = "".join(f"<li>{html.escape(c)}</li>" for c in item.choices)
    return (f'<div class="study-question" data-id="{item.item_id}"><div class="study-meta">{item.kind} · {where} · '
            f'{html.escape(item.citation.title)}</div><div class="study-text">{html.escape(item.question)}</div>'
            + (f'<ol type="A" class="study-choices">{choices}</ol>' if choices else "") + "</div>")


def answer_html(item: QuizItem) -> str:
    """The answer key and the passage it comes from, shown open, the key marked wherever the passage has it."""
    return (f'<div class="study-answer"><strong>Answer:</strong> <span class="study-key">{html.escape(item.answer)}'
            f'</span></div><div class="sources-heading">Source</div>'
            + source_html(item.citation, "study", with_provenance=False, mark=item.answer, opened=True))


def boxes_html(boxes: StudyBoxes) -> str:
    """How many questions sit in each Leitner box."""
    counts = boxes.box_counts()
    cells = "".join(f'<div class="study-box" data-box="{b}"><div>Box {b}</div><div class="study-count">{counts[b]}'
                    f'</div></div>' for b in range(1, BOXES + 1))
    return f'<div class="study-boxes">{cells}</div><div class="hint">{boxes.reviews()} answers so far</div>'


def progress_table(boxes: StudyBoxes) -> pd.DataFrame:
    """Progress by course session."""
    return pd.DataFrame(boxes.progress(), columns=PROGRESS_COLUMNS)


def user_of(request: gr.Request | None, browser_user: str | None) -> str:
    """The logged-in user, else this browser's id."""
    username = getattr(request, "username", None) if request is not None else None
    return username or browser_user or uuid.uuid4().hex


def build_study_tab(services: Services, tab: gr.Tab) -> None:
    """The Study tab's components and events (call inside ``tab``)."""
    browser_user = gr.BrowserState(None, storage_key="coursemate-study-user", secret=services.browser_secret)
    items = gr.State([])  # the quiz being practised, as dicts
    current = gr.State(None)  # the question shown, as a dict
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            source = gr.Dropdown(source_choices(services), value=ALL_NOTES, label="Study", elem_id="study-source")
            topic = gr.Textbox(label="or a topic", placeholder="e.g. receptive field", elem_id="study-topic")
            kind = gr.Radio(list(QUIZ_KINDS), value=QUIZ_KINDS[0], label="Questions", elem_id="study-kind")
            start = gr.Button("Start", variant="primary", elem_id="study-start")
            boxes = gr.HTML(elem_id="study-boxes")
            progress = gr.Dataframe(pd.DataFrame(columns=PROGRESS_COLUMNS), label="Progress by session",
                                    interactive=False, elem_id="study-progress")
        with gr.Column(scale=3):
            question = gr.HTML(question_html(None), elem_id="study-question")
            reveal = gr.Button("Reveal answer", elem_id="study-reveal")
            answer = gr.HTML(elem_id="study-answer")
            with gr.Row():
                right = gr.Button("I was right", variant="primary", elem_id="study-right")
                wrong = gr.Button("I was wrong", variant="stop", elem_id="study-wrong")

    def show(user: str | None, request: gr.Request):
        user = user_of(request, user)
        store = StudyBoxes(services.settings, user)
        return user, boxes_html(store), progress_table(store)

    def begin(source_: str, topic_: str, kind_: str, user: str | None, request: gr.Request):
        user = user_of(request, user)
        try:
            quiz = quiz_for(services, source_, topic_, kind_)
        except CoursemateError as exc:
            warn(exc)
            return (gr.skip(),) * 7
        store = StudyBoxes(services.settings, user)
        item = store.next_item(quiz)
        return (user, [i.to_dict() for i in quiz], item.to_dict(), question_html(item, store), "",
                boxes_html(store), progress_table(store))

    def show_answer(item: dict | None):
        if not item:
            gr.Warning("press Start to get a question first")
            return gr.skip()
        return answer_html(QuizItem.from_dict(item))

    def mark(correct: bool):
        def handler(quiz: list[dict], item: dict | None, user: str | None, request: gr.Request):
            if not item:
                gr.Warning("press Start to get a question first")
                return (gr.skip(),) * 6
            user = user_of(request, user)
            store = StudyBoxes(services.settings, user)
            answered = QuizItem.from_dict(item)
            document = services.index.documents.get(answered.citation.doc_id)
            store.record(answered, correct, str(document.metadata.get("session", "")) if document else "")
            following = store.next_item([QuizItem.from_dict(i) for i in quiz])
            return (user, following.to_dict(), question_html(following, store), "", boxes_html(store),
                    progress_table(store))

        return handler

    tab.select(show, browser_user, [browser_user, boxes, progress], api_name=False)
    start.click(begin, [source, topic, kind, browser_user],
                [browser_user, items, current, question, answer, boxes, progress], api_name=False)
    reveal.click(show_answer, current, answer, api_name=False)
    for button, correct in ((right, True), (wrong, False)):
        button.click(mark(correct), [items, current, browser_user],
                     [browser_user, current, question, answer, boxes, progress], api_name=False)

