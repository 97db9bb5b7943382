"""Index folders on disk: written whole into a temporary folder (``coursemate.io.atomic_folder``), then renamed.

A manifest records the fingerprint the index was built for and a checksum of every file, so a stale
index is rebuilt and a damaged one (truncated, edited, half-copied) is detected before it is used.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class DamagedIndex(Exception):
    """The index folder exists but cannot be trusted; the message says why."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_files(paths: Iterable[Path]) -> str:
    """A hash of every file below ``paths`` (relative names and bytes), in a stable order."""
    digest = hashlib.sha256()
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for file in files:
            if any(part.startswith(".") for part in file.relative_to(root).parts if root.is_dir()):
                continue
            digest.update(str(file.relative_to(root) if root.is_dir() else file.name).encode())
            digest.update(sha256_file(file).encode())
    return digest.hexdigest()


def fingerprint_json(value: Any) -> str:
    """A hash of a JSON-serializable value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Checksum every file in ``folder`` and write the manifest last."""
    files = {
        str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": sha256_file(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    payload = {"format": FORMAT_VERSION, **manifest, "files": files}
    (folder / MANIFEST).write_text(json.dumps(payload, indent=2, sort_keys=True))


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of an index folder, or None when there is no index there."""
    path = folder / MANIFEST
    if not folder.exists():
        return None
    if not path.exists():
        raise DamagedIndex(f"{folder} has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DamagedIndex(f"{path} is unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise DamagedIndex(f"{path} is not a format-{FORMAT_VERSION} coursemate manifest")
    return manifest


def verify_files(folder: Path, manifest: dict[str, Any]) -> None:
    """Raise DamagedIndex when a file is missing or differs from its recorded size or checksum."""
    for name, meta in manifest.get("files", {}).items():
        path = folder / name
        if not path.exists():
            raise DamagedIndex(f"{path} is missing")
        if path.stat().st_size != meta["size"] or sha256_file(path) != meta["sha256"]:
            raise DamagedIndex(f"{path} is damaged (size or checksum differs from the manifest)")
