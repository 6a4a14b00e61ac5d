"""Plain text and markdown: the forms text extractors leave behind.

Seen in real reports: tab-separated rows (some rows lost their leading tabs),
one cell per line ending in ``|`` with ``||``/``|||`` filler lines and lone
``|`` for an empty cell, markdown pipe tables, and one cell per paragraph.
"""

from __future__ import annotations

import re

from .document import Document, Line

_MD_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_FILLER = re.compile(r"^\|{2,}$")
_MD_HEADING = re.compile(r"^#{1,6}\s+")


def text_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = raw.strip()
        if not stripped:
            continue
        if "\t" in raw:
            lines.append(Line([c.strip() for c in raw.split("\t")], hard=True))
        elif _MD_SEPARATOR.match(stripped):
            continue
        elif _FILLER.match(stripped):
            lines.append(Line([], filler=True))
        elif stripped == "|":
            lines.append(Line([""]))
        elif stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") >= 3:
            lines.append(Line([c.strip() for c in stripped[1:-1].split("|")], hard=True))
        elif stripped.endswith("|"):
            lines.append(Line([stripped[:-1].strip()]))
        else:
            lines.append(Line([_MD_HEADING.sub("", stripped)]))
    return lines


def extract_text(text: str, fmt: str = "text") -> Document:
    return Document(lines=text_lines(text), format=fmt)
