"""The check's answer for a terminal: findings grouped by region (with its name) and
kind, each kind in its colour, and the year's counts. ``nianbao check`` and the
demo print it; ``click.echo`` drops the colour when the output is not a terminal."""

from __future__ import annotations

from collections.abc import Iterable

import click
import sqlite_utils

from .compliance import KINDS, ComplianceFinding
from .names import CONFIDENCE_NAMES, KIND_NAMES
from .regions import RegionNames
from .render import fit

KIND_COLOURS = {
    "missing": "red",
    "unreachable": "magenta",
    "unstored": "magenta",
    "unmatched": "magenta",
    "withdrawn": "red",
    "moved": "blue",
    "late": "yellow",
    "replaced": "yellow",
    "unparseable": "cyan",
    "inconsistent": "red",
    "cross_year": "blue",
}
EVIDENCE_SHOWN = ("unreachable", "withdrawn", "moved")  # kinds whose evidence the answer prints


def counts_line(year: int, findings: Iterable[ComplianceFinding]) -> str:
    findings = list(findings)
    if not findings:
        return f"{year} 年度：没有发现问题"
    counts = {k: sum(f.kind == k for f in findings) for k in KINDS}
    return f"{year} 年度：" + "，".join(click.style(f"{KIND_NAMES[k]} {n}", fg=KIND_COLOURS[k]) for k, n in counts.items() if n)


def answer_lines(db: sqlite_utils.Database, findings: Iterable[ComplianceFinding], kinds: Iterable[str] = KINDS) -> list[str]:
    """One block per region (code and full name), one group per kind, one line per agency."""
    wanted = set(kinds)
    chosen = sorted(
        (f for f in findings if f.kind in wanted), key=lambda f: (f.region or "", KINDS.index(f.kind), f.agency_name or "")
    )
    names = RegionNames(db, [f.region for f in chosen])
    lines: list[str] = []
    region = kind = None
    for f in chosen:
        if f.region != region or not lines:
            region, kind = f.region, None
            lines.append("")
            lines.append(click.style(names.label(f.region), bold=True))
        if f.kind != kind:
            kind = f.kind
            count = sum(1 for g in chosen if g.region == region and g.kind == kind)
            lines.append(click.style(f"  {KIND_NAMES[kind]}（{count}）", fg=KIND_COLOURS[kind], bold=True))
        flag = "" if f.confidence == "high" else f"（可信度：{CONFIDENCE_NAMES.get(f.confidence, f.confidence)}）"
        shown = f.kind in EVIDENCE_SHOWN and f.evidence and f.evidence not in f.detail
        evidence = f"  证据：{f.evidence}" if shown else ""
        lines.append("    " + fit(f.agency_name or f.agency_key, 30) + f.detail + flag + evidence)
    return lines
