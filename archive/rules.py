"""Consistency rules (勾稽关系 and the rest) over one parsed report.

The sum rules are data in :mod:`archive.template`; this module evaluates
them. A rule is only evaluated on cells the report prints: a blank cell is
never taken as 0 (the check is reported as not evaluated instead), and a row
or column the report does not have is not checked at all.
"""

from __future__ import annotations

from functools import lru_cache

from .normalize import fmt_number
from .report import Finding
from .template import CELL_PARTS, RULES_BY_ID, SUM_RULES, TABLES_BY_KEY, SumRule

Cells = dict[str, int | float | None]
_EPS = 1e-6
_ABSENT = object()


_fmt = fmt_number


class _Printed:
    """What each table printed, in one pass over the cells: its rows and columns, how many
    cells, and whether any holds a value."""

    def __init__(self, cells: Cells) -> None:
        rows: dict[str, set[str]] = {}
        cols: dict[str, set[str]] = {}
        self.sizes: dict[str, int] = {}
        self.valued: set[str] = set()
        for key, value in cells.items():
            table, row, col = CELL_PARTS.get(key) or key.split(".")
            if table in rows:
                rows[table].add(row)
                cols[table].add(col)
                self.sizes[table] += 1
            else:
                rows[table], cols[table], self.sizes[table] = {row}, {col}, 1
            if value is not None:
                self.valued.add(table)
        self.axes = {table: (frozenset(rows[table]), frozenset(cols[table])) for table in rows}


def _label(table: str, axis_key: str, axis: str) -> str:
    t = TABLES_BY_KEY[table]
    return (t.row(axis_key) if axis == "row" else t.column(axis_key)).label


def _operands(cells: Cells, left: list[str], right: list[str]):
    """The two sums for these cell keys; "absent" when a cell is not printed
    (the check does not apply), "blank" when one is printed blank (not checked)."""
    values = [cells.get(k, _ABSENT) for k in (*left, *right)]
    if _ABSENT in values:
        return "absent"
    if None in values:
        return "blank"
    return sum(values[: len(left)]), sum(values[len(left) :]), values


def _check_sum(rule: SumRule, cells: Cells, present) -> tuple[list[Finding], int, tuple[str, ...]]:
    """Findings for one sum rule, how many checks could not be made for blanks, and the
    rows the rule adds up that the parse does not have (then it is not checked at all)."""
    findings: list[Finding] = []
    skipped = 0
    rows, cols = present.axes.get(rule.table, (frozenset(), frozenset()))
    t = rule.table
    right_rows, checks, missing = _checks(rule, rows, cols)
    for key, left, right in checks:
        result = _operands(cells, left, right)
        if result == "blank":
            skipped += 1
        if isinstance(result, str):
            continue
        a, b, values = result
        if abs(a - b) <= _EPS:
            continue
        if rule.axis == "column":
            where = f"{t}.*.{key}"
            message = (
                f"{_label(t, key, 'column')}列：{_terms(t, rule.left, values[: len(left)])} = {_fmt(a)}，"
                f"但 {_terms(t, right_rows, values[len(left) :])} = {_fmt(b)}"
            )
        else:
            where = f"{t}.{key}.{rule.left[0]}"
            message = (
                f"“{_label(t, key, 'row')}”：{'+'.join(_label(t, c, 'column') for c in rule.left)} "
                f"= {_fmt(a)}，但各项之和 {'+'.join(_fmt(v) for v in values[len(left) :])} = {_fmt(b)}"
            )
        findings.append(Finding(rule.id, rule.severity, where, message))
    return findings, skipped, missing


