"""A text that stops in the middle of a table: a search index's excerpt.

Search indexes keep the first thousand or two characters of a page, cut wherever
the budget ends: inside a row, or inside a number (``2896.904`` kept as ``289``).
Where a text stops inside a line (no line break at its end) and its very last
token is a value the parser put in a cell, the text may have been cut in the
table:

* a row that printed fewer values than its columns, or a row of a grid (pipes,
  tabs) with other than one cell per column after its label (blank cells of
  merged labels shift a cut row's values into its columns), was cut short:
  none of its cells is kept, as the gold of real excerpts keeps none (a reader
  cannot tell where the row went on);
* a complete row keeps its cells, but where the text stops inside its last
  value (no space or separator after it) that value may be the start of a
  longer number and is left out, unless it is a ``0`` in a count (no number
  of several digits starts with 0).

Either way a ``row.cut_off`` finding says what was left out. A text ending with
a line break, and formats whose cells are whole elements (HTML, Word, Excel,
PDF pages), are not cut this way.
"""

from __future__ import annotations

from .extract.document import Document
from .normalize import parse_value
from .report import Finding
from .tables import TableResult
from .template import RULES_BY_ID, TABLES_BY_KEY

_ZEROS = ("0", "０")


def _final_token(doc: Document) -> tuple[int, int, str] | None:
    """(line, cell, text) of the document's last printed token."""
    for i in range(len(doc.lines) - 1, -1, -1):
        cells = doc.lines[i].cells
        for k in range(len(cells) - 1, -1, -1):
            words = cells[k].split()
            if words:
                return i, k, words[-1]
    return None


def _grid_doubt(doc: Document, line: int, columns: int) -> bool:
    """The text ends on a row of a grid (pipes, tabs) that has other than one cell per
    column after its label, or a blank cell right after it: blank cells of merged labels
    shift a cut row's values into its columns, so where its values belong cannot be told."""
    if not doc.lines[line].grid:
        return False
    cells = list(doc.lines[line].cells)
    while cells and not cells[-1]:
        cells.pop()  # the grid's padding after the row's last value
    label = len(cells) - 1
    while label >= 0 and parse_value(cells[label]).kind != "text":
        label -= 1
    if label < 0:
        return False  # a value on a line of its own: the row is spread over lines
    return len(cells) - 1 - label != columns or not cells[label + 1]


def _safe(key: str, token: str) -> bool:
    """A last value no cut can have shortened: a 0 in a count."""
    table, _, column = key.split(".")
    return token in _ZEROS and TABLES_BY_KEY[table].column(column).kind != "money"


def cut_off_row(doc: Document, results: list[TableResult]) -> Finding | None:
    """Leave out what a text cut inside a table may have cut (see the module's docstring);
    the finding saying so, or None when the text does not end on a cell."""
    if doc.cut_mid is None:
        return None
    final = _final_token(doc)
    if final is None:
        return None
    line, cell, token = final
    for result in results:
        keys = [k for k, origin in result.origins.items() if origin == (line, cell)]
        if not keys:
            continue
        key = max(keys, key=list(result.cells).index)  # a cell split in parts: its last
        row = next((r for r in result.printed_short if key.startswith(r + ".")), None)
        if row is None:
            whole = "appeals" if key.startswith("appeals.") else key.rsplit(".", 1)[0]
            if _grid_doubt(doc, line, sum(1 for k in result.cells if k.startswith(whole + "."))):
                row = whole
        if row is not None:
            dropped = [k for k in result.cells if k.startswith(row + ".")]
            short = "该行未印全" if row in result.printed_short else "该行可能未印全（数值可能错位）"
            what = f"文本在“{_row_name(row)}”一行结束，{short}，{len(dropped)} 个单元格不计"
        elif doc.cut_mid != "word" or _safe(key, token):
            return None
        else:
            dropped = [key]
            what = f"文本在表格中途结束，最后一个数值“{token}”可能被截断，该单元格（{key}）不计"
        for k in dropped:
            del result.cells[k]
            result.origins.pop(k, None)
        rule = RULES_BY_ID["row.cut_off"]
        return Finding(rule.id, rule.severity, key if row is None else f"{row}.*", what)
    return None


def _row_name(prefix: str) -> str:
    table, _, row = prefix.partition(".")
    t = TABLES_BY_KEY[table]
    return t.row(row).label if row else t.title
