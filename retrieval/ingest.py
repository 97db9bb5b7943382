"""Read notes from disk into Documents: Markdown, plain text, HTML, PDF, blog-export CSV, Word (.docx) and
PowerPoint (.pptx).

``load_corpus(paths)`` walks folders (recursively, sorted) and files; what it cannot read (binary,
empty, unreadable files, unsupported extensions) is skipped and reported, never silently lost.
Each document's ``sections`` are character spans of its ``text`` that together cover all of it; a long
section without headings is split into topic sub-sections (:mod:`retrieval.topics`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from coursemate.errors import CoursemateError
from coursemate.retrieval.topics import topic_sections
from coursemate.retrieval.types import Document, Section

MAX_CSV_FIELD_CHARS = 5_000_000  # a blog post's full_text is far below this; a bigger field is a broken file


class SkipFile(Exception):
    """A file that cannot become a document; the message says why (it goes into the skip list)."""


# ----------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------


def load_corpus(paths: Sequence[Path | str], topics: bool = True) -> tuple[list[Document], list[str]]:
    """Load every supported file under ``paths`` (folders recursively, in sorted order).

    Returns the documents and human-readable messages for the files that were skipped.
    Hidden files and folders (".git", ".DS_Store") inside a folder are ignored, and so is a link inside a folder
    that leads out of it (skipped and reported). A file reached twice is read once; doc ids are made unique with
    a "-2", "-3"... suffix.
    Raises CoursemateError when a given path does not exist.
    """
    documents: list[Document] = []
    skipped: list[str] = []
    seen_files: set[Path] = set()
    seen_ids: set[str] = set()
    for given in paths:
        root = Path(given).expanduser()
        if not root.exists():
            raise CoursemateError(f"corpus path not found: {root}")
        for file, relative in _files_under(root):
            try:
                resolved = file.resolve()
            except (RuntimeError, OSError):  # a symbolic link loop (l1 -> l2 -> l1)
                skipped.append(f"skipped {file}: a symbolic link loop")
                continue
            if resolved in seen_files:
                continue
            if root.is_dir() and not resolved.is_relative_to(root.resolve()):
                skipped.append(f"skipped {file}: a link to {resolved}, outside the corpus folder {root}")
                continue
            seen_files.add(resolved)
            try:
                found = read_file(file, relative)
            except SkipFile as why:
                skipped.append(f"skipped {file}: {why}")
                continue
            for document in found:
                document.doc_id = _unique(document.doc_id, seen_ids)
                document.metadata["file"] = str(file)  # what removing the document deletes (retrieval/library.py)
                if topics:
                    document.sections = [sub for s in document.sections for sub in topic_sections(document.text, s)]
                documents.append(document)
    return documents, skipped


def read_file(path: Path, relative: Path | None = None) -> list[Document]:
    """The documents of one file (a CSV gives one per row). Raises SkipFile when it has none.

    ``relative`` (the path below the folder it was found in, or the name a file was uploaded with) names documents
    without a doc_id, and its extension says the format.
    """
    relative = relative or Path(path.name)
    reader = READERS.get(relative.suffix.lower())
    if reader is None:
        raise SkipFile(f"unsupported file type {relative.suffix or '(no extension)'!r}")
    if path.exists() and not path.is_file():
        raise SkipFile("not a regular file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SkipFile(f"unreadable ({error.strerror or error})") from error
    if not data.strip():
        raise SkipFile("empty file")
    return reader(data, path, relative)


# ----------------------------------------------------------------------------------------------
# One reader per format: (bytes, path, relative path) -> documents
# ----------------------------------------------------------------------------------------------


def read_markdown(data: bytes, path: Path, relative: Path) -> list[Document]:
    """Markdown with optional YAML front matter (doc_id, title, source, any other keys = metadata);
    ``#``/``##``/``###`` headings (outside code fences) start sections."""
    front, body = split_front_matter(decode_text(data))
    text = body.strip("\n").rstrip()
    if not text.strip():
        raise SkipFile("empty file (no text after the front matter)")
    sections = markdown_sections(text)
    first_heading = next((s.title for s in sections if s.title), "")
    return [
        Document(
            doc_id=str(front.pop("doc_id", None) or doc_id_for(relative)),
            title=str(front.pop("title", None) or first_heading or title_from_name(path)),
            text=text,
            source=str(front.pop("source", None) or path),
            sections=sections,
            metadata=plain_metadata(front),
        )
    ]


