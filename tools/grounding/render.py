"""Sources and citations as they are shown, in one place: plain text for the terminal, the text a model reads (the
agents' tools, grounded prompts, answers made of passages), and HTML for the UI.

- where a source is: :func:`location` ("Title > section", the title said once) and :func:`local_section`;
- text: :func:`source_text`, :func:`sources_text` (the lines under an answer), :func:`sources_markdown` (the same
  as a Markdown list, for the /v1 API), :func:`text_with_sources` (a summary with its sources by document),
  :func:`provenance` (how a search found the passage);
- what a model reads: :func:`passage_heading`, :func:`format_passage`, :func:`format_passages`,
  :func:`passage_list`, :func:`passages_answer`;
- HTML: :func:`link_markers` (clickable ``[n]``), :func:`source_html` and :func:`sources_html` (the sources panel).
  Each passage is a ``<details id="src-GROUP-N">`` element; a click on a ``<a class="cite">`` link runs
  :data:`OPEN_SOURCE_JS` (loaded in the page head), which opens that element and scrolls it into view. ``GROUP``
  keeps the links of different answers apart (answer 1's [1] and answer 2's [1] are different passages).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from coursemate.tools.grounding.citations import MARKER, Citation, Passage, marker_numbers

if TYPE_CHECKING:
    from coursemate.retrieval import NotesIndex

PROMPT_PASSAGE_CHARS = 1500  # a whole chunk at the default chunk size (1200 characters) reaches the model
PROVENANCE = (("bm25_rank", "BM25 rank"), ("dense_rank", "dense rank"), ("score", "fused score"))


# ----------------------------------------------------------------- where a source is
def local_section(title: str, section: str) -> str:
    """``section`` without the document title it repeats ("Session 4 > results": "results"; "Session 4": "")."""
    return "" if section == title else section.removeprefix(f"{title} > ")


def location(title: str, section: str) -> str:
    """``Title > section`` as a student reads it, the title said once."""
    return " > ".join(p for p in (title, local_section(title, section)) if p)


# ----------------------------------------------------------------- text (the terminal)
def source_text(citation: Citation, chunk: bool = False) -> str:
    """``Title > section (doc_id)``; with ``chunk``: ``Title > section (doc_id, chunk ID)``."""
    where = f"{citation.doc_id}, chunk {citation.chunk_id}" if chunk else citation.doc_id
    return f"{location(citation.title, citation.section)} ({where})"


def sources_text(citations: Sequence[Citation]) -> str:
    """``sources:`` and one ``  [n] Title > section (doc_id)`` line per citation (empty without citations)."""
    return "\n".join(["sources:", *(f"  [{c.n}] {source_text(c)}" for c in citations)]) if citations else ""


def sources_markdown(citations: Sequence[Citation]) -> str:
    """``**Sources**`` and one ``- [n] Title > section (doc_id)`` item per citation: the list under an answer of the
    OpenAI-compatible API (empty without citations)."""
    if not citations:
        return ""
    return "**Sources**\n\n" + "\n".join(f"- [{c.n}] {source_text(c)}" for c in citations)


def text_with_sources(text: str, citations: Sequence[Citation]) -> str:
    """``text``, then ``Sources:`` with one line per document, its title said once: ``Title (doc_id): [1] [3]``."""
    by_document: dict[tuple[str, str], list[int]] = {}
    for c in citations:
        by_document.setdefault((c.title, c.doc_id), []).append(c.n)
    sources = [f"{title} ({doc_id}): {' '.join(f'[{n}]' for n in numbers)}"
               for (title, doc_id), numbers in by_document.items()]
    return text + "\n\nSources:\n" + "\n".join(sources)


def provenance(citation: Citation) -> str:
    """'BM25 rank 2 · dense rank 5 · fused score 0.0325' from the citation's search provenance (– where a method
    did not find it)."""
    parts = []
    for name, label in PROVENANCE:
        value = getattr(citation, name)
        if value is None:
            parts.append(f"{label} –")
        else:
            parts.append(f"{label} {value:.4f}" if isinstance(value, float) else f"{label} {value}")
    return " · ".join(parts)


# ----------------------------------------------------------------- what a model reads
def passage_heading(passage: Passage) -> str:
    """``[n] Title > Section (doc_id: ...)``."""
    c = passage.chunk
    return f"[{passage.n}] {location(c.title, c.section)} (doc_id: {c.doc_id})"


def passage_list(passages: Sequence[Passage]) -> str:
    """The passages' headings, one a line."""
    return "\n".join(passage_heading(p) for p in passages)