@lru_cache(maxsize=1024)
def _checks(
    rule: SumRule, rows: frozenset[str], cols: frozenset[str]
) -> tuple[list[str], list[tuple[str, list, list]], tuple[str, ...]]:
    """The cells one sum rule compares, for a table printing these rows and columns (the
    same few sets for almost every report): its right-hand rows, (row or column, left
    cells, right cells) for each check, and the rows it adds up that the table lacks.

    A column rule adds up the rows the table has. A row it lacks — neither it nor a row
    standing in for it (（六）其他处理 for its three sub-rows, or they for it) — may be one
    the parse could not read, whose numbers a partial sum would miss: then the rule is
    not checked, rather than blaming the office for a row we did not see."""
    t = rule.table
    if rule.axis == "column":
        table = TABLES_BY_KEY[t]
        right_rows = [r for r in rule.right if r in rows]
        if not all(r in rows for r in rule.left) or not right_rows:
            return right_rows, [], ()
        missing = tuple(r for r in rule.right if r not in rows and not any(a in rows for a in table.row(r).alternative_of))
        if missing:
            return right_rows, [], missing
        return (
            right_rows,
            [
                (col.key, [f"{t}.{r}.{col.key}" for r in rule.left], [f"{t}.{r}.{col.key}" for r in right_rows])
                for col in table.columns
                if col.key in cols
            ],
            (),
        )
    return (
        [],
        [
            (row.key, [f"{t}.{row.key}.{c}" for c in rule.left], [f"{t}.{row.key}.{c}" for c in rule.right])
            for row in TABLES_BY_KEY[t].rows
            if row.key in rows
        ],
        (),
    )


def _terms(table: str, keys, values) -> str:
    return " + ".join(f"{_short(_label(table, k, 'row'))} {_fmt(v)}" for k, v in zip(keys, values))


def _short(label: str) -> str:
    return label.split("、")[0] + "、" if "、" in label[:3] else label[:8]


def check_values(cells: Cells) -> list[Finding]:
    findings = []
    for key, value in cells.items():
        if value is None or value >= 0:
            continue
        table, row, col = key.split(".")
        if TABLES_BY_KEY[table].column(col).kind != "signed":
            findings.append(
                Finding(
                    "values.nonneg", RULES_BY_ID["values.nonneg"].severity, key, f"{key} 为负数 {_fmt(value)}：件数和金额不能为负"
                )
            )
    return findings


def _blank_tables(printed: _Printed, uncertain: frozenset[str]) -> list[Finding]:
    """Tables printed with every cell blank; a table whose values could not be placed is not
    blank (its cells are null for that reason, said in its own finding)."""
    findings = []
    for table in TABLES_BY_KEY.values():
        size = printed.sizes.get(table.key, 0)
        if size and table.key not in printed.valued and table.key not in uncertain:
            findings.append(
                Finding("table.blank", "warning", f"{table.key}.*.*", f"{table.title}：表格存在，但 {size} 个单元格全部为空")
            )
    return findings


def check_report(cells: Cells, uncertain: frozenset[str] = frozenset()) -> list[Finding]:
    """Every rule over one report. ``uncertain``: tables some of whose values went to no row
    or could not be placed in a column; their sum rules cannot be checked, so a failure
    there is said as "not checked" (info), never as the office's error."""
    present = _Printed(cells)
    blank = _blank_tables(present, uncertain)
    blank_tables = {f.where.split(".")[0] for f in blank}
    findings: list[Finding] = []
    for rule in SUM_RULES:
        found, skipped, missing = _check_sum(rule, cells, present)
        if missing:
            labels = "、".join(_short(_label(rule.table, r, "row")) for r in missing[:3])
            more = f"等 {len(missing)} 行" if len(missing) > 3 else ""
            findings.append(
                Finding("check.incomplete", "info", f"{rule.table}.*.*", f"{rule.id}：表中没有读到 {labels}{more}，未核对")
            )
        if rule.table in uncertain and found:
            findings.append(
                Finding(
                    "check.incomplete",
                    "info",
                    f"{rule.table}.*.*",
                    f"{rule.id}：表中有数值未能对应到行或列，{len(found)} 处不平衡未作为错误报告",
                )
            )
        else:
            findings += found
        if skipped and rule.table not in blank_tables:
            findings.append(
                Finding("check.incomplete", "info", f"{rule.table}.*.*", f"{rule.id}：{skipped} 处含空白单元格，未核对")
            )
    findings += check_values(cells)
    findings += blank
    return findings