def read_plain_text(data: bytes, path: Path, relative: Path) -> list[Document]:
    """Plain text; isolated short lines (blank line before and after) are headings."""
    return [text_document(decode_text(data), doc_id_for(relative), str(path))]


def read_html(data: bytes, path: Path, relative: Path) -> list[Document]:
    """HTML: script/style/nav dropped, ``<h1>``..``<h6>`` start sections, list items get "- "."""
    from bs4 import BeautifulSoup

    check_not_binary(data)
    soup = BeautifulSoup(data, "html.parser")
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "nav", "noscript", "template", "head"]):
        tag.decompose()
    for tag in soup.find_all(HTML_HEADINGS):
        tag.replace_with(f"\n{HEADING_MARK}{tag.get_text(' ', strip=True)}\n")
    for tag in soup.find_all(HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
        if tag.name == "li":
            tag.insert(0, "- ")
    parts: list[tuple[str, str]] = [("", "")]
    for raw_line in soup.get_text().splitlines():
        line = " ".join(raw_line.split())
        if line.startswith(HEADING_MARK):
            title = line[len(HEADING_MARK) :].strip()
            parts.append((title, title))
        elif line:
            title, body = parts[-1]
            parts[-1] = (title, f"{body}\n{line}" if body else line)
    text, sections = join_parts([(title, body) for title, body in parts if body])
    if not text.strip():
        raise SkipFile("no text in the HTML page")
    first_heading = next((s.title for s in sections if s.title), "")
    title = page_title or first_heading or title_from_name(path)
    return [Document(doc_id_for(relative), title, text, str(path), sections)]


def read_pdf(data: bytes, path: Path, relative: Path) -> list[Document]:
    """PDF via pypdf: one section per page with text, titled "page N"."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        pdf_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PyPdfError, ValueError, KeyError, TypeError) as error:
        raise SkipFile(f"unreadable PDF ({error})") from error
    parts = [(f"page {n}", page) for n, page in enumerate(pages, start=1) if page]
    if not parts:
        raise SkipFile("no extractable text in the PDF (scanned images?)")
    text, sections = join_parts(parts)
    return [Document(doc_id_for(relative), str(pdf_title).strip() or title_from_name(path), text, str(path), sections)]


def read_blog_csv(data: bytes, path: Path, relative: Path) -> list[Document]:
    """CSV with ``source,full_text,title`` columns (any order), one document per row. Lines before
    the header (page chrome of the site it was downloaded from) are ignored."""
    lines = decode_text(data).splitlines(keepends=True)
    header_at = next((i for i, line in enumerate(lines) if _is_blog_header(line)), None)
    if header_at is None:
        raise SkipFile("CSV without a source,full_text,title header")
    csv.field_size_limit(MAX_CSV_FIELD_CHARS)
    base_id = doc_id_for(relative)
    documents = []
    try:
        rows = list(csv.DictReader(io.StringIO("".join(lines[header_at:]))))
    except csv.Error as error:  # e.g. a field over MAX_CSV_FIELD_CHARS
        raise SkipFile(f"malformed CSV ({error})") from None
    for n, row in enumerate(rows, start=1):
        row = {(key or "").strip().lower(): (value or "") for key, value in row.items() if key}
        body = row.get("full_text", "")
        if not body.strip():
            continue
        title = row.get("title", "").strip()
        source = row.get("source", "").strip() or f"{path} row {n}"
        documents.append(text_document(body, f"{base_id}/{slugify(title) or n}", source, title))
    if not documents:
        raise SkipFile("CSV has no rows with text")
    return documents


def read_docx(data: bytes, path: Path, relative: Path) -> list[Document]:
    """Word (.docx) via python-docx: "Heading N" and "Title" paragraphs start sections, list paragraphs get "- ",
    table rows become lines of cells joined by " | "."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise SkipFile(f"unreadable Word file ({error or type(error).__name__})") from error
    parts: list[tuple[str, str]] = [("", "")]
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines = [" | ".join(" ".join(cell.text.split()) for cell in row.cells) for row in block.rows]
        else:
            text = " ".join(block.text.split())
            style = (block.style.name if block.style is not None else "") or ""
            if text and style.startswith(("Heading", "Title")):
                parts.append((text, ""))
                continue
            lines = [f"- {text}" if text and "List" in style else text]
        title, body = parts[-1]
        parts[-1] = (title, "\n".join(line for line in [body, *lines] if line))
    text, sections = join_parts([(title, body) for title, body in parts if body])
    if not text.strip():
        raise SkipFile("no text in the Word file")
    first_heading = next((s.title for s in sections if s.title), "")
    title = document.core_properties.title or first_heading or title_from_name(path)
    return [Document(doc_id_for(relative), title, text, str(path), sections)]


def read_pptx(data: bytes, path: Path, relative: Path) -> list[Document]:
    """PowerPoint (.pptx) via python-pptx: one section per slide with text, titled "slide N: its title"; the text of
    every shape (its title included; tables row by row) and the speaker notes."""
    import pptx
    from pptx.exc import PackageNotFoundError

    try:
        deck = pptx.Presentation(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise SkipFile(f"unreadable PowerPoint file ({error or type(error).__name__})") from error
    parts = []
    for n, slide in enumerate(deck.slides, start=1):
        title_shape = slide.shapes.title
        heading = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        lines = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                lines += [" ".join(p.text.split()) for p in shape.text_frame.paragraphs]
            elif shape.has_table:
                lines += [" | ".join(" ".join(c.text.split()) for c in row.cells) for row in shape.table.rows]
        if slide.has_notes_slide:
            lines += slide.notes_slide.notes_text_frame.text.splitlines()
        body = "\n".join(line.strip() for line in lines if line.strip())
        if body:
            parts.append((f"slide {n}: {heading}" if heading else f"slide {n}", body))
    if not parts:
        raise SkipFile("no text in the PowerPoint file")
    text, sections = join_parts(parts)
    title = deck.core_properties.title or title_from_name(path)
    return [Document(doc_id_for(relative), title, text, str(path), sections)]


READERS: dict[str, Callable[[bytes, Path, Path], list[Document]]] = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_plain_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".csv": read_blog_csv,
    ".docx": read_docx,
    ".pptx": read_pptx,
}

HTML_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
HTML_BLOCKS = ["p", "div", "li", "pre", "blockquote", "br", "tr", "td", "th", "dt", "dd", "figcaption",
               "section", "article", "main", "header", "footer", "aside", "table", "ul", "ol", "hr"]
HEADING_MARK = "\x00"  # marks heading lines while flattening HTML (real text never has NUL bytes)


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def check_not_binary(data: bytes) -> None:
    """Raise SkipFile for data with NUL bytes (binary files)."""
    if b"\x00" in data:
        raise SkipFile("binary file (contains NUL bytes)")


def decode_text(data: bytes) -> str:
    """UTF-8 text (a BOM is dropped, line endings normalised); SkipFile for binary or other encodings."""
    check_not_binary(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SkipFile(f"not UTF-8 text (undecodable byte at offset {error.start})") from error
    return text.replace("\r\n", "\n").replace("\r", "\n")


FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter dict, body). SkipFile when the front matter is not a YAML mapping."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        front = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as error:
        raise SkipFile(f"invalid YAML front matter ({' '.join(str(error).split())})") from error
    if not isinstance(front, dict):
        raise SkipFile("front matter is not a YAML mapping of keys to values")
    return {str(key): value for key, value in front.items()}, text[match.end() :]


MARKDOWN_HEADING = re.compile(r"^ {0,3}(#{1,3})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
CODE_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_sections(text: str) -> list[Section]:
    """Sections of Markdown text: each ``#``..``###`` heading (not inside a code fence) starts one."""
    starts: list[tuple[int, str]] = []
    offset = 0
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        fence_match = CODE_FENCE.match(line)
        if fence_match:
            fence = None if fence == fence_match.group(1) else fence or fence_match.group(1)
        elif fence is None:
            heading = MARKDOWN_HEADING.match(line.rstrip("\n"))
            if heading:
                starts.append((offset, heading.group(2).strip()))
        offset += len(line)
    return spans(text, starts)


def text_document(text: str, doc_id: str, source: str, title: str = "") -> Document:
    """A plain-text document: sections start at isolated short lines (see ``text_headings``).
    Without a title, the first line is the title (cut to 80 characters)."""
    text = text.strip("\n").rstrip()
    if not text.strip():
        raise SkipFile("empty file")
    title = title or text.strip().splitlines()[0].strip()[:80]
    return Document(doc_id, title, text, source, spans(text, text_headings(text)))


def text_headings(text: str) -> list[tuple[int, str]]:
    """Offsets and titles of heading lines in plain text: a short line (at most 60 characters, no
    closing punctuation, not a list item) with a blank line (or the start) before it and a blank
    line after it, followed by more text."""
    lines = text.splitlines(keepends=True)
    found: list[tuple[int, str]] = []
    offset = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        before_blank = i == 0 or not lines[i - 1].strip()
        after_blank = i + 1 < len(lines) and not lines[i + 1].strip()
        more_text = any(rest.strip() for rest in lines[i + 2 :])
        if (
            stripped
            and len(stripped) <= 60
            and not stripped.endswith((".", ",", ";", ":", "!", "?"))
            and not re.match(r"^([-*•]|\d+[.)])\s", stripped)
            and before_blank
            and after_blank
            and more_text
        ):
            found.append((offset, stripped))
        offset += len(line)
    return found


def spans(text: str, starts: list[tuple[int, str]]) -> list[Section]:
    """Sections from heading offsets; text before the first heading is an untitled section.
    Together they cover the whole text; trailing whitespace is left out of each span."""
    bounds = ([(0, "")] if not starts or text[: starts[0][0]].strip() else []) + starts
    sections = []
    for (start, title), (end, _) in zip(bounds, bounds[1:] + [(len(text), "")]):
        end = start + len(text[start:end].rstrip())
        sections.append(Section(title, start, end))
    return sections


def join_parts(parts: list[tuple[str, str]]) -> tuple[str, list[Section]]:
    """Join (section title, section text) parts with blank lines; returns text and their spans."""
    text = ""
    sections = []
    for title, body in parts:
        if text:
            text += "\n\n"
        sections.append(Section(title, len(text), len(text) + len(body)))
        text += body
    return text, sections


def _is_blog_header(line: str) -> bool:
    fields = next(csv.reader([line]), [])
    return {"source", "full_text", "title"} <= {f.strip().lower() for f in fields}


def _files_under(root: Path) -> list[tuple[Path, Path]]:
    """(file, path relative to the folder given) for a file or all non-hidden entries under a folder
    that are not folders (broken links and special files are listed so that they get reported)."""
    if not root.is_dir():
        return [(root, Path(root.name))]
    found = []
    for file in root.rglob("*"):
        relative = file.relative_to(root)
        if not file.is_dir() and not any(part.startswith(".") for part in relative.parts):
            found.append((file, relative))
    return sorted(found, key=lambda pair: pair[1].as_posix())


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def doc_id_for(relative: Path) -> str:
    """A readable id from a relative path: "week 1/Intro Notes.md" -> "week-1/intro-notes"."""
    parts = [slugify(part) for part in relative.with_suffix("").parts]
    return "/".join(part for part in parts if part) or "document"


def title_from_name(path: Path) -> str:
    """ "intro_to-cnns.md" -> "intro to cnns"."""
    return re.sub(r"[_-]+", " ", path.stem).strip() or path.name


def plain_metadata(value: Any) -> Any:
    """Front-matter values as JSON-friendly data (YAML dates become ISO strings)."""
    if isinstance(value, dict):
        return {str(k): plain_metadata(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_metadata(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _unique(doc_id: str, seen: set[str]) -> str:
    candidate, n = doc_id, 1
    while candidate in seen:
        n += 1
        candidate = f"{doc_id}-{n}"
    seen.add(candidate)
    return candidate
