"""Build coursemate's shipped corpus from the raw course notes.

Run:  python data/prepare.py ../shared/corpus data/notes

Reads the five raw exports described in the raw corpus' README.md and writes one Markdown file
per document (YAML front matter + ``# title`` + ``## section`` headings) into the output folder.
Each raw file kind has one function below; all cleaning rules are general (no text is hand-edited).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

BULLET = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s")
CODE_CHARS = set("=[]{}<>\"'`_#|\\")
CODE_STARTS = ("import ", "from ", "def ", "class ", "return ", "for ", "if ", "print")
FIGURE_CAPTION = re.compile(r"^(?:Fig\b|Source\b)|source\)?$")


@dataclass
class NoteDocument:
    """A cleaned document: ``sections`` are (heading, body) pairs; heading "" = text before any heading."""

    doc_id: str
    title: str
    source: str
    sections: list[tuple[str, str]]
    metadata: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------
# Shared rules
# ----------------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by dashes: "Day #170 - RNN" -> "day-170-rnn"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def looks_like_heading(line: str, allow_numbered: bool = False) -> bool:
    """A short title-like line: capitalised, no end punctuation (but "?"), not a list item, code or
    figure caption ("Fig. ...", "... source")."""
    s = line.strip()
    if not s or len(s) > 70 or len(s.split()) > 12 or FIGURE_CAPTION.search(s):
        return False
    if BULLET.match(s) and not (allow_numbered and re.match(r"^\d+\.\s", s)):
        return False
    return (
        (s[0].isupper() or s[0].isdigit())
        and not s.endswith((".", ",", ";", ":", "!", "(", "-"))
        and not CODE_CHARS & set(s)
        and "http" not in s
        and not re.search(r"\.[A-Za-z]", s)  # a sentence inside ("interested.AI Agents Course")
        and not s.startswith(CODE_STARTS)
    )


def split_sections(lines: list[str], allow_numbered: bool = False) -> list[tuple[str, str]]:
    """Split lines into (heading, body) sections.

    A heading-like line is a heading when the next non-empty line continues it: a longer line
    (a paragraph), a list item, or another heading (sub-heading); a "Term - meaning" line only
    when a list follows. Lines are kept otherwise unchanged.
    """
    heading_at: set[int] = set()
    next_kind = "end"  # what follows the current line: "end", "heading", "list", or a length
    next_len = 0
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if not line.strip():
            continue
        is_definition = " - " in line  # "Term - meaning" lines head a section only above a list
        if looks_like_heading(line, allow_numbered) and (
            next_kind == "list"
            or (not is_definition and next_kind == "heading")
            or (not is_definition and next_kind == "text" and next_len > len(line.strip()))
        ):
            heading_at.add(i)
            next_kind = "heading"
        else:
            next_kind = "list" if BULLET.match(line) else "text"
            next_len = len(line.strip())

    sections: list[tuple[str, list[str]]] = [("", [])]
    for i, line in enumerate(lines):
        if i in heading_at:
            sections.append((line.strip(), []))
        else:
            sections[-1][1].append(line)
    cleaned = [(title, tidy_block(body)) for title, body in sections]
    return [(title, body) for title, body in cleaned if title or body]


def tidy_block(lines: list[str]) -> str:
    """Join lines, strip trailing spaces and collapse runs of blank lines to one."""
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def normalise_list_line(line: str) -> str:
    """Blogger lists: "  • item" -> "- item", nesting kept (2 spaces per level); numbers kept."""
    match = re.match(r"^(\s*)(•|\d+\.)\s*(.*)$", line)
    if not match:
        return line.strip()
    indent, marker, rest = match.groups()
    marker = "-" if marker == "•" else marker
    return " " * max(len(indent.expandtabs(4)) - 2, 0) + f"{marker} {rest}".rstrip()


def parse_long_date(line: str) -> str | None:
    """ "March 05, 2023" or "Saturday, 7 December 2024" -> "2023-03-05"; None if not a date line."""
    for fmt in ("%B %d, %Y", "%A, %d %B %Y"):
        try:
            return datetime.strptime(line.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def split_dated_posts(lines: list[str]) -> list[tuple[str, str, list[str]]]:
    """Blogger pages: a date line, then one or more posts, each starting with its title line.

    Returns (date, title, body lines). A post title is the first non-empty line after a date
    line, or an unindented line after a blank line whose next paragraph starts with a no-break
    space (Blogger writes each post's first paragraph that way)."""
    posts: list[tuple[str, str, list[str]]] = []
    date: str | None = None
    expect_title = False
    for i, line in enumerate(lines):
        line_date = parse_long_date(line)
        if line_date:
            date, expect_title = line_date, True
            continue
        if date is None:
            continue  # page chrome above the first post
        if expect_title and line.strip():
            posts.append((date, line.strip(), []))
            expect_title = False
            continue
        if posts and starts_new_post(lines, i):
            posts.append((date, line.strip(), []))
            continue
        if posts:
            posts[-1][2].append(line)
    return posts


def starts_new_post(lines: list[str], i: int) -> bool:
    """An unindented line after a blank line, followed (after blanks) by a no-break-space paragraph."""
    line = lines[i]
    if not line.strip() or line[0].isspace() or (i > 0 and lines[i - 1].strip()):
        return False
    following = next((nxt for nxt in lines[i + 1 :] if nxt.strip()), "")
    return following.startswith("\xa0")


def escape_markdown_headings(text: str) -> str:
    """Body lines starting with "#" (code comments) would read as headings: escape them as "\\#"."""
    return re.sub(r"^#", r"\\#", text, flags=re.MULTILINE)


def write_markdown(document: NoteDocument, out_dir: Path) -> Path:
    """Write one document as Markdown with YAML front matter; returns the file written."""
    front = {"doc_id": document.doc_id, "title": document.title, "source": document.source}
    front.update(document.metadata)
    parts = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000).strip(), "---"]
    parts.append(f"# {document.title}\n")
    for heading, body in document.sections:
        if heading:
            parts.append(f"## {heading}\n")
        if body:
            parts.append(escape_markdown_headings(body) + "\n")
    path = out_dir / f"{document.doc_id}.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------
