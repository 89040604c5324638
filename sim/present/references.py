"""The project's bibliography, ``docs/sources.md``, as the report's reference list.

The bibliography is read from the repository that holds the ``sim`` package (an editable
install, ``pip install -e .``); an installed copy of the package has no ``docs/`` beside it,
and :func:`bibliography` returns None there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sim

__all__ = [
    "BIBLIOGRAPHY",
    "KEY",
    "KEY_TOKEN",
    "REPOSITORY",
    "Reference",
    "bibliography",
    "cited_keys",
    "display_path",
    "parse_bibliography",
]

REPOSITORY = Path(sim.__file__).resolve().parents[1]
"""The folder that holds the ``sim`` package: the repository in an editable install."""
BIBLIOGRAPHY = REPOSITORY / "docs" / "sources.md"

KEY = r"[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*-(?:19|20)\d{2}"
"""A citation key of ``docs/sources.md`` (its section "Format of an entry")."""
KEY_TOKEN = re.compile(rf"(?<![\w-]){KEY}(?![\w-])")
"""A key as a citation: not preceded or followed by a letter, a digit, ``_`` or ``-``."""

_HEADING = re.compile(r"^###\s+(.+?)\s*$")
_FIELD = re.compile(r"^\*\s+\*\*(?P<name>[^*:]+):\*\*\s*(?P<text>.*)$")
_DESCRIBE = ("Title", "Body", "Date", "Source", "Tables used", "Locators")
"""The fields of an entry that say what the document is and where to find it (not the
figures taken from it or where the project uses them)."""


@dataclass(frozen=True)
class Reference:
    """One bibliography entry: its key and the fields that describe the document, in order
    (``("Source", "Department for Education, *Children in need*, ...")``)."""

    key: str
    fields: tuple[tuple[str, str], ...]

    @property
    def title(self) -> str:
        """The entry's title (or, for an entry without one, its source line)."""
        named = dict(self.fields)
        return named.get("Title") or named.get("Source") or ""


def parse_bibliography(markdown: str) -> dict[str, Reference]:
    """Key -> :class:`Reference` for each level-3 heading of ``markdown``; a field is a
    ``* **Name:** text`` bullet, continued on the indented lines below it."""
    entries: dict[str, list[tuple[str, str]]] = {}
    fields: list[tuple[str, str]] | None = None
    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        if heading or line.startswith("## "):
            fields = entries.setdefault(heading.group(1), []) if heading else None
            continue
        if fields is None:
            continue
        bullet = _FIELD.match(line)
        if bullet:
            fields.append((bullet.group("name").strip(), bullet.group("text").strip()))
        elif fields and line.startswith("  ") and line.strip():
            name, text = fields[-1]
            fields[-1] = (name, f"{text} {line.strip()}")
    return {key: Reference(key, tuple((n, t) for n, t in found if n in _DESCRIBE)) for key, found in entries.items()}


def bibliography(path: Path | None = None) -> dict[str, Reference] | None:
    """The entries of ``path`` (default :data:`BIBLIOGRAPHY`), or None when it cannot be read
    (the package is installed without its repository)."""
    try:
        return parse_bibliography((path or BIBLIOGRAPHY).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def cited_keys(text: str) -> list[str]:
    """The citation keys in ``text``, each once, in the order of first citation."""
    return list(dict.fromkeys(m.group(0) for m in KEY_TOKEN.finditer(text)))


def display_path(path: Path, root: Path | None = None) -> str:
    """``path`` as a reader finds it: relative to the repository when it lies inside it
    (``configs/kirklees/baseline.yaml``), else relative to ``root`` when given and it holds
    the file, else in full."""
    resolved = path.resolve()
    for folder in (REPOSITORY, root):
        if folder is not None and resolved.is_relative_to(folder.resolve()):
            return resolved.relative_to(folder.resolve()).as_posix()
    return resolved.as_posix()
