"""Read the three standard tables out of a document's lines.

1. **Regions.** Section headings (``二、主动公开政府信息情况`` …), the 勾稽 note
   and the appeals header split the document into the three table regions.
2. **Items.** In a region every line becomes label, value and text items. A
   hard line (a real row) keeps its values with its label; soft lines (one cell
   per line) are joined: values follow the label before them.
3. **Attribution.** Values printed on a row of their own (a wrapped label in a
   PDF, a table shattered by a text extractor) go to the label waiting just
   above them; when that reading does not work for every such group, the
   groups are matched in printed order to the rows whose labels were seen
   without values, in template order.
4. **Cells.** Each row's values are mapped left to right onto its columns;
   the columns come from the table's own header (template, 总计 present or
   not, 总计 printed first or last).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .extract.document import Line
from .labels import LabelIndex, Match
from .normalize import compact, label_key, nfkc, parse_value, split_trailing_values, to_cell
from .report import Finding
from .template import (
    APPEALS,
    APPLICANT_COLUMNS,
    DISCLOSURE,
    DISCLOSURE_MARKERS,
    REQUESTS,
    TABLES,
    Row,
    Table,
)

INDEX = {t.key: LabelIndex(t) for t in TABLES}

_HEADINGS = {
    "disclosure": ("主动公开政府信息情况",),
    "requests": ("收到和处理政府信息公开申请情况",),
    "appeals": (
        "政府信息公开行政复议行政诉讼情况",
        "行政复议行政诉讼情况",
        "因政府信息公开工作被申请行政复议和提起行政诉讼情况",
        "政府信息公开行政复议和行政诉讼情况",
    ),
    None: (
        "存在的主要问题及改进情况",
        "存在的主要问题和改进情况",
        "存在的主要问题及改进措施",
        "存在的主要问题",
        "其他需要报告的事项",
        "存在问题及改进情况",
        "存在问题及改进措施",
        "主要问题及改进情况",
    ),
}
_HEADING_SLACK = 4


@dataclass
class Item:
    kind: str  # "label" | "values" | "text" | "filler"
    line: int
    match: Match | None = None
    text: str = ""
    values: list[str] = field(default_factory=list)
    hard: bool = False


@dataclass
class ParsedRow:
    row: Row
    values: list[str]
    line: int


@dataclass
class TableResult:
    table: Table
    present: bool = False  # heading, header or rows seen
    rows: dict[str, ParsedRow] = field(default_factory=dict)
    template: str | None = None
    cells: dict[str, int | float | None] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------


def _heading(line: Line) -> str | None | bool:
    """The region a heading line opens (None: tables end), or False for no heading."""
    if not line.cells or len(line.cells) > 3:
        return False
    raw = "".join(line.cells)
    return False if len(raw) > 60 else _heading_text(raw)


@lru_cache(maxsize=16384)
def _heading_text(raw: str) -> str | None | bool:
    raw = nfkc(raw).strip()
    key = label_key(raw)
    if not key or len(key) > 40:
        return False
    # "（二）收到和处理政府信息公开申请情况" is a paragraph heading in 总体情况;
    # the tables' own headings are numbered "二、" (or not at all).
    sub_heading = raw.startswith("(")
    for region, headings in _HEADINGS.items():
        if sub_heading and region is not None:
            continue
        for h in headings:
            if key.startswith(h) and len(key) <= len(h) + _HEADING_SLACK:
                return region
    if key.startswith("第二十条第") and len(key) <= 10:
        return "disclosure"
    if "勾稽关系" in key or key == "申请人情况":
        return "requests"
    return False


def split_regions(lines: list[Line]) -> dict[str, list[tuple[int, Line]]]:
    regions: dict[str, list[tuple[int, Line]]] = {"disclosure": [], "requests": [], "appeals": []}
    order = ["disclosure", "requests", "appeals"]
    current: str | None = None
    reached = -1
    for i, line in enumerate(lines):
        region = _heading(line)
        if region is False and current in (None, "disclosure"):
            # The requests table announces itself by its first row when its heading is lost.
            if any("新收" in c and label_key(c).startswith("本年新收政府信息公开申请") for c in line.cells):
                region = "requests"
        if region is False and current == "requests":
            key = compact(line.text)
            if "行政复议" in key and "行政诉讼" in key and len(key) <= 40:
                region = "appeals"
        if region is not False:
            if region is None:
                current = None
                continue
            rank = order.index(region)
            if rank >= reached:  # tables come in order; a later mention of an earlier one is prose
                current, reached = region, rank
        if current:
            regions[current].append((i, line))
    return regions


# ---------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------


def _explode(cells: list[str]) -> list[str]:
    """Split cells holding several numbers (``'50 0'``) and peel numbers printed
    after a label in the same cell (``'规章 1 0 11'``)."""
    out: list[str] = []
    for cell in cells:
        if " " not in cell:  # one token: nothing to split
            out.append(cell)
            continue
        tokens = cell.split()
        if len(tokens) > 1 and all(parse_value(t).kind == "number" for t in tokens):
            out.extend(tokens)
            continue
        if parse_value(cell).kind == "text":
            rest, trailing = split_trailing_values(cell)
            if trailing and rest:
                out.append(rest)
                out.extend(trailing)
                continue
        out.append(cell)
    return out


def _items(table: Table, lines: list[tuple[int, Line]]) -> list[Item]:
    index = INDEX[table.key]
    items: list[Item] = []
    for lineno, line in lines:
        if line.filler:
            items.append(Item("filler", lineno))
            continue
        cells = _explode(line.cells)
        kinds = [parse_value(c).kind for c in cells]
        label_at, match = -1, None
        for k, (cell, kind) in enumerate(zip(cells, kinds)):
            if kind != "text":
                continue
            m = index.match(cell)
            if m is not None and (m.row is not None or match is None or match.row is None):
                label_at, match = k, m
            elif match is None:
                label_at = k
        texts = [c for c, kind in zip(cells, kinds) if kind == "text"]
        if label_at >= 0:
            values = cells[label_at + 1 :]
            if match is not None and match.row is not None:
                items.append(Item("label", lineno, match, cells[label_at], values, hard=bool(values)))
                continue
            items.append(Item("text", lineno, match, " ".join(texts)))
            values = [v for v in values if parse_value(v).kind != "text"]
            if values:
                # Values beside unknown text: the tail of a wrapped label, or a row the
                # national template does not have (a provincial extra row).
                items.append(Item("values", lineno, text=" ".join(texts), values=values, hard=True))
            continue
        # Only values on this line: a row of values (hard), or one cell on its own (soft).
        hard = line.hard or len(cells) > 1
        items.append(Item("values", lineno, values=cells, hard=hard))
    return _merge_soft(items)


def _merge_soft(items: list[Item]) -> list[Item]:
    """Join consecutive one-cell value lines into one group of values."""
    out: list[Item] = []
    for item in items:
        if item.kind == "values" and not item.hard and out and out[-1].kind == "values" and not out[-1].hard:
            out[-1].values.extend(item.values)
            continue
        if item.kind == "values" and not item.hard and out and out[-1].kind == "label" and not out[-1].hard:
            # A soft label followed by its values, one per line.
            out[-1].values.extend(item.values)
            continue
        out.append(item)
    return out


# ---------------------------------------------------------------------------
# Attribution of values printed apart from their labels
# ---------------------------------------------------------------------------


def _attribute(table: Table, items: list[Item], n_columns: int, findings: list[Finding]) -> dict[str, ParsedRow]:
    rows: dict[str, ParsedRow] = {}
    labels_seen: dict[str, Item] = {}
    pending: list[tuple[Item, Item | None]] = []  # (orphan values, label waiting just above)
    waiting: Item | None = None
    for item in items:
        if item.kind == "label":
            key = item.match.row.key
            if item.values and key not in rows:
                rows[key] = ParsedRow(item.match.row, item.values, item.line)
                waiting = None
            elif not item.values:
                labels_seen.setdefault(key, item)
                waiting = item if key not in rows else None
            else:
                waiting = None
        elif item.kind == "values":
            if _is_stray(item, n_columns) or not any(v.strip() for v in item.values):
                continue  # a page number, or the empty cells a merged header leaves
            pending.append((item, waiting))
            waiting = None
        elif item.kind == "filler":
            continue
        # text items (continuations of a wrapped label) keep the waiting label

    if not pending:
        return rows
    local_ok = all(w is not None for _, w in pending) and len({id(w) for _, w in pending}) == len(pending)
    empty = [r for r in table.rows if r.key in labels_seen and r.key not in rows and not _has_alternative(r, rows)]
    if local_ok:
        for values, label in pending:
            row = label.match.row
            rows.setdefault(row.key, ParsedRow(row, values.values, values.line))
        return rows
    # Values printed apart from every label (a shattered table) follow the template's
    # order. Values beside unknown text are left out of this: they may be a row the
    # national template does not have.
    if len(empty) == len(pending) and not any(values.text for values, _ in pending):
        for (values, _), row in zip(pending, empty):
            rows[row.key] = ParsedRow(row, values.values, values.line)
        return rows
    for values, label in pending:
        if label is not None and label.match.row.key not in rows:
            rows[label.match.row.key] = ParsedRow(label.match.row, values.values, values.line)
        else:
            findings.append(
                Finding(
                    "row.unattributed",
                    "warning",
                    f"{table.key}.?",
                    f"第 {values.line + 1} 行的一组数值（{' '.join(values.values)}）无法对应到{table.title}的任何行",
                )
            )
    return rows


def _is_stray(item: Item, n_columns: int) -> bool:
    """A lone number on a line of its own inside a wide table: a page number or footnote mark."""
    return not item.hard and len(item.values) == 1 and n_columns >= 5


def _has_alternative(row: Row, rows: dict[str, ParsedRow]) -> bool:
    return any(alt in rows for alt in row.alternative_of)


# ---------------------------------------------------------------------------
# Values → cells
# ---------------------------------------------------------------------------


def _fit(values: list[str], expected: int) -> list[str]:
    """Drop the empty cells that colspan/rowspan leave around a row's values."""
    values = list(values)
    while len(values) > expected and not values[-1].strip():
        values.pop()
    while len(values) > expected and not values[0].strip():
        values.pop(0)
    return values[:expected]


