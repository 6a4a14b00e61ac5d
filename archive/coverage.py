"""How much of a report was read: the figure a user filters on to trust a report's numbers.

Every cell of the template the report uses counts: read (a number, or a cell printed
blank), undecided (its row's values could not be placed, or its value was printed as no
number: null with a finding) or not read at all (the report does not show it, or the
parser did not find it). A report is
*complete* when every template cell was read and no value was left unattributed.
"""

from __future__ import annotations

from functools import lru_cache

from .template import REQUESTS, TABLES

Cells = dict[str, int | float | None]


def template_cells(template: str | None, cells: Cells) -> frozenset[str]:
    """The keys of every cell the report's template prints. A requests table printed
    without a 总计 column, or with （六）其他处理 as one row, is counted as printed."""
    if template is None:
        return frozenset()
    single_other = not _OTHER_KEYS.isdisjoint(cells)
    no_total = not _REQUESTS_KEYS.isdisjoint(cells) and _TOTAL_KEYS.isdisjoint(cells)
    return _template_cells(template, single_other, no_total)


# every key the requests table can have; those of its single （六）其他处理 row; those of its 总计 column
_REQUESTS_KEYS = frozenset(f"requests.{row.key}.{column.key}" for row in REQUESTS.rows for column in REQUESTS.columns)
_OTHER_KEYS = frozenset(k for k in _REQUESTS_KEYS if k.startswith("requests.other."))
_TOTAL_KEYS = frozenset(k for k in _REQUESTS_KEYS if k.endswith(".total"))


@lru_cache(maxsize=32)
def _template_cells(template: str, single_other: bool, no_total: bool) -> frozenset[str]:
    layouts = {
        "disclosure": "2019" if template in ("2019", "mixed") else "2021",
        "requests": "2021" if template in ("2021", "mixed") else "2019",
        "appeals": template if template != "mixed" else "2021",
    }
    out: set[str] = set()
    for table in TABLES:
        layout = layouts[table.key]
        for row in table.rows:
            if layout not in row.templates:
                continue
            if table is REQUESTS and row.alternative_of and (row.key == "other") != single_other:
                continue
            for column in row.column_keys(layout, table):
                if table is REQUESTS and column == "total" and no_total:
                    continue
                out.add(f"{table.key}.{row.key}.{column}")
    return frozenset(out)


# The archive's columns for a report's coverage (reports table), from the JSON's keys.
ARCHIVE_COLUMNS = {
    "cells_expected": "template_cells",
    "cells_read": "cells_read",
    "cells_undecided": "undecided",
    "rows_unattributed": "rows_unattributed",
}


def archive_values(figures: dict | None) -> dict[str, int | None]:
    """The reports table's coverage columns; all None for a document with no report."""
    if not figures:
        return dict.fromkeys((*ARCHIVE_COLUMNS, "read_fully"))
    return {column: figures[key] for column, key in ARCHIVE_COLUMNS.items()} | {"read_fully": int(figures["complete"])}


def describe(expected: int | None, read: int | None, undecided: int | None, unattributed: int | None) -> str:
    """How much was read, in a sentence (CLI, report page)."""
    if not expected:
        return "未读到国家模板的表格"
    if read == expected and not unattributed:
        return f"完整读取：模板 {expected} 个单元格全部读到"
    parts = [f"模板 {expected} 个单元格中读到 {read} 个"]
    if undecided:
        parts.append(f"{undecided} 个无法确定所在列或数值（记为空）")
    if unattributed:
        parts.append(f"{unattributed} 组数值无法归属到行")
    return "部分读取：" + "，".join(parts)


def coverage(template: str | None, cells: Cells, undecided: set[str], unattributed: int) -> dict:
    expected = template_cells(template, cells)
    read = (expected & cells.keys()) - undecided
    blank = list(map(cells.__getitem__, read)).count(None)
    return {
        "template_cells": len(expected),
        "cells_read": len(read),
        "numbers": len(read) - blank,
        "blank": blank,
        "undecided": len(undecided & expected),
        "rows_unattributed": unattributed,
        "complete": bool(expected) and len(read) == len(expected) and not unattributed,
    }
