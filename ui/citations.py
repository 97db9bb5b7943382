"""HTML for citations: inline ``[n]`` markers become links that open the cited passage in the sources panel.

Each passage is a ``<details id="src-GROUP-N">`` element; a click on a ``<a class="cite">`` link runs
:data:`OPEN_SOURCE_JS` (loaded in the page head), which opens that element and scrolls it into view.
``GROUP`` keeps the links of different answers apart (answer 1's [1] and answer 2's [1] are different passages).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from coursemate.tools.citations import Citation, local_section

MARKER = re.compile(r"\[(\d+)\]")
PROVENANCE = (("bm25_rank", "BM25 rank"), ("dense_rank", "dense rank"), ("score", "fused score"))

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
    """``text`` with every ``[n]`` naming a known citation turned into a link to its passage."""
    numbers = set(known)

    def replace(match: re.Match) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        return f'<a class="cite" href="#src-{group}-{n}" title="show source {n}">[{n}]</a>'

    return MARKER.sub(replace, text)


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


def source_html(citation: Citation, group: str, with_provenance: bool = True) -> str:
    """One collapsible passage: ``[n] title — section``, its provenance and its text."""
    n = citation.n
    title = html.escape(citation.title or citation.doc_id)
    section = local_section(citation.title, citation.section)
    heading = f"{title} — {html.escape(section)}" if section else title
    meta = [f"<code>{html.escape(citation.doc_id)}</code>"]
    if with_provenance:
        meta.append(html.escape(provenance(citation)))
    text = html.escape(citation.text.strip())
    return (
        f'<details class="source" id="src-{group}-{n}"><summary><span class="source-n">[{n}]</span> {heading}</summary>'
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