def _fill(result: TableResult, parsed: ParsedRow, columns: tuple[str, ...]) -> list[str]:
    """Write one row's cells; return the columns the row did not print."""
    table = result.table
    values = _fit(parsed.values, len(columns))
    for col_key, raw in zip(columns, values):
        result.cells[f"{table.key}.{parsed.row.key}.{col_key}"] = to_cell(parse_value(raw), table.column(col_key).kind)
    return list(columns[len(values) :])


def _report_short_rows(result: TableResult, short: dict[str, list[str]]) -> None:
    """One finding per set of missing columns, naming the rows (a text extractor
    usually drops the same cell from many rows)."""
    table = result.table
    by_missing: dict[tuple[str, ...], list[str]] = {}
    for row_key, missing in short.items():
        if missing:
            by_missing.setdefault(tuple(missing), []).append(row_key)
    for missing, row_keys in by_missing.items():
        where = (
            f"{table.key}.{row_keys[0]}.*" if len(row_keys) == 1 else f"{table.key}.*.{missing[0] if len(missing) == 1 else '*'}"
        )
        labels = "、".join(table.row(k).label for k in row_keys)
        result.findings.append(
            Finding(
                "row.short",
                "warning",
                where,
                f"{len(row_keys)} 行少印了“{'、'.join(table.column(c).label for c in missing)}”列，缺失的单元格不计：{labels}",
            )
        )


