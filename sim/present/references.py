"""The project's bibliography, ``docs/sources.md``, as the report's reference list.

The bibliography is read from the repository that holds the ``sim`` package (an editable
install, ``pip install -e .``); an installed copy of the package has no ``docs/`` beside it,
and :func:`bibliography` returns None there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
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
    "cited_locators",
    "display_path",
    "locator_text",
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


_NUMBER = r"\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?"
_LOCATOR = re.compile(
    rf"paras?\s+(?P<paras>{_NUMBER}(?:(?:\s*,\s*|\s+and\s+){_NUMBER})*)(?P<table>\s+(?:and\s+(?:its\s+)?)?table\b)?"
    rf"|the\s+table\s+in\s+para\s+(?P<table_in>{_NUMBER})"
    r"|(?P<section>s\.\d+(?:\s+[A-Z][A-Za-z]*)*)"
    r"|(?P<other>Appendix\s+[A-Z]\b|Summary\b|[A-Z]\d+\b)"
)
"""A locator as ``docs/sources.md`` ("How to cite") writes it, right after a key: ``para 4.3``,
``paras 3.2, 4.2``, ``para 6.3 table``, ``s.2 MST``, ``Appendix A``, ``Summary``, or a
dataset (``C2``)."""
_NEXT = re.compile(r"(?:\s*,\s*|\s+and\s+)")
"""What joins two locators of one citation (``Summary and para 6.2``)."""


def _locators_after(text: str) -> list[str]:
    """The locators at the start of ``text`` (what follows a key), in the order written:
    ``para 9``, ``para 6.3 table``, ``s.2 MST``, ``Appendix A``, ``Summary``, ``C2``."""
    found: list[str] = []
    at = 0
    while m := _LOCATOR.match(text, at + (1 if text[at : at + 1] == " " else 0)):
        if m.group("paras"):
            numbers = re.findall(_NUMBER, m.group("paras"))
            found += [f"para {n}" for n in numbers]
            if m.group("table"):
                found.append(f"para {numbers[-1]} table")
        elif m.group("table_in"):
            found.append(f"para {m.group('table_in')} table")
        else:
            found.append(re.sub(r"\s+", " ", m.group("section") or m.group("other")).removesuffix("'s"))
        joined = _NEXT.match(text, m.end())
        if joined is None:
            break
        at = joined.end() - 1
    return found


def _order(locator: str) -> tuple[int, tuple[int, ...], str]:
    """Summary, paragraphs (tables after their paragraph), sections, appendices, datasets."""
    numbers = tuple(int(n) for n in re.findall(r"\d+", locator.split("-")[0]))
    if locator == "Summary":
        return (0, (), locator)
    if locator.startswith("para "):
        return (1, (*numbers, locator.endswith("table")), locator)
    if locator.startswith("s."):
        return (2, numbers, locator)
    return (3 if locator.startswith("Appendix") else 4, numbers, locator)


def cited_locators(texts: Iterable[str]) -> dict[str, list[str]]:
    """Key -> the locators ``texts`` (the source comments a page shows) cite it with, each
    once, in document order (:func:`_order`)."""
    found: dict[str, set[str]] = {}
    for text in texts:
        for m in KEY_TOKEN.finditer(text):
            found.setdefault(m.group(0), set()).update(_locators_after(text[m.end() :]))
    return {key: sorted(locs, key=_order) for key, locs in found.items() if locs}


def locator_text(locators: Sequence[str], documented: str = "") -> str:
    """Locators as a reader follows them (``Summary; paras 1.1, 6.3; the table in para 6.3``).
    A section's name is cut back to what ``documented`` (the entry's Locators field) cites in
    backticks, where it names the section (``s.5 Next`` -> ``s.5``)."""
    paras: list[str] = []
    tables: list[str] = []
    rest: list[str] = []
    for loc in locators:
        if loc.startswith("para "):
            (tables if loc.endswith(" table") else paras).append(loc.removeprefix("para ").removesuffix(" table"))
            continue
        while loc.startswith("s.") and " " in loc and f"`{loc}`" not in documented and "`s." in documented:
            loc = loc.rsplit(" ", 1)[0]
        rest.append(loc)
    parts = [loc for loc in rest if loc == "Summary"]
    if paras:
        parts.append(("paras " if len(paras) > 1 else "para ") + ", ".join(paras))
    if tables:
        parts.append(("the tables in paras " if len(tables) > 1 else "the table in para ") + ", ".join(tables))
    parts += [loc for loc in dict.fromkeys(rest) if loc != "Summary"]
    return "; ".join(parts)


def display_path(path: Path, root: Path | None = None) -> str:
    """``path`` as a reader finds it: relative to the repository when it lies inside it
    (``configs/kirklees/baseline.yaml``), else relative to ``root`` when given and it holds
    the file, else in full."""
    resolved = path.resolve()
    for folder in (REPOSITORY, root):
        if folder is not None and resolved.is_relative_to(folder.resolve()):
            return resolved.relative_to(folder.resolve()).as_posix()
    return resolved.as_posix()
