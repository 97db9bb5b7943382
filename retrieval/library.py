"""The notes of a home: add files, remove documents, list what is indexed (the CLI's ``notes`` and the Notes tab).

Added files are copied into ``HOME/notes`` (:func:`added_notes_dir`), which joins the recorded corpus; the index is
then updated in place (:meth:`NotesIndex.load_or_build`: only the new text is embedded). A file that cannot be read
is refused before anything changes, and a failed update leaves the previous index and notes as they were.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from coursemate.config import Settings, is_shipped_corpus, record_corpus_paths
from coursemate.errors import CoursemateError
from coursemate.retrieval.index import NotesIndex
from coursemate.retrieval.ingest import READERS, SkipFile, read_file
from coursemate.retrieval.vectors import ProgressCallback

ADDED_NOTES = "notes"  # under the home


@dataclass(frozen=True)
class NoteEntry:
    """One indexed document as the notes list shows it."""

    doc_id: str
    title: str
    chunks: int
    added: str
    file: str
    removable: bool

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "title": self.title, "chunks": self.chunks, "added": self.added,
                "file": self.file, "removable": self.removable}


def added_notes_dir(settings: Settings) -> Path:
    """The folder that added files are copied into (part of the corpus once a file is added)."""
    return settings.home / ADDED_NOTES


def corpus_label(paths: Sequence[Path]) -> str:
    """Which notes ``paths`` are, for a status line: "the shipped course notes" or the paths themselves."""
    if is_shipped_corpus(list(paths)):
        return "the shipped course notes"
    home = Path.home()
    return ", ".join(f"~/{p.relative_to(home)}" if p.is_relative_to(home) else str(p) for p in paths)


def list_notes(index: NotesIndex) -> list[NoteEntry]:
    """Every document of ``index`` with its chunk count and when it was added, in corpus order."""
    counts: dict[str, int] = {}
    for chunk in index.chunks:
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    added = index.manifest.get("added", {})
    folder = added_notes_dir(index.settings).resolve()
    return [NoteEntry(d.doc_id, d.title, counts.get(d.doc_id, 0), added.get(d.doc_id, ""),
                      d.metadata.get("file", d.source), _inside(d.metadata.get("file", ""), folder))
            for d in index.documents.values()]


def add_notes(settings: Settings, files: Sequence[Path], names: Sequence[str] | None = None,
              on_progress: ProgressCallback | None = None) -> NotesIndex:
    """Copy ``files`` (named ``names``, default their own names) into the added notes and update the index.

    Each file is read first: one that cannot be read is a CoursemateError naming it and why, and nothing changes.
    A file with the name of an added one replaces it (its document is embedded again).
    """
    names = [Path(n).name for n in (names or [Path(f).name for f in files])]
    for file, name in zip(files, names):
        check_readable(Path(file), name)
    folder = added_notes_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    backups = {}
    for file, name in zip(files, names):
        target = folder / name
        if target.exists():
            if _same_path(file, target):
                continue
            backups[target] = target.read_bytes()
        shutil.copyfile(file, target)
    paths = list(settings.corpus_paths)
    if not any(_same_path(p, folder) for p in paths):
        paths.append(folder)
    try:
        index = NotesIndex.load_or_build(settings.replace(corpus_paths=paths), progress=False,
                                         on_progress=on_progress)
    except BaseException:  # the index stays as it was: so do the added notes
        for name in names:
            target = folder / name
            if target in backups:
                target.write_bytes(backups[target])
            else:
                target.unlink(missing_ok=True)
        raise
    record_corpus_paths(settings.home, paths)
    return index


def check_readable(file: Path, name: str) -> None:
    """Raise a CoursemateError naming ``name`` and why, when ``file`` (uploaded as ``name``) cannot be added."""
    if Path(name).suffix.lower() not in READERS:
        raise CoursemateError(f"cannot add {name}: unsupported file type {Path(name).suffix or '(none)'!r}; "
                              f"supported: {', '.join(sorted(READERS))}")
    if name.startswith("."):
        raise CoursemateError(f"cannot add {name}: hidden files (a name starting with '.') are not indexed")
    try:
        read_file(file, Path(name))
    except SkipFile as why:
        raise CoursemateError(f"cannot add {name}: {why}") from None
    except FileNotFoundError:
        raise CoursemateError(f"cannot add {name}: file not found") from None


def remove_notes(settings: Settings, index: NotesIndex, doc_ids: Sequence[str],
                 on_progress: ProgressCallback | None = None) -> NotesIndex:
    """Delete the added files holding ``doc_ids`` and update the index. Only added notes can be removed: the
    error for another document names its file (remove it there, or index other notes)."""
    folder = added_notes_dir(settings).resolve()
    files = []
    for doc_id in doc_ids:
        file = index.document(doc_id).metadata.get("file", "")
        if not _inside(file, folder):
            raise CoursemateError(f"{doc_id} is not an added note: it comes from {file or 'the corpus'}; delete or "
                                  "move that file, or choose other notes with: coursemate index PATHS")
        files.append(Path(file))
    moved = []
    trash = folder / ".removed"
    trash.mkdir(exist_ok=True)
    for file in dict.fromkeys(files):
        if file.exists():
            moved.append((file, trash / file.name))
            file.replace(trash / file.name)
    try:
        updated = NotesIndex.load_or_build(settings, progress=False, on_progress=on_progress)
    except BaseException:  # the index stays as it was: so do the added notes
        for original, kept in moved:
            kept.replace(original)
        raise
    shutil.rmtree(trash, ignore_errors=True)
    return updated


def _inside(file: str, folder: Path) -> bool:
    return bool(file) and Path(file).resolve().is_relative_to(folder)


def _same_path(a: Path, b: Path) -> bool:
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