def _disclosure_template(items: list[Item], rows: dict[str, ParsedRow]) -> str:
    header = compact(" ".join(i.text for i in items if i.kind == "text"))
    votes = {t: sum(m in header for m in markers) for t, markers in DISCLOSURE_MARKERS.items()}
    if "other_services" in rows or "procurement" in rows:
        votes["2019"] += 2
    if votes["2019"] != votes["2021"]:
        return max(votes, key=votes.get)
    # No header words: a decision row printed with three values is the 2019 layout.
    counts = [len(_fit(rows[k].values, 3)) for k in ("licensing", "penalty", "coercion") if k in rows]
    return "2019" if counts and max(counts) >= 3 else "2021"


def _requests_columns(items: list[Item], rows: dict[str, ParsedRow]) -> tuple[str, ...]:
    first_row = next((i for i, it in enumerate(items) if it.kind == "label"), len(items))
    header = compact(" ".join(it.text for it in items[:first_row] if it.kind == "text"))
    widths = [len(list(_fit(r.values, 7))) for r in rows.values()]
    has_total = "总计" in header if header else (max(widths, default=0) >= 7)
    if not has_total:
        return APPLICANT_COLUMNS
    total_first = "总计" in header and "自然人" in header and header.index("总计") < header.index("自然人")
    # The numbers decide where the 总计 column is when they can: it is the sum of the other six.
    first = last = 0
    for r in rows.values():
        nums = [parse_value(v) for v in _fit(r.values, 7)]
        if len(nums) == 7 and all(n.kind == "number" for n in nums):
            v = [n.number for n in nums]
            if v[6] and v[6] == sum(v[:6]) and v[0] != sum(v[1:]):
                last += 1
            elif v[0] and v[0] == sum(v[1:]) and v[6] != sum(v[:6]):
                first += 1
    if first != last:
        total_first = first > last
    return ("total", *APPLICANT_COLUMNS) if total_first else (*APPLICANT_COLUMNS, "total")