# One function per raw file kind
# ----------------------------------------------------------------------------------------------

# Short readable ids for the blog dataset, keyed by the post's URL slug (without its date).
BLOG_IDS = {
    "paper-explanation-going-deeper-with-convolutions-googlenet": "blog-googlenet",
    "illustrated-vision-transformers": "blog-vision-transformers",
    "gpt4-summary": "blog-gpt4",
    "neural-style-transfer-and-its-working": "blog-neural-style-transfer",
    "general-adversarial-networks-gans": "blog-gans",
    "huggingface-smolagents-solutions": "blog-smolagents-quiz",
    "autocorrect-and-minimum-edit-distance": "blog-autocorrect-edit-distance",
    "text-summarization-nlp": "blog-text-summarization",
    "deep-residual-learning-for-image-recognition-resnet-paper-explained": "blog-resnet-paper",
    "mobilenet-architecture-explained": "blog-mobilenet",
    "vggnet-architecture-explained": "blog-vggnet",
    "alexnet-architecture-explained": "blog-alexnet",
    "simclr-explained": "blog-simclr",
    "augmented-language-models": "blog-augmented-llms",
    "self-supervised-learning": "blog-self-supervised-learning",
    "deep-convolutional-general-adversarial-networks-dcgans": "blog-dcgan",
}


