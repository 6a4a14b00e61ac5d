"""The three tables laid out as the national form prints them, for pages people read.

Everything comes from :mod:`archive.template`: the rows a template prints, their
groups (and the groups those are printed inside), the columns each row has in
that template, the header over the applicant columns, and 表四's rows printed
side by side. The result is a grid of cells with their spans; the report page
renders it as HTML tables, one per printed table (表二 is printed as one small
table per 第二十条 item).
"""

from __future__ import annotations

from dataclasses import dataclass

from .template import TABLES, Table


@dataclass(frozen=True)
class Cell:
    text: str = ""
    colspan: int = 1
    rowspan: int = 1
    key: str | None = None  # a data cell's ``table.row.column`` key
    role: str = "data"  # head (a column header), label (a row's label) or data


@dataclass(frozen=True)
class Grid:
    caption: str | None
    rows: list[list[Cell]]


def _shape(table: Table, template: str):
    # a row with alternatives of this template only (（六）其他处理 and its three
    # sub-rows in 2021) is printed as those alternatives
    return [
        r
        for r in table.rows
        if template in r.templates and not any(table.row(a).templates == {template} for a in r.alternative_of)
    ]


def _disclosure(table: Table, template: str) -> list[Grid]:
    grids: list[Grid] = []
    blocks: dict[str | None, list] = {}
    for row in _shape(table, template):
        blocks.setdefault(row.group, []).append(row)
    for group, rows in blocks.items():
        columns = list(dict.fromkeys(c for r in rows for c in r.column_keys(template, table)))
        head = [Cell("信息内容", role="head")] + [Cell(table.column(c).label, role="head") for c in columns]
        body = [
            [Cell(r.label, role="label")]
            + [
                Cell(key=f"{table.key}.{r.key}.{c}") if c in r.column_keys(template, table) else Cell("", role="label")
                for c in columns
            ]
            for r in rows
        ]
        grids.append(Grid(group, [head, *body]))
    return grids


def _column_header(table: Table) -> list[list[Cell]]:
    """Header rows over the data columns: the heading, the column groups, the labels."""
    columns = table.columns
    grouped = any(c.group for c in columns)
    top: list[Cell] = []
    second: list[Cell] = []
    i = 0
    while i < len(columns):
        group = columns[i].group
        if group is None:
            top.append(Cell(columns[i].label, rowspan=2 if grouped else 1, role="head"))
            i += 1
            continue
        span = 1
        while i + span < len(columns) and columns[i + span].group == group:
            span += 1
        top.append(Cell(group, colspan=span, role="head"))
        second += [Cell(c.label, role="head") for c in columns[i : i + span]]
        i += span
    rows = [top] + ([second] if grouped else [])
    if table.column_heading:
        rows.insert(0, [Cell(table.column_heading, colspan=len(columns), role="head")])
    return rows


def _requests(table: Table, template: str) -> list[Grid]:
    parents = dict(table.group_parents)
    header = _column_header(table)
    header[0].insert(0, Cell("", colspan=3, rowspan=len(header), role="head"))
    rows = _shape(table, template)
    body: list[list[Cell]] = []
    # (label, level) → remaining rows it spans, to emit each group label once with its rowspan
    for i, row in enumerate(rows):
        outer = parents.get(row.group, row.group)
        inner = row.group if row.group in parents else None
        line: list[Cell] = []
        if outer is None:
            line.append(Cell(row.label, colspan=3, role="label"))
        else:
            if i == 0 or parents.get(rows[i - 1].group, rows[i - 1].group) != outer:
                line.append(Cell(outer, rowspan=sum(1 for r in rows if parents.get(r.group, r.group) == outer), role="label"))
            if inner is None:
                line.append(Cell(row.label, colspan=2, role="label"))
            else:
                if rows[i - 1].group != inner:
                    line.append(Cell(inner, rowspan=sum(1 for r in rows if r.group == inner), role="label"))
                line.append(Cell(row.label, role="label"))
        line += [Cell(key=f"{table.key}.{row.key}.{c}") for c in row.column_keys(template, table)]
        body.append(line)
    return [Grid(None, header + body)]


def _across(table: Table, template: str) -> list[Grid]:
    """表四: each row a block of columns, its label split into two header levels at "·"."""
    rows = _shape(table, template)
    split = [r.label.split("·", 1) for r in rows]
    top: list[Cell] = []
    second: list[Cell] = []
    width = len(table.columns)
    two_levels = any(len(s) == 2 for s in split)
    i = 0
    while i < len(rows):
        first = split[i][0]
        if len(split[i]) == 1:
            top.append(Cell(first, colspan=width, rowspan=2 if two_levels else 1, role="head"))
            i += 1
            continue
        span = 1
        while i + span < len(rows) and len(split[i + span]) == 2 and split[i + span][0] == first:
            span += 1
        top.append(Cell(first, colspan=width * span, role="head"))
        second += [Cell(split[j][1], colspan=width, role="head") for j in range(i, i + span)]
        i += span
    labels = [Cell(c.label, role="head") for _ in rows for c in table.columns]
    data = [Cell(key=f"{table.key}.{r.key}.{c.key}") for r in rows for c in table.columns]
    return [Grid(None, [top] + ([second] if two_levels else []) + [labels, data])]


def layout(table: Table, template: str) -> list[Grid]:
    """The grids the form prints for this table in this template (2019 or 2021)."""
    if table.rows_across:
        return _across(table, template)
    if any(r.group for r in table.rows) and table.column_heading:
        return _requests(table, template)
    return _disclosure(table, template)


def cell_label(key: str) -> str:
    """A cell key in words: ``表三 （七）总计 · 总计``."""
    try:
        table_key, row_key, column_key = key.split(".")
        table = next(t for t in TABLES if t.key == table_key)
        return f"{table.title.split('、', 1)[0]}、{table.heading} {table.row(row_key).label} · {table.column(column_key).label}"
    except (ValueError, StopIteration, KeyError):
        return key
