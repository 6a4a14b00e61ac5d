"""``nianbao export``: every expected agency of a year, one row each, the way 政务公开
offices compile and hand in their returns (XLSX: a status sheet and a sheet per
table; or one CSV).

The rows are the check's roll (``roll``: the agencies ``nianbao check`` expected
to publish) and the status columns are its stored findings (``compliance``), so
the file says exactly what the check, Datasette and the alerts say. The cells
are every cell of both national templates in printed order (2019-only and
2021-only columns marked); blank cells stay blank: a missing number is never
written as 0.
"""

from __future__ import annotations

import csv
from pathlib import Path

import sqlite_utils

from .errors import NianbaoError
from .names import KIND_NAMES, LEVEL_NAMES
from .regions import RegionNames
from .render import width
from .template import TABLES, TEMPLATES, Table

HEAD = ("机关代码", "机关", "层级", "行政区划", "地区", "状态", "状态说明")
# findings shown in their own column: what a report that was found can still have wrong
DETAIL_KINDS = ("withdrawn", "moved", "late", "replaced", "unparseable", "inconsistent", "cross_year")
TAIL = ("发布日期", "格式", "原文")


class ExportError(NianbaoError):
    pass


def columns(table: Table) -> list[tuple[str, str]]:
    """(cell key, printed header) for every cell of both templates, in printed order;
    a cell only one template prints is marked with it."""
    out = []
    for row in table.rows:
        per_template = {t: row.column_keys(t, table) for t in TEMPLATES if t in row.templates}
        printed = {c for keys in per_template.values() for c in keys}
        for col in (c for c in table.columns if c.key in printed):
            only = [t for t, keys in per_template.items() if col.key in keys]
            mark = f"（{only[0]} 格式）" if len(only) < len(TEMPLATES) else ""
            out.append((f"{table.key}.{row.key}.{col.key}", f"{row.label}·{col.label}{mark}"))
    return out


def _roll(db: sqlite_utils.Database, year: int, region: str) -> list[dict]:
    rows = list(
        db.query(
            """select r.agency_key, r.agency_name, r.level, r.region, r.report_id, p.published, p.template, p.url
               from roll r left join reports p on p.id = r.report_id
               where r.year = ? and r.region >= ? and r.region < ? || ';'
               order by r.region, r.level, r.agency_name""",
            [year, region, region],
        )
    )
    if not rows:
        where = f" --region {region}" if region else ""
        raise ExportError(f"没有 {year} 年度的核查结果：请先运行 nianbao check --year {year}{where}")
    findings: dict[str, dict[str, str]] = {}
    for f in db.query(
        "select agency_key, kind, detail from compliance where year = ? and resolved_at is null "
        "and coalesce(region, '') >= ? and coalesce(region, '') < ? || ';'",
        [year, region, region],
    ):
        findings.setdefault(f["agency_key"], {})[f["kind"]] = f["detail"]
    names = RegionNames(db, [r["region"] for r in rows])
    for r in rows:
        found = findings.get(r["agency_key"], {})
        status = next((k for k in ("missing", "unreachable") if k in found), None)
        r["status"] = KIND_NAMES[status] if status else ("已报" if r["report_id"] else "期限未到")
        r["status_detail"] = found.get(status, "") if status else ""
        r["details"] = [found.get(k, "") for k in DETAIL_KINDS]
        r["place"] = names.name(r["region"])
    return rows


def _cells(db: sqlite_utils.Database, report_ids: list[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for start in range(0, len(report_ids), 500):
        chunk = report_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for rid, t, r, c, v in db.execute(
            f'select report_id, table_name, row, "column", value from cells where report_id in ({marks})', chunk
        ):
            out.setdefault(rid, {})[f"{t}.{r}.{c}"] = v
    return out


def _head(row: dict) -> list:
    key = row["agency_key"]
    return [
        "" if key.startswith("name:") else key,
        row["agency_name"],
        LEVEL_NAMES.get(row["level"] or "", row["level"] or ""),
        row["region"],
        row["place"],
        row["status"],
        row["status_detail"],
        *row["details"],
        row["published"] or "",
        row["template"] or "",
        row["url"] or "",
    ]


HEADERS = [*HEAD, *(KIND_NAMES[k] for k in DETAIL_KINDS), *TAIL]


def export(db: sqlite_utils.Database, year: int, out: str | Path, fmt: str, region: str = "") -> int:
    """Write the export; returns the number of agency rows."""
    rows = _roll(db, year, region)
    cells = _cells(db, [r["report_id"] for r in rows if r["report_id"]])
    sheets = [(t, columns(t)) for t in TABLES]

    def values(row: dict, cols) -> list:
        got = cells.get(row["report_id"], {})
        return ["" if got.get(key) is None else got[key] for key, _ in cols]

    if fmt == "csv":
        with open(out, "w", newline="", encoding="utf-8-sig") as f:  # BOM: Excel opens Chinese CSV right
            w = csv.writer(f)
            w.writerow([*HEADERS, *(f"{t.title[:2]}{label}" for t, cols in sheets for _, label in cols)])
            for row in rows:
                w.writerow([*_head(row), *(v for _, cols in sheets for v in values(row, cols))])
        return len(rows)
    import xlsxwriter

    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#EEF0F4", "border": 1})
    _sheet(book, "核查结果", HEADERS, (_head(r) for r in rows), bold)
    for table, cols in sheets:
        name = table.title.split("、", 1)[1].replace("政府信息公开", "")[:31]
        _sheet(book, name, [*HEADERS[:6], *(label for _, label in cols)], ([*_head(r)[:6], *values(r, cols)] for r in rows), bold)
    book.close()
    return len(rows)


def _sheet(book, name: str, header: list[str], rows, bold) -> None:
    """One sheet: the header frozen above, agency code and name frozen at the left,
    an autofilter over every column, widths to fit the header (labels wrap)."""
    sheet = book.add_worksheet(name)
    for i, text in enumerate(header):
        sheet.set_column(i, i, 30 if text in ("机关", "地区", "原文") else min(max(8, width(text) / 2 + 2), 40))
    sheet.set_row(0, 48)
    sheet.freeze_panes(1, 2)
    sheet.write_row(0, 0, header, bold)
    n = 0
    for n, row in enumerate(rows, start=1):
        sheet.write_row(n, 0, row)
    sheet.autofilter(0, 0, max(n, 1), len(header) - 1)
