"""The Notes tab: browse the shipped documents by title and course session; summarize one with a click."""

from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from coursemate.retrieval import Document
from coursemate.tools.grounding.render import link_markers, source_html
from coursemate.tools.summarize import summarize
from coursemate.ui.errors import warn
from coursemate.ui.services import Services

COLUMNS = ["session", "title", "kind", "doc_id"]
SUMMARY_WORDS = 200


def documents_table(services: Services) -> pd.DataFrame:
    """Every document: course sessions first (in order), then the other notes by title."""
    rows = [
        {"session": d.metadata.get("session", ""), "title": d.title, "kind": d.metadata.get("kind", ""),
         "doc_id": d.doc_id}
        for d in sorted(services.index.documents.values(), key=_reading_order)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


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


def build_notes_tab(services: Services) -> None:
    """The Notes tab's components and events (call inside a ``gr.Tab``)."""
    table = documents_table(services)
    choices = [(_label(services.index.documents[i]), i) for i in table["doc_id"]]
    with gr.Row():
        with gr.Column(scale=2):
            listing = gr.Dataframe(table, label="Documents (click one to open it)", interactive=False,
                                   max_height=600, elem_id="notes-table", show_search="search")
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

    listing.select(pick, None, chosen, api_name=False)
    chosen.change(show, chosen, [text, summary], api_name=False)
    button.click(run, chosen, summary, api_name=False)


def _reading_order(doc: Document) -> tuple:
    session = doc.metadata.get("session")
    return (session is None, session if session is not None else 0, doc.title.lower())


def _label(doc: Document) -> str:
    session = doc.metadata.get("session")
    if session is None or doc.title.lower().startswith("session"):
        return doc.title
    return f"Session {session}: {doc.title}"
