"""Atomic writes, the one way coursemate writes a file: a reader sees the old content or the new, never a part.

Every helper writes into a temporary file (or folder) beside the target, flushes it to disk and moves it over the
target with ``os.replace``, which is atomic on one file system. An error on the way leaves the target untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from coursemate.errors import CoursemateError


def check_writable(folder: Path | str, what: str) -> None:
    """CoursemateError unless a file can be created in ``folder`` (made when missing): called before long work
    (embedding the notes, serving the UI) that would otherwise fail only at its end, on the write."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise CoursemateError(f"cannot write {what} in {folder} ({exc.strerror or exc}); make it writable or choose "
                              "another folder (--home or COURSEMATE_HOME)") from None


def atomic_write_with(path: Path | str, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` to fill a temporary file beside ``path``, then move it over ``path``.

    For writers that want a path of their own (``torch.save``, ``np.save``, ``faiss.write_index``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write_with(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path | str, value: Any, indent: int | None = 2) -> None:
    """Write ``value`` as JSON (UTF-8, non-ASCII kept) to ``path`` atomically."""
    atomic_write_text(path, json.dumps(value, indent=indent, ensure_ascii=False, default=str) + "\n")


def atomic_write_jsonl(path: Path | str, rows: Iterable[Any]) -> None:
    """Write ``rows`` as JSON lines to ``path`` atomically."""
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))


def read_jsonl(path: Path | str) -> list[Any]:
    """The JSON values of the non-empty lines of ``path``; a line that is not JSON is one ``CoursemateError``."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise CoursemateError(f"{path} line {n} is not valid JSON") from None
    return rows


@contextlib.contextmanager
def atomic_folder(target: Path | str) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` as a whole.

    On an error the temporary folder is removed and ``target`` (the previous version, if any) stays as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            old.rmdir()
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
