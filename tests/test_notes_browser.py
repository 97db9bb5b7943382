"""Notes from the browser, in real Chromium with ``--auth``: an admin uploads a .pdf and a .pptx (a progress bar while
they are indexed) and the chat answers from them with a citation; an unreadable file is one clear line and loses
nothing; a student sees the notes but no upload, no remove and no Instructor tab, and the server refuses the
student's direct calls (gradio_client); the Instructor tab lists the "not in the notes" questions of a student's
scripted session, without names. The app runs in this process over its own small index (real model, FAISS, BM25)
and its own state store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coursemate.config import Settings
from test_ui_auth_browser import serve_with_auth, sign_in
from test_ui_browser import open_tab, screenshot, table_rows, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO_ROOT = Path(__file__).resolve().parent.parent
TEACHER, STUDENT = ("teacher", "chalk-and-talk-1"), ("student", "homework-22")
CAPSULES = ["A capsule is a group of neurons whose output vector encodes the pose of an entity in the image.",
            "The squash function shrinks short vectors to almost zero length and long vectors to a length just below "
            "one.",
            "Routing by agreement sends the output of a lower capsule to the parent capsules whose predictions agree "
            "with it."]
SPIKES = ["A spiking neuron fires a spike when its membrane potential crosses the firing threshold.",
          "After each spike the membrane potential is reset and the neuron rests for a refractory period."]


def write_pdf(path: Path, title: str, lines: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    matplotlib.rcParams["pdf.fonttype"] = 42  # TrueType text: pypdf extracts it
    with PdfPages(path) as pdf:
        figure = plt.figure(figsize=(8.27, 11.69))
        for row, line in enumerate([title, *lines]):
            figure.text(0.05, 0.95 - row * 0.04, line, fontsize=9)
        pdf.savefig(figure)
        plt.close(figure)
        pdf.infodict()["Title"] = title


def write_pptx(path: Path, title: str, lines: list[str]) -> None:
    import pptx

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = title
    slide.placeholders[1].text = "\n".join(lines)
    deck.core_properties.title = title
    deck.save(path)


@pytest.fixture(scope="module")
def classroom(tmp_path_factory, load_cached_copy):
    """The UI with a teacher (admin) and a student over an index of two notes of its own; the upload files."""
    root = tmp_path_factory.mktemp("notes-browser")
    notes = root / "notes"
    notes.mkdir()
    for name in ("post-lstm-one-pager", "post-what-is-relu"):
        shutil.copy(REPO_ROOT / "data" / "notes" / f"{name}.md", notes)
    settings = Settings.load(home=root / "home", corpus_paths=[notes], llm="extractive", ui_admins=[TEACHER[0]])
    index = load_cached_copy(settings, "notes-browser")
    files = root / "uploads"
    files.mkdir()
    write_pdf(files / "capsules.pdf", "Lecture 13: capsule networks", CAPSULES)
    write_pptx(files / "spiking.pptx", "Spiking neural networks", SPIKES)
    (files / "broken.docx").write_bytes(b"this is not a Word file")
    with serve_with_auth(settings, index, users=[TEACHER, STUDENT]) as (url, services):
        yield url, services, files


def ask_and_cite(page, question: str) -> str:
    """Ask ``question``; the text of the source its first citation opens."""
    before = page.locator("#chatbot .answered-by").count()
    page.fill("#chat-input textarea", question)
    page.click("#chat-send")
    wait_for(lambda: page.locator("#chatbot .answered-by").count() > before, 60, f"the answer to {question!r}")
    link = page.locator("#chatbot .message:has(.answered-by)").last.locator("a.cite").first
    target = link.get_attribute("href").lstrip("#")
    link.click()
    wait_for(lambda: page.eval_on_selector(f'[id="{target}"]', "el => el.open"), 5, "the cited source to open")
    return page.inner_text(f'[id="{target}"]')


def test_an_admin_uploads_a_pdf_and_slides_and_the_chat_cites_them(browser, classroom):
    url, services, files = classroom
    page = sign_in(browser, url, *TEACHER)
    page.wait_for_selector("#chat-input textarea", timeout=60_000)
    open_tab(page, "Notes")
    page.wait_for_selector("#notes-admin", state="visible", timeout=30_000)
    page.locator("#notes-upload input[type=file]").set_input_files(
        [str(files / "capsules.pdf"), str(files / "spiking.pptx"), str(files / "broken.docx")])
    page.wait_for_selector("#notes-upload .file-preview", timeout=30_000)
    page.click("#notes-add")
    message = wait_for(lambda: (lambda t: t if "Added" in t else "")(page.inner_text("#notes-message")), 180,
                       "the upload to be indexed")
    assert "capsules.pdf" in message and "spiking.pptx" in message
    assert "cannot add broken.docx: unreadable Word file" in message  # one clear line, the others added
    assert {"capsules", "spiking", "post-lstm-one-pager", "post-what-is-relu"} <= set(services.index.documents)
    rows = {r[-1]: r for r in table_rows(page, "#notes-table")}
    assert rows["capsules"][3] == "1" and rows["capsules"][4].startswith("20")  # passages, when added
    assert "4 documents" in page.inner_text("#index-line")
    screenshot(page, "notes-upload")

    open_tab(page, "Chat")
    source = ask_and_cite(page, "What does the squash function do to short vectors?")
    assert "Lecture 13: capsule networks" in source and "squash" in source
    source = ask_and_cite(page, "When does a spiking neuron fire a spike?")
    assert "Spiking neural networks" in source and "membrane potential" in source
    screenshot(page, "notes-upload-cited")

    open_tab(page, "Notes")
    page.locator("#notes-removable input").click()
    page.get_by_role("option", name="Spiking neural networks (spiking)").click()
    page.click("#notes-remove")
    wait_for(lambda: "Removed spiking" in page.inner_text("#notes-message"), 120, "the removal")
    assert "spiking" not in services.index.documents and "capsules" in services.index.documents
    page.context.close()


def test_a_student_sees_the_notes_but_cannot_change_them(browser, classroom):
    from gradio_client import Client, handle_file

    url, services, files = classroom
    page = sign_in(browser, url, *STUDENT)
    page.wait_for_selector("#chat-input textarea", timeout=60_000)
    open_tab(page, "Notes")
    wait_for(lambda: table_rows(page, "#notes-table"), 30, "the documents table")
    assert not page.locator("#notes-admin").is_visible()
    assert page.get_by_role("tab", name="Instructor").count() == 0
    page.context.close()

    documents = set(services.index.documents)
    client = Client(url, auth=STUDENT, verbose=False)
    with pytest.raises(Exception, match="may not change the notes"):
        client.predict([handle_file(str(files / "capsules.pdf"))], api_name="/add_notes")
    with pytest.raises(Exception, match="may not change the notes"):
        client.predict("post-lstm-one-pager", api_name="/remove_notes")
    with pytest.raises(Exception, match="may not read the questions students asked"):
        client.predict("all time", api_name="/instructor_questions")
    client.close()
    assert set(services.index.documents) == documents


SCRIPTED_SESSION = ["What is a quantum annealer?", "What do the gates of an LSTM do?",
                    "what is a quantum annealer", "Who invented the perceptron in 1958?"]


def test_the_instructor_tab_lists_what_the_notes_could_not_answer(browser, classroom):
    from gradio_client import Client

    url, _, _ = classroom
    client = Client(url, auth=STUDENT, verbose=False)
    for question in SCRIPTED_SESSION:
        client.predict(question, [], api_name="/chat")
    client.close()

    page = sign_in(browser, url, *TEACHER)
    page.wait_for_selector("#chat-input textarea", timeout=60_000)
    open_tab(page, "Instructor")
    page.click("#instructor-refresh")
    wait_for(lambda: table_rows(page, "#instructor-missing"), 30, "the questions the notes could not answer")
    missing = {r[0]: r for r in table_rows(page, "#instructor-missing")}
    assert missing["what is a quantum annealer"][1:3] == ["2", "not in the notes"]  # asked twice, most asked first
    assert table_rows(page, "#instructor-missing")[0][0] == "what is a quantum annealer"
    assert "Who invented the perceptron in 1958?" in missing
    assert missing.get("What do the gates of an LSTM do?", ["", "", "answered"])[2] != "not in the notes"
    assert STUDENT[0] not in page.inner_text("#instructor-missing")  # no names without --show-users
    topics = {r[0]: r for r in table_rows(page, "#instructor-topics")}
    assert topics["not in the notes"][1] == "3"
    assert any(r[0].startswith("LSTM One Pager") for r in table_rows(page, "#instructor-cited"))
    assert [int(r[1]) for r in table_rows(page, "#instructor-per-day")] == [len(SCRIPTED_SESSION) + 2]  # + the admin's
    assert "3 documents" in page.inner_text("#index-line")  # the notes as they are now: the upload stayed
    screenshot(page, "instructor")
    page.context.close()
