"""The one renderer of sources and citations (tools/grounding/render.py): terminal text, what a model reads, HTML."""

from __future__ import annotations

from coursemate.retrieval.types import Chunk
from coursemate.tools.grounding.citations import Citation, PassageLog
from coursemate.tools.grounding.render import (
    link_markers,
    passage_heading,
    passages_answer,
    provenance,
    source_html,
    source_text,
    sources_text,
    text_with_sources,
)


def chunk(chunk_id: str, doc_id: str, title: str, section: str, text: str = "Dropout drops units at random.") -> Chunk:
    return Chunk(chunk_id, doc_id, title, section, f"{doc_id}.md", text, 0, len(text))


LSTM = chunk("c1", "lstm", "LSTM", "LSTM > Gates", "The forget gate decides what the cell keeps.")
DROPOUT = chunk("c2", "reg", "Regularization", "Regularization", "Dropout drops units at random during training.")
POOLING = chunk("c3", "lstm", "LSTM", "LSTM > Cell state")


def test_terminal_text_names_each_source_once_with_its_title_said_once():
    citations = [Citation.of(1, LSTM), Citation.of(2, DROPOUT), Citation.of(3, POOLING)]
    assert source_text(citations[0]) == "LSTM > Gates (lstm)"
    assert source_text(citations[1], chunk=True) == "Regularization (reg, chunk c2)"
    assert sources_text(citations).splitlines() == [
        "sources:", "  [1] LSTM > Gates (lstm)", "  [2] Regularization (reg)", "  [3] LSTM > Cell state (lstm)"]
    assert sources_text([]) == ""
    assert text_with_sources("- gates [1] [3]\n- dropout [2]", citations).endswith(
        "Sources:\nLSTM (lstm): [1] [3]\nRegularization (reg): [2]")


def test_model_text_numbers_each_passage_as_the_log_does():
    log = PassageLog()
    first, second = log.add(LSTM), log.add(DROPOUT)
    assert log.add(LSTM) is first and [p.chunk.chunk_id for p in log.shown()] == ["c1", "c2", "c1"]
    assert [p.n for p in log.shown(2)] == [1]
    assert passage_heading(second) == "[2] Regularization (doc_id: reg)"
    text, citations = passages_answer([first, second], lambda t: t[:10])
    assert text.splitlines()[1:] == ["[1] LSTM > Gates: The forget", "[2] Regularization: Dropout dr"]
    assert [c.n for c in citations] == [1, 2]


def test_html_links_only_known_markers_one_link_per_number():
    html = link_markers("Gates [1, 2] and [7].", "a1", [1, 2])
    assert html.count('<a class="cite"') == 2 and 'href="#src-a1-2"' in html and "[7]" in html
    assert 'href="#src-a1-7"' not in html


def test_html_source_marks_the_key_and_escapes_the_text():
    citation = Citation.of(3, chunk("c9", "d", "A <b>", "A <b> > Part", "Adam & SGD; adam is adaptive."))
    shown = source_html(citation, "study", with_provenance=False, mark="adam", opened=True)
    assert 'id="src-study-3" open' in shown and "A &lt;b&gt; — Part" in shown
    assert shown.count("<mark>") == 2 and "&amp; SGD" in shown and "BM25" not in shown
    assert provenance(Citation(1, "c", "d", "t", "t", "x", bm25_rank=2, dense_rank=None, score=0.03251)) == (
        "BM25 rank 2 · dense rank – · fused score 0.0325")

