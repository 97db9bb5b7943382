"""The Notes tab: browse the documents by title and course session, summarize one with a click; admins add files
(with a progress bar while they are read, chunked and embedded) and remove added ones."""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr
import pandas as pd

from coursemate.errors import CoursemateError
from coursemate.retrieval import Document
from coursemate.retrieval.ingest import READERS
from coursemate.retrieval.library import add_notes, check_readable, list_notes, remove_notes
from coursemate.tools.grounding.render import link_markers, source_html
from coursemate.tools.summarize import summarize
from coursemate.ui.errors import user_message, warn
from coursemate.ui.services import NotAllowed, Services
from coursemate.ui.status import index_status

COLUMNS = ["session", "title", "kind", "passages", "added", "doc_id"]
SUMMARY_WORDS = 200
# Progress bar: each stage of an update fills its share of the bar.
STAGES = {"reading": (0.0, 0.1), "chunking": (0.1, 0.2), "embedding passages": (0.2, 0.5),
          "embedding sentences": (0.5, 1.0)}


def documents_table(services: Services) -> pd.DataFrame:
    """Every document with its passage count and when it was added: course sessions first (in order), then the
    other notes by title."""
    entries = {e.doc_id: e for e in list_notes(services.index)}
    rows = [
        {"session": d.metadata.get("session", ""), "title": d.title, "kind": d.metadata.get("kind", ""),
         "passages": entries[d.doc_id].chunks, "added": entries[d.doc_id].added.replace("T", " ")[:16],
         "doc_id": d.doc_id}
        for d in sorted(services.index.documents.values(), key=_reading_order)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def add_files(services: Services, user: str | None, files: list[str], progress=None) -> str:
    """Add the uploaded ``files`` (paths whose names are the uploaded names) to the notes as ``user``: the readable
    ones are indexed, each unreadable one gets a line naming it and why. Returns the Markdown report."""
    services.require_admin(user, "change the notes")
    if not files:
        raise CoursemateError("choose one or more files to add first")
    readable, lines = [], []
    for file in map(Path, files):
        try:
            check_readable(file, file.name)
            readable.append(file)
        except CoursemateError as exc:
            lines.append(f"- ⚠ {exc}")
    if readable:
        index = services.update_notes(lambda current: add_notes(current.settings, readable,
                                                                on_progress=_progress_bar(progress)))
        m = index.manifest
        lines.insert(0, f"Added {', '.join(f.name for f in readable)}: {m['documents']} documents, {m['chunks']} "
                        f"passages now (embedded {m['embedded']['passages']} passages, "
                        f"{m['embedded']['sentences']} sentences in {m['build_seconds']} s).")
    return "\n".join(lines)


def remove_document(services: Services, user: str | None, doc_id: str | None, progress=None) -> str:
    """Remove the added document ``doc_id`` as ``user``; returns the Markdown report."""
    services.require_admin(user, "change the notes")
    if not doc_id:
        raise CoursemateError("choose an added document to remove first")
    index = services.update_notes(lambda current: remove_notes(current.settings, current, [doc_id],
                                                               on_progress=_progress_bar(progress)))
    return f"Removed {doc_id}: {index.manifest['documents']} documents, {index.manifest['chunks']} passages now."


def removable_choices(services: Services) -> list[tuple[str, str]]:
    """The added documents, which an admin may remove."""
    return [(f"{e.title} ({e.doc_id})", e.doc_id) for e in list_notes(services.index) if e.removable]


def _progress_bar(progress):
    """An ``on_progress(stage, fraction)`` callback driving the Gradio progress bar ``progress`` (None: no bar)."""
    if progress is None:
        return None

    def report(stage: str, fraction: float) -> None:
        low, high = STAGES.get(stage, (0.0, 1.0))
        progress(low + (high - low) * fraction, desc=stage)

    return report


def document_markdown(doc: Document) -> str:
    """The document's text with a header naming its source."""
    session = doc.metadata.get("session")
    header = f"**{doc.title}**" + (f" · session {session}" if session is not None else "") + f" · `{doc.doc_id}`"
    return f"{header}\n\nSource: {doc.source}\n\n---\n\n{doc.text}"


def summary_html(services: Services, doc_id: str, words: int = SUMMARY_WORDS) -> str:
    """The outline of ``doc_id`` (one bullet per topic) whose ``[n]`` markers open the passages below it."""
    summary = summarize(services.index, doc_id=doc_id, words=words)
    group = f"sum-{doc_id}"
    items = "".join(f"<li>{link_markers(html.escape(line.removeprefix('- ')), group, (c.n for c in summary.citations))}"
                    "</li>" for line in summary.text.splitlines() if line.strip())
    body = f'<ul class="summary-outline">{items}</ul>'
    sources = "".join(source_html(c, group, with_provenance=False) for c in summary.citations)
    return (f'<div class="summary"><div class="summary-text">{body}</div>'
            f'<div class="sources-heading">Summary ({summary.method}, about {words} words) of '
            f'{html.escape(services.index.document(doc_id).title)}: sources</div>{sources}</div>')


def build_notes_tab(services: Services, index_line: gr.Markdown) -> gr.Group:
    """The Notes tab's components and events (call inside a ``gr.Tab``); ``index_line`` is the status line's notes
    part, refreshed when the notes change. Returns the admins' group (hidden until the page knows its user)."""
    table = documents_table(services)
    choices = [(_label(services.index.documents[i]), i) for i in table["doc_id"]]
    with gr.Row():
        with gr.Column(scale=2):
            listing = gr.Dataframe(table, label="Documents (click one to open it)", interactive=False,
                                   max_height=600, elem_id="notes-table", show_search="search")
            with gr.Group(visible=False, elem_id="notes-admin") as admin:
                upload = gr.File(label=f"Add notes ({', '.join(sorted(READERS))})", file_count="multiple",
                                 file_types=sorted(READERS), type="filepath", elem_id="notes-upload")
                add = gr.Button("Add to the notes", variant="primary", elem_id="notes-add")
                with gr.Row(equal_height=True):
                    removable = gr.Dropdown(removable_choices(services), value=None, label="Added document",
                                            scale=4, elem_id="notes-removable",
                                            allow_custom_value=True)  # any id reaches remove_document's checks
                    remove = gr.Button("Remove", variant="stop", scale=1, elem_id="notes-remove")
                message = gr.Markdown(elem_id="notes-message")
        with gr.Column(scale=3):
            with gr.Row(equal_height=True):
                chosen = gr.Dropdown(choices, value=None, label="Document", scale=4, elem_id="notes-doc")
                button = gr.Button("Summarize", variant="primary", scale=1, elem_id="notes-summarize")
            summary = gr.HTML(elem_id="notes-summary")
            text = gr.Markdown(elem_id="notes-text", max_height=600)

    def pick(event: gr.SelectData):
        row = event.row_value if event.row_value else None
        return row[COLUMNS.index("doc_id")] if row else gr.skip()

    def show(doc_id: str | None):
        if not doc_id:
            return "", ""
        try:
            return document_markdown(services.index.document(doc_id)), ""
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message in the page
            warn(exc)
            return gr.skip(), gr.skip()

    def run(doc_id: str | None):
        if not doc_id:
            gr.Warning("choose a document to summarize first")
            return gr.skip()
        try:
            return summary_html(services, doc_id)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message in the page
            warn(exc)
            return gr.skip()

    def refreshed(report: str):
        """The notes views after a change, with ``report`` in the message line."""
        table = documents_table(services)
        return (table, gr.update(choices=[(_label(services.index.documents[i]), i) for i in table["doc_id"]]),
                gr.update(choices=removable_choices(services), value=None), report, index_status(services.index),
                None)

    def on_add(files: list[str] | None, request: gr.Request, progress=gr.Progress()):  # noqa: B008 - Gradio's way
        try:
            return refreshed(add_files(services, request.username, files or [], progress))
        except NotAllowed as exc:  # a student's direct call: refused, as an error the client sees
            raise gr.Error(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line in the page; the notes stay
            return (gr.skip(),) * 3 + (f"⚠ {user_message(exc)}", gr.skip(), gr.skip())

    def on_remove(doc_id: str | None, request: gr.Request, progress=gr.Progress()):  # noqa: B008 - Gradio's way
        try:
            return refreshed(remove_document(services, request.username, doc_id, progress))
        except NotAllowed as exc:  # a student's direct call: refused, as an error the client sees
            raise gr.Error(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line in the page; the notes stay
            return (gr.skip(),) * 3 + (f"⚠ {user_message(exc)}", gr.skip(), gr.skip())

    listing.select(pick, None, chosen, api_name=False)
    chosen.change(show, chosen, [text, summary], api_name=False)
    button.click(run, chosen, summary, api_name=False)
    outputs = [listing, chosen, removable, message, index_line, upload]
    add.click(on_add, upload, outputs, api_name="add_notes", concurrency_limit=1)
    remove.click(on_remove, removable, outputs, api_name="remove_notes", concurrency_limit=1)
    return admin


def _reading_order(doc: Document) -> tuple:
    session = doc.metadata.get("session")
    return (session is None, session if session is not None else 0, doc.title.lower())


def _label(doc: Document) -> str:
    session = doc.metadata.get("session")
    if session is None or doc.title.lower().startswith("session"):
        return doc.title
    return f"Session {session}: {doc.title}"
