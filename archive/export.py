"""``nianbao export``: the three tables for every agency of a year, one row per
agency, the way 政务公开 offices compile them (CSV, or XLSX with a sheet per table).

Registered agencies with no report for the year are listed too (状态 缺报),
so the sheet is the complete roll; agencies found only by their titles
(not in the registry) follow. Blank cells stay blank: a missing number is
never written as 0.
"""

from __future__ import annotations

import csv
from pathlib import Path

import sqlite_utils

from .template import TABLES, Table

STATUS = {
    None: "缺报",
    "ok": "已报",
    "no_tables": "已报（无可读表格）",
    "no_text": "已报（扫描件，未能识别）",
    "failed": "已报（无法解析）",
    "no_source": "已报（未取得文件）",
}
HEAD = ("机关代码", "机关", "层级", "行政区划", "状态", "发布日期", "格式", "原文")


def template_for(year: int) -> str:
    return "2019" if year <= 2020 else "2021"


def columns(table: Table, template: str) -> list[tuple[str, str]]:
    """(cell key, printed header) for one table in one template, in printed order."""
    out = []
    for row in table.rows:
        if template not in row.templates:
            continue
        for col in row.column_keys(template, table):
            out.append((f"{table.key}.{row.key}.{col}", f"{row.label}·{table.column(col).label}"))
    return out


def _rows(db: sqlite_utils.Database, year: int, region: str) -> list[dict]:
    return list(
        db.query(
            """select a.id as agency_id, a.name, a.level, a.region, r.id as report_id, r.parse_status, r.published,
                  r.template, r.url
           from agencies a left join reports r on r.agency_key = a.id and r.year = :year and r.is_current = 1
           where (a.retired is null or a.retired > :year || '-12-31') and a.region like :region || '%'
           union all
           select null, r.agency_name, r.level, r.region, r.id, r.parse_status, r.published, r.template, r.url
           from reports r
           where r.agency_id is null and r.year = :year and r.is_current = 1 and :region = ''
           order by 4, 3, 2""",
            {"year": year, "region": region},
        )
    )


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


def export(db: sqlite_utils.Database, year: int, out: str | Path, fmt: str, region: str = "") -> int:
    """Write the export; returns the number of agency rows."""
    rows = _rows(db, year, region)
    cells = _cells(db, [r["report_id"] for r in rows if r["report_id"]])
    template = template_for(year)
    sheets = [(t, columns(t, template)) for t in TABLES]

    def head(row: dict) -> list:
        return [
            row["agency_id"] or "",
            row["name"],
            row["level"] or "",
            row["region"] or "",
            STATUS.get(row["parse_status"], row["parse_status"]) if row["report_id"] else STATUS[None],
            row["published"] or "",
            row["template"] or "",
            row["url"] or "",
        ]

    if fmt == "csv":
        with open(out, "w", newline="", encoding="utf-8-sig") as f:  # BOM: Excel opens Chinese CSV right
            w = csv.writer(f)
            w.writerow([*HEAD, *(f"{t.title[:2]}{label}" for t, cols in sheets for _, label in cols)])
            for row in rows:
                got = cells.get(row["report_id"], {})
                w.writerow([*head(row), *(_value(got, key) for _, cols in sheets for key, _ in cols)])
        return len(rows)
    import xlsxwriter

    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    bold = book.add_format({"bold": True, "text_wrap": True})
    for table, cols in sheets:
        sheet = book.add_worksheet(table.title[2:].replace("政府信息公开", "")[:31])
        sheet.write_row(0, 0, [*HEAD, *(label for _, label in cols)], bold)
        for i, row in enumerate(rows, start=1):
            got = cells.get(row["report_id"], {})
            sheet.write_row(i, 0, [*head(row), *(_value(got, key) for key, _ in cols)])
    book.close()
    return len(rows)


def _value(cells: dict, key: str):
    value = cells.get(key)
    return "" if value is None else value