def blog_csv_documents(path: Path) -> list[NoteDocument]:
    """000: CSV ``source,full_text,title`` after 4 lines of page chrome; one document per row."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header_at = next(i for i, line in enumerate(lines) if line.strip() == "source,full_text,title")
    documents = []
    for row in csv.DictReader(io.StringIO("".join(lines[header_at:]))):
        url = clean_url(row["source"])
        stem = Path(urlsplit(url).path).stem
        match = re.match(r"(\d{4}-\d{2}-\d{2})-(.*)", stem)
        date, slug = (match.group(1), match.group(2)) if match else (None, stem)
        body = row["full_text"].replace("[latexpage]", "").splitlines()
        if body and body[0].strip() == row["title"].strip():
            body = body[1:]  # the text repeats the title as its first line
        metadata = {"kind": "blog post", "date": date} if date else {"kind": "blog post"}
        documents.append(
            NoteDocument(BLOG_IDS.get(slug, f"blog-{slug}"), row["title"].strip(), url, split_sections(body), metadata)
        )
    return documents


def clean_url(url: str) -> str:
    """Drop the trailing dot of a fully-qualified host ("github.io./posts" -> "github.io/posts")."""
    parts = urlsplit(url.strip())
    return urlunsplit(parts._replace(netloc=parts.netloc.rstrip(".")))


# The course export marks sessions as "session N - title" inside long lines. A marker is a real
# session start when it begins a line or follows the export's video-link chrome ("video studio gm").
CHROME_WORD = r"(?:videos?|studio|gm|google meet|version)"
SESSION_MARKER = re.compile(r"session (\d+(?:\.\d+)?) ?- ", re.IGNORECASE)
MARKER_CONTEXT = re.compile(rf"(?:^|\n|\b{CHROME_WORD}\)? )$", re.IGNORECASE)
TRAILING_CHROME = re.compile(rf"(?:\s*\b{CHROME_WORD}\b)+\s*$", re.IGNORECASE)
# The export does not delimit where a session title ends, so the titles are listed here and the
# script checks each one against the text right after its marker (it fails if the export differs).
SESSION_TITLES = [
    "hola!",
    "neural architecture",
    "git & python 101",
    "first neural networks",
    "backpropagation & architectural basics",
    "coding drill down",
    "batch normalization & regularization",
    "advanced concepts",
    "advanced training concepts",
    "handson & resnets an higher receptive fields",
    "dawn of transformers - part i",
    "dawn of transformers - part ii",
    "object localisation part 1 - yolo",
    "dawn of transformers - part iii",
]
COURSE_SOURCE = "{name} (vision deep-learning course, sessions 0-11, lowercased export)"


def course_session_documents(path: Path) -> list[NoteDocument]:
    """001: the course export, one document per session; a fractional session (1.5) is a section
    of its integer session."""
    text = path.read_text(encoding="utf-8")
    markers = [m for m in SESSION_MARKER.finditer(text)
               if MARKER_CONTEXT.search(text[max(0, m.start() - 20) : m.start()])]
    if len(markers) != len(SESSION_TITLES):
        raise SystemExit(f"{path.name}: expected {len(SESSION_TITLES)} session markers, found {len(markers)}")
    parts: list[tuple[str, str, str]] = []  # (number, title, body)
    for marker, title, following in zip(markers, SESSION_TITLES, markers[1:] + [None]):
        after = text[marker.end() : following.start() if following else len(text)]
        if not after.lower().startswith(title):
            raise SystemExit(f"{path.name}: session {marker.group(1)} does not start with {title!r}")
        body = after[len(title) :]
        if following:
            body = TRAILING_CHROME.sub("", body)
        parts.append((marker.group(1), title, body))

    documents: list[NoteDocument] = []
    for number, title, body in parts:
        lines = body.strip().splitlines()
        if "." in number:  # a half session continues the previous document as a section
            documents[-1].sections.append((f"Session {number} - {title}", tidy_block(lines)))
            continue
        session = int(number)
        doc_id = f"session-{session:02d}-{slugify(title)}"
        documents.append(
            NoteDocument(
                doc_id,
                f"Session {session} - {title}",
                COURSE_SOURCE.format(name=path.name),
                [("", tidy_block(lines))],
                {"session": session, "kind": "course session"},
            )
        )
    return documents


TEASER_LINE = re.compile(r"^(🧠 .*|.*\.\.\.)$")


def blogger_label_documents(path: Path) -> list[NoteDocument]:
    """002: a Blogger label page (label RNN): dated posts, "•" bullet lists."""
    return blogger_documents(path, "blog posts under label RNN, Blogger export")


def blogger_page_documents(path: Path) -> list[NoteDocument]:
    """004: a Blogger page ("What is ResNet", 2024) holding several dated posts with headings and
    numbered lists; the trailing "popular post" teaser (cut off with "...") is page chrome."""
    return blogger_documents(path, "blog page starting with the post 'What is ResNet', Blogger export")


def blogger_documents(path: Path, what: str) -> list[NoteDocument]:
    """Both Blogger exports: one document per dated post, headings recovered, lists normalised."""
    lines = path.read_text(encoding="utf-8").splitlines()
    documents = []
    for date, title, body in split_dated_posts(lines):
        body = drop_trailing_teaser(body)
        cleaned = [normalise_list_line(line) for line in body]
        documents.append(
            NoteDocument(
                f"post-{slugify(title)}",
                title,
                f"{path.name} ({what})",
                split_sections(cleaned, allow_numbered=True),
                {"kind": "blog post", "date": date},
            )
        )
    return documents


def drop_trailing_teaser(body: list[str]) -> list[str]:
    """Drop a page's trailing teaser for another post: an emoji-led title and a "..."-cut excerpt."""
    for i, line in enumerate(body):
        if line.startswith("🧠 ") and all(TEASER_LINE.match(rest) or not rest.strip() for rest in body[i:]):
            return body[:i]
    return body


def personal_notes_documents(path: Path) -> list[NoteDocument]:
    """003: personal notes: the first line is the topic (title); short headings start sections."""
    lines = path.read_text(encoding="utf-8").splitlines()
    title = lines[0].strip()
    return [
        NoteDocument(
            f"notes-{slugify(title)}",
            title,
            f"{path.name} (personal notes on neural networks)",
            split_sections(lines[1:]),
            {"kind": "personal notes"},
        )
    ]


# Raw file name prefix -> the function that reads it.
READERS: dict[str, Callable[[Path], list[NoteDocument]]] = {
    "000": blog_csv_documents,
    "001": course_session_documents,
    "002": blogger_label_documents,
    "003": personal_notes_documents,
    "004": blogger_page_documents,
}


def prepare(raw_dir: Path, out_dir: Path) -> list[NoteDocument]:
    """Clean every raw file of ``raw_dir`` into ``out_dir`` (replacing its .md files)."""
    documents: list[NoteDocument] = []
    for prefix, reader in READERS.items():
        matches = sorted(raw_dir.glob(f"{prefix}_*.txt"))
        if len(matches) != 1:
            raise SystemExit(f"expected one {prefix}_*.txt file in {raw_dir}, found {len(matches)}")
        documents.extend(reader(matches[0]))
    ids = [d.doc_id for d in documents]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SystemExit(f"duplicate doc ids: {duplicates}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.md"):
        old.unlink()
    for document in documents:
        write_markdown(document, out_dir)
    return documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path, help="folder with the raw exports (000_*.txt ... 004_*.txt)")
    parser.add_argument("out_dir", type=Path, help="folder to write the cleaned Markdown files into")
    args = parser.parse_args(argv)
    documents = prepare(args.raw_dir, args.out_dir)
    for d in documents:
        session = d.metadata.get("session", "")
        print(f"{d.doc_id}\t{session}\t{d.title}\t{len(d.sections)} sections")
    print(f"{len(documents)} documents written to {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
