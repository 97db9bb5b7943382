"""The Search tab: query the notes directly in bm25, dense or hybrid mode, with each hit's provenance."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from coursemate.config import SEARCH_MODES
from coursemate.ui.errors import warn
from coursemate.ui.services import Services

COLUMNS = ["rank", "title", "section", "score", "bm25_rank", "dense_rank", "passage"]
PASSAGE_CHARS = 300


def search_table(services: Services, query: str, mode: str, k: int) -> tuple[pd.DataFrame, str]:
    """The hits for ``query`` as a table, and the "searched for" line when the query was spelling-corrected
    (raises CoursemateError for an empty or oversized query)."""
    results = services.index.search(query, k=int(k), mode=mode)
    hits = results.hits
    rows = [
        {
            "rank": h.rank,
            "title": h.chunk.title,
            "section": h.chunk.section,
            "score": round(h.score, 4),
            "bm25_rank": h.bm25_rank if h.bm25_rank is not None else "–",
            "dense_rank": h.dense_rank if h.dense_rank is not None else "–",
            "passage": services.index.snippet(h.chunk.text, results.corrected, PASSAGE_CHARS),
        }
        for h in hits
    ]
    did_you_mean = f"Searched for: **{results.did_you_mean}** (corrected from: {query})" if results.did_you_mean else ""
    return pd.DataFrame(rows, columns=COLUMNS), did_you_mean


def build_search_tab(services: Services) -> None:
    """The Search tab's components and events (call inside a ``gr.Tab``)."""
    with gr.Row(equal_height=True):
        query = gr.Textbox(label="Search the notes", placeholder="e.g. vanishing gradients in RNNs",
                           scale=4, elem_id="search-query")
        mode = gr.Radio(list(SEARCH_MODES), value="hybrid", label="Method", scale=2, elem_id="search-mode")
        k = gr.Slider(1, 20, value=8, step=1, label="Results", scale=1)
        button = gr.Button("Search", variant="primary", scale=1, elem_id="search-button")
    gr.Markdown("*score*: the fused score in hybrid mode (reciprocal rank fusion), else the method's own score; "
                "*bm25_rank* / *dense_rank*: where each method ranked the passage (– : not in its top candidates).",
                elem_classes=["hint"])
    corrected = gr.Markdown("", elem_id="search-did-you-mean", elem_classes=["did-you-mean"])
    results = gr.Dataframe(headers=COLUMNS, label="Results", wrap=True, interactive=False,
                           column_widths=["6%", "16%", "16%", "8%", "8%", "8%", "38%"], elem_id="search-results")

    def run(q: str, m: str, n: float):
        try:
            return search_table(services, q, m, int(n))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message in the page
            warn(exc)
            return gr.skip(), gr.skip()

    for trigger in (button.click, query.submit):
        trigger(run, [query, mode, k], [results, corrected], api_name=False)
