"""The prompts, as data: ``coursemate/prompts.yaml``, or a user's copy named by the ``prompts_path`` setting.

A user's file is read over the shipped one (prompts it leaves out keep their shipped text) and checked once when
loaded: an unknown prompt name, or a prompt whose ``{placeholders}`` differ from the shipped ones, is one
:class:`~coursemate.errors.CoursemateError` naming the file and the prompt.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from pathlib import Path

import yaml

from coursemate.errors import CoursemateError

PROMPTS_FILE = Path(__file__).resolve().with_name("prompts.yaml")
MAX_PROMPTS_BYTES = 1 << 20  # a prompts file is a few kilobytes; anything this large is the wrong file


class Prompts:
    """The prompt texts by name; :meth:`format` fills one in."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = dict(texts)

    def format(self, name: str, **values: object) -> str:
        """The prompt ``name`` with its placeholders filled from ``values``."""
        return self.texts[name].format(**values)


def load_prompts(path: Path | str | None = None) -> Prompts:
    """The shipped prompts, overridden by those in ``path`` when given (read once per path)."""
    return _load(str(Path(path).expanduser().resolve()) if path else None)


@functools.lru_cache(maxsize=8)
def _load(path: str | None) -> Prompts:
    texts = _read(PROMPTS_FILE)
    if path is None:
        return Prompts(texts)
    own = _read(Path(path))
    for name, text in own.items():
        if name not in texts:
            raise CoursemateError(f"{path}: unknown prompt {name!r} (known: {', '.join(texts)})")
        wanted = _placeholders(texts[name], f"{PROMPTS_FILE} prompt {name!r}")
        if _placeholders(text, f"{path} prompt {name!r}") != wanted:
            names = ", ".join("{" + p + "}" for p in sorted(wanted)) or "none"
            raise CoursemateError(f"{path}: prompt {name!r} must use exactly these placeholders: {names}")
    return Prompts(texts | own)


def _read(path: Path) -> dict[str, str]:
    try:
        if not path.exists():
            raise CoursemateError(f"the prompts file {path} does not exist")
        if not path.is_file():  # a folder, a device or a pipe (which would block or never end)
            raise CoursemateError(f"the prompts file {path} is not a regular file")
        if path.stat().st_size > MAX_PROMPTS_BYTES:
            raise CoursemateError(f"the prompts file {path} is larger than {MAX_PROMPTS_BYTES >> 20} MB; "
                                  "it is not a prompts file")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CoursemateError(f"cannot read the prompts file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CoursemateError(f"the prompts file {path} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise CoursemateError(f"the prompts file {path} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise CoursemateError(f"the prompts file {path} must map prompt names to texts")
    return data


def _placeholders(text: str, where: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as exc:  # a lone "{" or "}"
        raise CoursemateError(f"{where}: {exc} (write {{{{ and }}}} for a brace)") from None
