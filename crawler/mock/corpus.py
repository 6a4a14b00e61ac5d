"""Report texts the mock portals publish: the seeds and real reports shipped in
``data/``, re-titled for each mock agency and year."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from archive.metadata import match_title

DATA = Path(__file__).parent / "data"
_HEADER = re.compile(r"发布日期|来源[:：]|字体|分享|打印")


@dataclass(frozen=True)
class BaseText:
    name: str
    agency: str | None
    year: int
    body: str  # the report without its title lines


@cache
def base_texts() -> dict[str, BaseText]:
    info = json.loads((DATA / "bases.json").read_text(encoding="utf-8"))
    out = {}
    for name, meta in info.items():
        lines = (DATA / name).read_text(encoding="utf-8").split("\n")
        head = 0
        for i, line in enumerate(lines[:8]):
            if match_title(line) or _HEADER.search(line):
                head = i + 1
        out[name] = BaseText(name, meta["agency"], meta["year"], "\n".join(lines[head:]).strip("\n"))
    return out


def report_text(base: BaseText, agency: str, year: int, title: str) -> str:
    """``base`` re-told as ``agency``'s report for ``year``: title first, years and name replaced."""
    body = base.body
    if base.agency:
        body = body.replace(base.agency, agency)
    shift = year - base.year
    if shift:
        body = re.sub(r"(?<!\d)(20\d{2})(?=\s*年)", lambda m: str(int(m.group(1)) + shift), body)
    return f"{title}\n\n{body}\n"


def doc_bytes() -> bytes:
    """A real Word 97 file (seed 004 saved by LibreOffice), for the DOC attachment."""
    return (DATA / "seed004.doc").read_bytes()