def _parse_disclosure(lines) -> TableResult:
    result = TableResult(DISCLOSURE, present=bool(lines))
    items = _items(DISCLOSURE, lines)
    result.rows = _attribute(DISCLOSURE, items, 3, result.findings)
    if not result.rows:
        return result
    template = _disclosure_template(items, result.rows)
    result.template = template
    short = {}
    for row in DISCLOSURE.rows:
        parsed = result.rows.get(row.key)
        if parsed:
            layout = template if template in row.templates else "2019"
            short[row.key] = _fill(result, parsed, row.column_keys(layout, DISCLOSURE))
    _report_short_rows(result, short)
    return result


def _parse_requests(lines) -> TableResult:
    result = TableResult(REQUESTS, present=bool(lines))
    items = _items(REQUESTS, lines)
    result.rows = _attribute(REQUESTS, items, 7, result.findings)
    if not result.rows:
        return result
    columns = _requests_columns(items, result.rows)
    split_other = any(k in result.rows for k in ("other_no_correction", "other_no_fee", "other_other"))
    result.template = "2021" if split_other else None
    short = {row.key: _fill(result, result.rows[row.key], columns) for row in REQUESTS.rows if row.key in result.rows}
    _report_short_rows(result, short)
    return result


def _parse_appeals(lines) -> TableResult:
    result = TableResult(APPEALS, present=bool(lines))
    items = _items(APPEALS, lines)
    header = compact(" ".join(i.text for i in items if i.kind == "text"))
    values: list[str] = []
    for item in items:
        group = [v for v in item.values if parse_value(v).kind != "text"]
        if any(v.strip() for v in group):  # header rows leave only empty cells
            values.extend(group)
    n = len(APPEALS.columns) * len(APPEALS.rows)
    values = _fit(values, n)
    has_header = any(c.label in header for c in APPEALS.columns)
    if not values and not has_header:
        return result
    if values and not any(v.strip() for v in values):
        values = []
    width = len(APPEALS.columns)
    for r, row in enumerate(APPEALS.rows):
        chunk = values[r * width : (r + 1) * width]
        result.rows[row.key] = ParsedRow(row, chunk, 0)
        for c, column in enumerate(APPEALS.columns):
            if values:
                if c < len(chunk):
                    result.cells[f"appeals.{row.key}.{column.key}"] = to_cell(parse_value(chunk[c]), column.kind)
            else:
                result.cells[f"appeals.{row.key}.{column.key}"] = None  # header printed, no data row
    if values and len(values) < n:
        result.findings.append(
            Finding("row.short", "warning", "appeals", f"行政复议、行政诉讼表只印出 {len(values)} 个数值（应有 {n} 个）")
        )
    return result


def parse_tables(regions: dict[str, list[tuple[int, Line]]]) -> list[TableResult]:
    """The three tables, from the regions :func:`split_regions` found."""
    return [
        _parse_disclosure(regions["disclosure"]),
        _parse_requests(regions["requests"]),
        _parse_appeals(regions["appeals"]),
    ]