def format_passage(passage: Passage, limit: int | None = None, text: str | None = None) -> str:
    """The passage heading and its text (``text`` when given, e.g. the clean sentences; cut at ``limit``
    characters)."""
    text = (passage.chunk.text if text is None else text).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip() + " ..."
    return f"{passage_heading(passage)}\n{text}"


def format_passages(passages: Sequence[Passage], index: NotesIndex | None = None) -> str:
    """The numbered passages shown to a model as the clean sentences of ``index`` (:meth:`NotesIndex.clean_text`;
    the raw chunk text without one), each cut to :data:`PROMPT_PASSAGE_CHARS`, a blank line apart."""
    return "\n\n".join(format_passage(p, limit=PROMPT_PASSAGE_CHARS,
                                      text=index.clean_text(p.chunk) if index is not None else None)
                       for p in passages)


def passages_answer(passages: Sequence[Passage], preview: Callable[[str], str]) -> tuple[str, list[Citation]]:
    """An answer made only of the best passages (when no model can write one), each cited; ``preview`` gives the
    part of a passage's text to show (e.g. :meth:`NotesIndex.snippet` around the question's terms)."""
    lines = ["The most relevant passages from the notes:"]
    for p in passages:
        lines.append(f"[{p.n}] {location(p.chunk.title, p.chunk.section)}: {preview(p.chunk.text)}")
    return "\n".join(lines), [p.citation() for p in passages]


# ----------------------------------------------------------------- HTML (the UI)
OPEN_SOURCE_JS = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a.cite");
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  document.querySelectorAll("details.source.highlight").forEach((el) => el.classList.remove("highlight"));
  target.open = true;
  target.classList.add("highlight");
  target.scrollIntoView({behavior: "smooth", block: "nearest"});
}, true);
</script>
"""


def link_markers(text: str, group: str, known: Iterable[int]) -> str:
    """``text`` with every marker naming known citations turned into links to their passages (``[1, 2]``: one link
    each); a marker naming no known citation stays as it is."""
    numbers = set(known)

    def replace(match: re.Match) -> str:
        cited = [n for n in marker_numbers(match.group(1)) if n in numbers]
        if not cited:
            return match.group(0)
        return "".join(f'<a class="cite" href="#src-{group}-{n}" title="show source {n}">[{n}]</a>' for n in cited)

    return MARKER.sub(replace, text)


def source_html(citation: Citation, group: str, with_provenance: bool = True, mark: str | None = None,
                opened: bool = False) -> str:
    """One collapsible passage: ``[n] title — section``, its doc id (and provenance) and its text, with every
    occurrence of ``mark`` marked; ``opened``: shown open."""
    n = citation.n
    title = html.escape(citation.title or citation.doc_id)
    section = local_section(citation.title, citation.section)
    heading = f"{title} — {html.escape(section)}" if section else title
    meta = [f"<code>{html.escape(citation.doc_id)}</code>"]
    if with_provenance:
        meta.append(html.escape(provenance(citation)))
    pieces = re.split(f"({re.escape(mark)})", citation.text.strip(), flags=re.IGNORECASE) if mark else [
        citation.text.strip()]
    text = "".join(f"<mark>{html.escape(p)}</mark>" if i % 2 else html.escape(p) for i, p in enumerate(pieces))
    return (
        f'<details class="source" id="src-{group}-{n}"{" open" if opened else ""}><summary>'
        f'<span class="source-n">[{n}]</span> {heading}</summary>'
        f'<div class="source-meta">{" · ".join(meta)}</div><div class="source-text">{text}</div></details>'
    )


def sources_html(groups: Sequence[tuple[str, str, Sequence[Citation]]], empty: str) -> str:
    """The sources panel: for each ``(group, heading, citations)``, newest first, its passages."""
    if not any(citations for _, _, citations in groups):
        return f'<div class="sources-empty">{html.escape(empty)}</div>'
    parts = []
    for group, heading, citations in reversed(groups):
        if not citations:
            continue
        parts.append(f'<div class="sources-group"><div class="sources-heading">{html.escape(heading)}</div>')
        parts.extend(source_html(c, group) for c in citations)
        parts.append("</div>")
    return "".join(parts)
