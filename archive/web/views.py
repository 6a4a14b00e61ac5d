"""What the custom pages show, read from the archive (plain functions over a
``sqlite_utils.Database``; :mod:`archive.web.pages` runs them on Datasette's
read connections and renders them).

The front page's counts and lists are the saved queries' answers (the same SQL,
from :mod:`archive.web.queries`), so a number on the front page and the list it
links to always agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase

import sqlite_utils
from markupsafe import Markup, escape

from .. import report_urls
from ..coverage import describe
from ..names import (
    CONFIDENCE_NAMES,
    KIND_NAMES,
    LEVEL_NAMES,
    PARSE_STATUS_NAMES,
    PUBLISHED_SOURCE_NAMES,
    RULE_NAMES,
    SEVERITY_NAMES,
    SOURCE_ROLE_NAMES,
)
from ..normalize import fmt_number
from ..printed import Grid, cell_label, layout
from ..regions import RegionNames
from ..search import search
from ..store import report_cells
from ..template import TABLES
from .queries import QUERIES, findings_sql

# The front page's six counts: label, the saved query listing them, extra parameters.
COUNTS = (
    ("应报", "expected", {}),
    ("已报", "expected", {"status": "已报"}),
    ("缺报", "missing", {}),
    ("迟报", "late", {}),
    ("无法访问", "unreachable", {}),
    ("勾稽不符", "inconsistent", {}),
)
RECENT = 20


def checked_years(db: sqlite_utils.Database) -> list[int]:
    return [y for (y,) in db.execute("select distinct year from roll order by year desc")]


def default_year(db: sqlite_utils.Database) -> int:
    """The latest year checked (else the year whose reports fall due this year)."""
    row = db.execute("select max(year) from roll").fetchone()
    return row[0] if row and row[0] else date.today().year - 1


def front_data(db: sqlite_utils.Database, year: int, prefix: str) -> dict:
    params = {"year": year, "region": prefix}
    subs = list(db.query(QUERIES["completion"].sql, params))
    totals = {k: sum(s[k] for s in subs) for k in ("应报", "已报", "缺报", "迟报", "无法访问", "勾稽不符")}
    recent = list(db.query(findings_sql(RECENT), {**params, "kind": ""}))
    gone = dict(db.execute(f"select 类型, count(*) from ({QUERIES['withdrawn'].sql}) group by 类型", params).fetchall())
    names = RegionNames(db, [prefix.ljust(6, "0")] if prefix else [])
    return {
        "year": year,
        "prefix": prefix,
        "place": names.name(prefix.ljust(6, "0")) if prefix else "全国",
        "counts": [(label, totals[label], query, extra) for label, query, extra in COUNTS],
        "rate": round(100 * totals["已报"] / totals["应报"], 1) if totals["应报"] else None,
        "subs": sorted(subs, key=lambda s: s["行政区划"]),
        "recent": recent,
        "gone": [(name, gone[name]) for name in (KIND_NAMES["withdrawn"], KIND_NAMES["moved"]) if gone.get(name)],
        "years": checked_years(db),
    }


@dataclass
class PrintedCell:
    text: str
    colspan: int
    rowspan: int
    role: str
    flag: str | None = None  # error / warning
    notes: list[dict] = field(default_factory=list)  # the findings that name the cell


def _mark(n: int) -> str:
    """①…⑳, then (21)…: the note marks of flagged cells."""
    return chr(0x2460 + n - 1) if n <= 20 else f"({n})"


def _findings(db: sqlite_utils.Database, report_id: int) -> list[dict]:
    rows = list(db.query("select rule, severity, cell, message from findings where report_id = ? order by id", [report_id]))
    order = {"error": 0, "warning": 1, "info": 2}
    rows.sort(key=lambda f: order.get(f["severity"], 3))
    for i, f in enumerate(rows, start=1):
        f.update(
            number=i,
            mark=_mark(i),
            rule_name=RULE_NAMES.get(f["rule"], f["rule"]),
            severity_name=SEVERITY_NAMES.get(f["severity"], ""),
        )
    return rows


def _grid(grid: Grid, cells: dict, findings: list[dict]) -> dict:
    rows = []
    for line in grid.rows:
        out = []
        for c in line:
            if c.key is None:
                out.append(PrintedCell(c.text, c.colspan, c.rowspan, c.role))
                continue
            value = cells.get(c.key, "absent")
            text = "" if value == "absent" else ("—" if value is None else fmt_number(value))
            hits = [
                f
                for f in findings
                if value != "absent" and f["severity"] != "info" and f["cell"] and fnmatchcase(c.key, f["cell"])
            ]
            flag = "error" if any(f["severity"] == "error" for f in hits) else ("warning" if hits else None)
            out.append(PrintedCell(text, 1, 1, "data", flag, hits))
        rows.append(out)
    return {"caption": grid.caption, "rows": rows}


def _versions(db: sqlite_utils.Database, report: dict) -> list[dict]:
    versions = list(
        db.query(
            "select id, version, is_current, published, first_seen, last_seen, changed_cells, url from reports "
            "where agency_key = ? and year = ? order by version desc",
            [report["agency_key"], report["year"]],
        )
    )
    for v in versions:
        v["changes"] = [
            {"label": cell_label(c["cell"]), "old": _number(c["old"]), "new": _number(c["new"])}
            for c in json.loads(v["changed_cells"] or "[]")
        ]
    return versions


def _number(value) -> str:
    return "（无）" if value is None else fmt_number(value)


def report_data(db: sqlite_utils.Database, report_id: int) -> dict | None:
    report = next(db.query("select * from reports where id = ?", [report_id]), None)
    if report is None:
        return None
    cells = report_cells(db, report_id)
    findings = _findings(db, report_id)
    template = report["template"]
    tables = []
    if template and cells:
        for table in TABLES:
            if any(k.startswith(table.key + ".") for k in cells):
                tables.append({"title": table.title, "grids": [_grid(g, cells, findings) for g in layout(table, template)]})
    compliance = list(
        db.query(
            "select kind, detail, confidence, first_seen from compliance where agency_key = ? and year = ? "
            "and resolved_at is null order by kind",
            [report["agency_key"], report["year"]],
        )
    )
    for c in compliance:
        c.update(kind_name=KIND_NAMES.get(c["kind"], c["kind"]), confidence_name=CONFIDENCE_NAMES.get(c["confidence"], ""))
    sources = list(
        db.query(
            "select role, kind, url, sha256, used from report_sources where report_id = ? order by used desc, role", [report_id]
        )
    )
    for s in sources:
        s["role_name"] = SOURCE_ROLE_NAMES.get(s["role"], s["role"])
    versions = _versions(db, report)
    names = RegionNames(db, [report["region"]])
    numbers = {v["id"]: v["version"] for v in versions}
    addresses = report_urls.urls(db, report["agency_key"], report["year"])
    for u in addresses:
        u.update(fate=report_urls.fate(u), version=numbers.get(u["report_id"]))
    return {
        "report": report,
        "place": names.label(report["region"]) if report["region"] else "（未登记机关，无行政区划）",
        "level": LEVEL_NAMES.get(report["level"] or "", ""),
        "published_source": PUBLISHED_SOURCE_NAMES.get(report["published_source"] or "", "页面未标明"),
        "status": PARSE_STATUS_NAMES.get(report["parse_status"], report["parse_status"]),
        "versions": versions,
        "addresses": addresses,
        "sources": sources,
        "compliance": compliance,
        "findings": findings,
        "tables": tables,
        "shape": {"2019": "2019 年格式（试行）", "2021": "2021 年格式"}.get(template or "", "无标准表格"),
        "coverage": None
        if report["read_fully"] is None
        else describe(report["cells_expected"], report["cells_read"], report["cells_undecided"], report["rows_unattributed"]),
    }


def search_view(db: sqlite_utils.Database, query: str, year: int | None, prefix: str) -> list[dict]:
    hits = search(db, query, year, prefix)
    names = RegionNames(db, [h["region"] for h in hits])
    for h in hits:
        h["place"] = names.name(h["region"])
        h["snippet_html"] = escape(h["snippet"]).replace(escape(query), Markup("<mark>%s</mark>") % query)
    return hits
