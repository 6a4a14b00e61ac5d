"""Read the three standard tables out of a document's lines.

1. **Regions.** Section headings (``二、主动公开政府信息情况`` …), or a table's own
   first row when its heading is missing, split the document into the three
   table regions.
2. **Items.** In a region every line becomes header, label, value and text
   items; every printed cell keeps where it was printed (:class:`Slot`). A hard
   line (a real row) keeps its values with its label; soft lines (one cell per
   line) are joined: values follow the label before them.
3. **Attribution.** Values printed on a row of their own (a wrapped label in a
   PDF, a table shattered by a text extractor) go to the label waiting just
   above them; when that reading does not work for every such group, the
   groups are matched in printed order to the rows whose labels were seen
   without values, in template order.
4. **Placement.** Each row's values go under its columns by where they were
   printed (:mod:`archive.placement`): never by their count or pattern alone.
   A row whose values cannot be placed with certainty gives null cells and a
   finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from .extract.document import Line
from .extract.text import BLANK_CELL
from .labels import LabelIndex, Match
from .normalize import (
    compact,
    compatibility_forms,
    is_trailing_value,
    label_key,
    nfkc,
    parse_value,
    split_trailing_values,
    to_cell,
    value_shaped,
)
from .placement import Anchors, Offsets, Placement, Slot, Span, learn, make_slot, place
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
REQUESTS_ROWS = {r.key: r for r in REQUESTS.rows}
# header words that name groups of columns, not columns (法人或其他组织 over five applicant columns)
_GROUP_WORDS = frozenset(label_key(g) for t in TABLES for g in t.groups) | {"信息内容"}

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
_HEADING_REGION = {h: region for region, headings in _HEADINGS.items() for h in headings}
# no heading of one region begins another region's: the longest heading a key begins with decides
_HEADING_START = re.compile("|".join(re.escape(h) for h in sorted(_HEADING_REGION, key=len, reverse=True)))


@dataclass(slots=True)
class Item:
    kind: str  # "label" | "values" | "text" | "header"
    line: int
    match: Match | None = None
    text: str = ""
    values: list[Slot] = field(default_factory=list)
    hard: bool = False
    label: Slot | None = None


@dataclass
class ParsedRow:
    row: Row
    values: list[Slot]
    line: int
    label: Slot | None = None


@dataclass
class TableResult:
    table: Table
    present: bool = False  # heading, header or rows seen
    rows: dict[str, ParsedRow] = field(default_factory=dict)
    template: str | None = None
    cells: dict[str, int | float | None] = field(default_factory=dict)
    origins: dict[str, tuple[int, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    undecided: set[str] = field(default_factory=set)  # cells whose column or value could not be decided (null)
    unattributed: int = 0  # groups of values given to no row
    # printed rows with fewer values than columns (``table.row``; ``appeals``: its one row)
    printed_short: set[str] = field(default_factory=set)


# ---------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------


def _heading(line: Line) -> str | None | bool:
    """The region a heading line opens (None: tables end), or False for no heading."""
    cells = line.cells if len(line.cells) <= 3 else [c for c in line.cells if c.strip()]
    if not cells or len(cells) > 3:
        return False
    raw = "".join(cells)
    return False if len(raw) > 60 or not _heading_hint().search(raw) else _heading_text(raw)


@cache
def _heading_hint() -> re.Pattern:
    """A character every heading's text holds: the last of each heading (a key beginning
    with a heading holds all of it) and of the other signs :func:`_heading_text` takes,
    with every compatibility form NFKC turns into one (Kangxi radicals, compatibility
    ideographs, enclosed and half-width forms)."""
    signs = {h[-1] for h in _HEADING_REGION} | {"第", "系", "况"}  # 第二十条第…, 勾稽关系, 申请人情况
    forms = compatibility_forms(lambda text: any(sign in text for sign in signs))
    return re.compile("[" + "".join(sorted(signs)) + forms + "]")


@lru_cache(maxsize=16384)
def _heading_text(raw: str) -> str | None | bool:
    raw = nfkc(raw).strip()
    key = label_key(raw)
    if not key or len(key) > 40:
        return False
    # "（二）收到和处理政府信息公开申请情况" is a paragraph heading in 总体情况;
    # the tables' own headings are numbered "二、" (or not at all).
    sub_heading = raw.startswith("(")
    m = _HEADING_START.match(key)
    if m is not None and len(key) <= m.end() + _HEADING_SLACK:
        region = _HEADING_REGION[m.group()]
        if not (sub_heading and region is not None):
            return region
    if key.startswith("第二十条第") and len(key) <= 10:
        return "disclosure"
    if "勾稽关系" in key or key == "申请人情况":
        return "requests"
    return False


_STARTS = re.compile("信息内容|规章|新收|自然人|行政复议")  # words a table's own first row holds


def _table_start(line: Line, current: str | None) -> str | bool:
    """A table that begins with its own first row, its heading lost or never printed."""
    if current == "appeals":
        return False  # the last table: nothing starts after it
    if not _STARTS.search(line.text):
        return False
    cells = [c for c in line.cells if c.strip()]
    keys = [label_key(c) for c in cells]
    if current is None:
        if "信息内容" in keys and any(k in keys for k in ("本年制发件数", "本年新制作数量")):
            return "disclosure"
        if keys and keys[0] in ("规章",) and len(cells) > 1:
            return "disclosure"
    if current in (None, "disclosure"):
        # the requests table announces itself by its first row when its heading is lost
        if any("新收" in k and k.startswith("本年新收政府信息公开申请") for k in keys):
            return "requests"
        if "自然人" in keys and any(k.startswith("法人或其他组织") for k in keys):
            return "requests"
    if current == "requests":
        key = compact(line.text)
        if "行政复议" in key and "行政诉讼" in key and len(key) <= 40:
            return "appeals"
        if keys and keys[0] == "行政复议":  # the appeals header's first cell, one cell per line
            return "appeals"
    return False


def split_regions(lines: list[Line]) -> dict[str, list[tuple[int, Line]]]:
    regions: dict[str, list[tuple[int, Line]]] = {"disclosure": [], "requests": [], "appeals": []}
    order = ["disclosure", "requests", "appeals"]
    current: str | None = None
    reached = -1
    hint, starts = _heading_hint().search, _STARTS.search
    for i, line in enumerate(lines):
        cells = line.cells
        if len(cells) == 1:  # most lines, a paragraph or a cell: _heading's tests, inline
            text = cells[0]
            region = _heading_text(text) if len(text) <= 60 and hint(text) else False
        else:
            text = line.text
            region = _heading(line)
        if region is False and current != "appeals" and starts(text):
            region = _table_start(line, current)
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


def _slots(lineno: int, line: Line, table: Table) -> list[Slot]:
    """The line's cells as slots; cells holding several numbers (``'50 0'``), numbers
    printed after a label in the same cell (``'规章 1 0 11'``) and header words run
    together (``'商业企业 科研机构'``) are split, each part keeping its share of the
    cell's extent on a printed line, or the whole cell's extent in a grid."""
    cells, spans, line_space = line.cells, line.spans, line.space
    if len(cells) == 1 and (" " not in cells[0] or _one_value(cells[0], line)):  # most lines of a table printed one cell per line
        cell, span = cells[0], spans[0] if spans else None
        filled = bool(cell) and not cell.isspace()
        return [Slot(cell, lineno, 0, span, line_space if span is not None else None, "grid" if line.grid else "soft", filled)]
    out: list[Slot] = []
    append = out.append
    origin = "grid" if line.grid else "soft" if len(cells) == 1 else "free"
    if spans is None or len(spans) < len(cells):
        spans = [*(spans or ()), *[None] * (len(cells) - len(spans or ()))]
    for k, (cell, span) in enumerate(zip(cells, spans)):
        space = line_space if span is not None else None
        parts = _split_cell(cell, table) if " " in cell and not _one_value(cell, line) else None
        if parts is None or len(parts) == 1:
            append(Slot(cell, lineno, k, span, space, origin, bool(cell) and not cell.isspace()))
            continue
        for text, start, end in parts:
            # where a part sits inside a printed line's cell is where it was printed; inside a
            # grid's cell it says nothing about columns: the part keeps the whole cell's extent
            sub = span
            if span is not None and not line.grid:
                width = (span[1] - span[0]) / len(cell)
                sub = (span[0] + start * width, span[0] + end * width)
            if line.monospace and parse_value(text).kind != "text":
                sub = None  # a number one space from its neighbour in plain text: no column of its own
            out.append(make_slot(text, lineno, k, sub, space if sub is not None else None, "run" if line.monospace else "part"))
    return out


def _one_value(cell: str, line: Line) -> bool:
    """A delimited cell holding numbers and no words (``3 643``, ``12 5``) is one value, read or
    not: split, one number of it would take the next column's place, as a thousands space
    cannot be told from two numbers run together. Only a label's cell is split (``规章 1 0 11``)."""
    return line.grid and value_shaped(cell) is not None


def _split_cell(cell: str, table: Table) -> list[tuple[str, int, int]]:
    if " " not in cell or parse_value(cell).kind != "text":
        # one token, or one value as a whole (``0 |``, ``5 件``): its tokens are a sign, a
        # number, a unit or a bar, never several numbers or header words
        return [(cell, 0, len(cell))]
    # every way a text cell splits ends in a number, a dash or a header word: most labels end in none
    last = cell.rsplit(None, 1)[-1]
    key = label_key(last)
    if not (is_trailing_value(last) or _column_named(table.key, key) or key in _GROUP_WORDS):
        return [(cell, 0, len(cell))]
    tokens, pos = [], 0
    for token in cell.split():
        start = cell.index(token, pos)
        tokens.append((token, start, start + len(token)))
        pos = start + len(token)
    if len(tokens) > 1 and all(parse_value(t).kind == "number" for t, _, _ in tokens):
        return tokens
    if len(tokens) > 1 and all(
        _column_named(table.key, key) or key in _GROUP_WORDS for key in (label_key(t) for t, _, _ in tokens)
    ):
        return tokens
    words = _trailing_header_words(cell, tokens, table)
    if words:
        return words
    rest, trailing = split_trailing_values(cell)
    if trailing and rest:
        kept = tokens[-len(trailing) :]
        return [(rest, 0, len(rest)), *kept]
    return [(cell, 0, len(cell))]


def _trailing_header_words(cell: str, tokens: list[tuple[str, int, int]], table: Table) -> list[tuple[str, int, int]]:
    """Header words printed right after a long note in one run (``（本列数据的勾稽关系为…）
    自然人``): the note, then each word; nothing when the text before them could be a row's label."""
    k = len(tokens)
    while k > 0 and _column_named(table.key, label_key(tokens[k - 1][0])):
        k -= 1
    if k == len(tokens) or k == 0:
        return []
    note = cell[: tokens[k - 1][2]]
    if len(label_key(note)) < _NOTE_CHARS or INDEX[table.key].match(note) is not None:
        return []
    return [(note, 0, len(note)), *tokens[k:]]


_NOTE_CHARS = 12  # a note above the header is a sentence; a row's label split at a space is shorter


def _header_columns(table: Table, texts: list[str]) -> list[str | None]:
    """The column each header cell names (None when it names none)."""
    return [_column_named(table.key, label_key(text)) for text in texts]


def _column_named(table: str, key: str) -> str | None:
    """The column a header cell's key names: a column label, or its beginning (a header
    wrapped over lines: 本年新 / 制作数量), the template's first such column."""
    beginnings, whole = _COLUMN_KEYS[table]
    return beginnings.get(key) if len(key) >= 3 else whole.get(key)


def _column_keys(table: Table) -> tuple[dict[str, str], dict[str, str]]:
    """Every beginning (three characters or more) of every printed form of a column's label,
    and every whole label, as keys → the first column in the template's order they name."""
    beginnings: dict[str, str] = {}
    whole: dict[str, str] = {}
    for column in table.columns:
        for variant in column.labels:
            key = label_key(variant)
            whole.setdefault(key, column.key)
            for n in range(3, len(key) + 1):
                beginnings.setdefault(key[:n], column.key)
    return beginnings, whole


_COLUMN_KINDS = {t.key: {column.key: column.kind for column in t.columns} for t in TABLES}
_COLUMN_KEYS = {t.key: _column_keys(t) for t in TABLES}


def _items(table: Table, lines: list[tuple[int, Line]]) -> list[Item]:
    index = INDEX[table.key]
    items: list[Item] = []
    labelled = table is not APPEALS
    read: list[tuple[int, Line, list[Slot], list[str]]] = []
    shaped: list[int] = []  # lines of one cell that could stand in a number's place
    for lineno, line in lines:
        if line.filler:
            continue
        slots = _slots(lineno, line, table)
        kinds = _kinds(slots, labelled)
        if len(kinds) == 1 and kinds[0] == "text" and value_shaped(slots[0].text):
            shaped.append(len(read))
        read.append((lineno, line, slots, kinds))
    _unread_between(read, shaped)
    for lineno, line, slots, kinds in read:
        _line_items(items, index, table, lineno, line, slots, kinds)
    return _merge_soft(_demote_group_rows(items))


def _unread_between(read: list[tuple[int, Line, list[Slot], list[str]]], shaped: list[int]) -> None:
    """One cell per line: a cell that could stand in a number's place (``12(1)``, ``（5）``;
    the lines ``shaped``) just before a value (or before such a cell) is a value, unread: it
    keeps its place, and the values after it keep theirs."""
    for k in reversed(shaped):
        after = read[k + 1][3] if k + 1 < len(read) else None
        if after is not None and len(after) == 1 and after[0] != "text":
            read[k][3][0] = "unread"


def _kinds(slots: list[Slot], labelled: bool) -> list[str]:
    """What each cell of a line is: a number, a blank or text; or, beside other cells, a value
    that does not read as a number ("unread": ``12(1)``, or ``（5）`` with no words after it
    and, in a table of labelled rows (``labelled``), after a row's label or value, where it
    numbers no label), which keeps its column."""
    if len(slots) == 1:
        return [parse_value(slots[0].text).kind]
    kinds = [parse_value(s.text).kind for s in slots]
    if "text" in kinds:
        words_after = False
        for k in reversed([k for k, kind in enumerate(kinds) if kind == "text"]):
            shape = value_shaped(slots[k].text)
            if shape == "value" or (shape == "list number" and not words_after and not (labelled and _first(slots, k))):
                kinds[k] = "unread"
            else:
                words_after = True
    return kinds


def _first(slots: list[Slot], k: int) -> bool:
    """Whether nothing is printed before the ``k``-th cell (a serial number's place)."""
    return not any(s.filled for s in slots[:k])


def _runs(slots: list[Slot], kinds: list[str]) -> list[tuple[list[Slot], list[str]]]:
    """A line's cells in runs of text then values: one run for a row (its label, the tail of
    a wrapped label or a note, its values); several where a converter joined a whole table
    into one line (every cell of it between tabs), each text after a number starting the
    next row."""
    runs, start, seen_value = [], 0, False
    for k, (slot, kind) in enumerate(zip(slots, kinds)):
        if kind == "text" and seen_value:
            runs.append((slots[start:k], kinds[start:k]))
            start, seen_value = k, False
        elif kind != "text" and slot.filled:
            seen_value = True
    runs.append((slots[start:], kinds[start:]))
    return runs


def _line_items(
    items: list[Item], index: LabelIndex, table: Table, lineno: int, line: Line, slots: list[Slot], kinds: list[str]
) -> None:
    """The items of a line's cells: of each of its runs (see :func:`_runs`)."""
    if len(kinds) == 1 and kinds[0] != "text":  # a value on a line of its own
        items.append(Item("values", lineno, values=slots, hard=line.hard))
        return
    text_at = [k for k, kind in enumerate(kinds) if kind == "text"]
    if text_at and text_at[-1] >= len(text_at):  # a cell that is no text before the last text
        runs = _runs(slots, kinds)
        if len(runs) > 1:
            lead_slots, lead_kinds = runs[0]
            if "text" not in lead_kinds and sum(1 for s in lead_slots if s.filled) == 1:
                runs = runs[1:]  # one number before the line's words: a serial (序号), no row's value
            for run_slots, run_kinds in runs:
                _line_items(items, index, table, lineno, line, run_slots, run_kinds)
            return
    label_at, match = -1, None
    for k in text_at:
        m = index.match(slots[k].text)
        if m is not None and (m.row is not None or match is None or match.row is None):
            label_at, match = k, m
        elif match is None:
            label_at = k
    texts = [slots[k].text for k in text_at]
    if label_at >= 0:
        # cells after the label: its values (numbers, blanks, placeholders); other text
        # there is the tail of a wrapped label or a note, not a value (text after a number
        # starts the next run)
        values = [v for v, kind in zip(slots[label_at + 1 :], kinds[label_at + 1 :]) if kind != "text"]
        if match is not None and match.row is not None:
            items.append(Item("label", lineno, match, slots[label_at].text, values, bool(values), slots[label_at]))
            return
        if any(_column_named(table.key, label_key(text)) for text in texts):
            items.append(Item("header", lineno, text=" ".join(texts), values=[slots[k] for k in text_at]))
        else:
            items.append(Item("text", lineno, match, " ".join(texts)))
        if any(v.filled for v in values):
            # Values beside unknown text: the tail of a wrapped label, or a row the
            # national template does not have (a provincial extra row).
            items.append(Item("values", lineno, text=" ".join(texts), values=values, hard=True))
        return
    # Only values on this line: a row of values (hard), or one cell on its own (soft).
    hard = line.hard or sum(1 for s in slots if s.filled) > 1
    items.append(Item("values", lineno, values=slots, hard=hard))


def _demote_group_rows(items: list[Item]) -> list[Item]:
    """``（六）其他处理`` is a row of its own in the 2019 layout and the heading of three
    sub-rows in the 2021 one. Where its sub-rows are printed, it is their heading: values
    printed beside it (its rowspan cell sits next to a sub-row) belong to that sub-row."""
    seen = {item.match.row.key for item in items if item.kind == "label"}
    out: list[Item] = []
    for item in items:
        row = item.match.row if item.kind == "label" else None
        if row is not None and any(a in seen and REQUESTS_ROWS[a].group == row.label for a in row.alternative_of):
            out.append(Item("text", item.line, item.match, item.text))
            if item.values:
                out.append(Item("values", item.line, text=item.text, values=item.values, hard=True))
            continue
        out.append(item)
    return out


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


def _attribute(result: TableResult, items: list[Item], n_columns: int) -> dict[str, ParsedRow]:
    table = result.table
    rows: dict[str, ParsedRow] = {}
    labels_seen: dict[str, Item] = {}
    pending: list[tuple[Item, Item | None]] = []  # (orphan values, label waiting just above)
    waiting: Item | None = None
    printed: list[tuple[int, str]] = []  # the lines of text since the last label or values
    own_label: set[int] = set()  # values printed after text that is no label of the template's
    out_of_order = False  # values came after column names that came after a label
    header_after_label = False
    for item in items:
        if item.kind == "label":
            header_after_label = False
            printed = []
            key = item.match.row.key
            if any(v.filled for v in item.values) and key not in rows:
                rows[key] = ParsedRow(item.match.row, item.values, item.line, item.label)
                waiting = None
            elif not any(v.filled for v in item.values):
                labels_seen.setdefault(key, item)
                waiting = item if key not in rows else None
            else:
                waiting = None
        elif item.kind == "values":
            if _is_stray(item, n_columns) or not any(v.filled for v in item.values):
                if waiting is not None and not item.hard and not waiting.hard:
                    # the next cells of a row printed one cell per line; a row printed with
                    # its (blank) cells on its own line has none to come
                    waiting.values.extend(item.values)
                continue  # a page number, or the empty cells a merged header leaves
            if not _belongs(table, waiting, printed, item):
                waiting = None  # values beside a label of their own (其中：…, a provincial row)
                own_label.add(id(item))
            printed = []
            pending.append((item, waiting))
            out_of_order |= header_after_label
            waiting = None
        elif item.kind == "header":
            # column names between a label and values: the text is not in the table's order
            # (a PDF's text read block by block), so the values after them are not the label's
            waiting = None
            header_after_label = bool(labels_seen or rows)
        else:  # text: the continuation of a wrapped label keeps it waiting
            printed.append((item.line, item.text))

    waited = {w.match.row.key for _, w in pending if w is not None}
    for key, item in labels_seen.items():
        row = item.match.row
        # a label printed with no cells: a blank row (unless its values come later, or the
        # label is the heading of the sub-rows that stand in for it: （六）其他处理)
        if key not in rows and key not in waited and not _heads_its_alternatives(row, labels_seen, rows):
            rows[key] = ParsedRow(row, item.values, item.line, item.label)
    if not pending:
        return rows
    local_ok = all(w is not None for _, w in pending) and len({id(w) for _, w in pending}) == len(pending)
    if local_ok:
        for values, label in pending:
            row = label.match.row
            if row.key not in rows or not any(v.filled for v in rows[row.key].values):
                rows[row.key] = ParsedRow(row, values.values, values.line, label.label)
        return rows
    # Values printed apart from every label (a shattered table) follow the template's
    # order. Values beside or after unknown text are left out of this: they may be a row
    # the national template does not have.
    empty = [r for r in table.rows if r.key in labels_seen and not _has_values(rows, r) and not _has_alternative(r, rows)]
    beside_text = any(values.text or id(values) in own_label for values, _ in pending)
    if len(empty) == len(pending) and not out_of_order and not beside_text:
        for (values, _), row in zip(pending, empty):
            rows[row.key] = ParsedRow(row, values.values, values.line, None)
        return rows
    for values, label in pending:
        if label is not None and not _has_values(rows, label.match.row):
            rows[label.match.row.key] = ParsedRow(label.match.row, values.values, values.line, label.label)
        else:
            result.unattributed += 1
            shown = " ".join(v.text for v in values.values if v.filled)
            result.findings.append(
                Finding(
                    "row.unattributed",
                    "warning",
                    f"{table.key}.?",
                    f"第 {values.line + 1} 行的一组数值（{shown}）无法对应到{table.title}的任何行",
                )
            )
    return rows


def _belongs(table: Table, label: Item | None, printed: list[tuple[int, str]], values: Item) -> bool:
    """Whether values printed after a label with no cells of its own (``label``; None: after
    other values) are its cells, or stand for a row of the template's: no text came between
    them or beside them, or what came is the rest of the label wrapped over lines (group
    labels and their fragments aside: a PDF prints a rowspan group cell, or its pieces, on
    any line of its rows)."""
    tail = _without_group_pieces(table, _without_groups(table, values.text)) if values.text else ""
    between = "".join(
        key for line, text in printed if line != values.line and not _fragment(table, key := _without_groups(table, text))
    )
    if not tail and not between:
        return True
    if label is None:
        return False
    row = label.match.row
    if not tail:
        return _continues(row, label.text, between)
    return _continues(row, label.text, tail) or _continues(row, label.text + between, tail)


_PIECE = 3  # a piece of a group label this long is no label of a row's own (其他 may be)


def _without_group_pieces(table: Table, key: str) -> str:
    """``key`` less a piece of a group label at its start or its end (本年度办理结 of a
    wrapped 三、本年度办理结果 printed beside a row's values)."""
    groups = _GROUP_KEYS[table.key]
    for n in range(len(key), _PIECE - 1, -1):
        if any(key[:n] in g for g in groups):
            key = key[n:]
            break
    for n in range(len(key), _PIECE - 1, -1):
        if any(key[-n:] in g for g in groups):
            return key[:-n]
    return key


def _fragment(table: Table, key: str) -> bool:
    """Nothing, or a piece of a group label (他处理 of （六）其他处理)."""
    return not key or any(key in group for group in _GROUP_KEYS[table.key])


def _without_groups(table: Table, text: str) -> str:
    """``text`` as a key, less the group labels in it: a rowspan group cell (三、本年度办理结果)
    is printed on whichever line of its rows a PDF or a dump puts it."""
    key = label_key(text)
    for group in _GROUP_KEYS[table.key]:
        key = key.replace(group, "")
    return key


# the groups a table's rows are printed in (（六）其他处理 heads its sub-rows in the 2021 layout)
_GROUP_KEYS = {t.key: {*INDEX[t.key].groups, *(label_key(r.group) for r in t.rows if r.group)} for t in TABLES}


def _continues(row: Row, label: str, tail: str) -> bool:
    """Whether ``tail``, printed after ``label``, is the rest of the row's label wrapped over
    lines: some end of the two begins one of the row's labels, taking in some of ``label``
    (``5.要求行政机关确认或重新出`` + ``具已获取信息``), rather than the label followed by a
    row the template does not have (``行政强制`` + ``行政征收``, ``一、本年新收…`` + ``其中：…``)."""
    key = label_key(label + tail)
    last = len(key) - len(label_key(tail))  # where the tail starts in the key
    return any(full.startswith(key[start:]) for full in _LABEL_KEYS[row.key] for start in range(last))


_LABEL_KEYS = {row.key: tuple(label_key(label) for label in row.labels) for t in TABLES for row in t.rows}


def _heads_its_alternatives(row: Row, labels_seen: dict, rows: dict) -> bool:
    """``（六）其他处理`` printed above its three sub-rows is their heading, not a row of its own."""
    return any((a in labels_seen or a in rows) and row.label == REQUESTS_ROWS[a].group for a in row.alternative_of)


def _has_values(rows: dict[str, ParsedRow], row: Row) -> bool:
    return row.key in rows and any(v.filled for v in rows[row.key].values)


def _is_stray(item: Item, n_columns: int) -> bool:
    """A lone number on a line of its own inside a wide table: a page number or footnote mark."""
    return not item.hard and len([v for v in item.values if v.filled]) == 1 and len(item.values) == 1 and n_columns >= 5


def _has_alternative(row: Row, rows: dict[str, ParsedRow]) -> bool:
    return any(_has_values(rows, Row(alt, "")) for alt in row.alternative_of)


# ---------------------------------------------------------------------------
# Values → cells
# ---------------------------------------------------------------------------


def _explicit_blank(slot: Slot) -> bool:
    """A cell printed blank: an empty cell between separators or of a grid, or a line of
    its own holding only a non-breaking space. An empty line in one-cell-per-line text is
    not one (converters leave empty lines between rows)."""
    return not slot.filled and (slot.origin != "soft" or slot.text == BLANK_CELL)


def _writes_blanks(items: list[Item]) -> bool:
    """One cell per line, with blank cells written as lines of their own somewhere in the table."""
    return any(v.origin == "soft" and _explicit_blank(v) for item in items for v in item.values)


def _separated(slots: list[Slot], soft_blanks: bool) -> bool:
    """Does this row's rendering keep its empty cells as cells? Then cell order is position:
    cells between separators or of a grid, a row with a cell printed blank, or a row of
    one-cell lines in a table that writes blank cells as lines. Numbers split out of a
    cell at spaces, or placed by geometry alone, are not: and a row holding such numbers
    is not separated even among grid cells (``规章 5 7 | | |``: which empty cell stood
    between them is not known)."""
    if any(s.origin in ("part", "run") and s.filled for s in slots):
        return False
    if any(s.origin == "grid" or _explicit_blank(s) for s in slots):
        return True
    return soft_blanks and all(s.origin == "soft" for s in slots if s.filled)


def _cut_off(values: list[Slot], n: int, last_line: int) -> list[Slot]:
    """A number on the document's very last line beyond a full row is the start of the
    next label, cut off where the text ends (``2`` of ``2.其他法律…``); not where a cell of
    the row holds several numbers (``3 025``: parts of one cell, or one number spaced)."""
    filled = [v for v in values if v.filled]
    whole = len({(v.line, v.cell) for v in filled}) == len(filled)
    if len(filled) > n and whole and all(v.line >= last_line for v in filled[n:]):
        extra = {id(v) for v in filled[n:]}
        return [v for v in values if id(v) not in extra]
    return values


HeaderCell = tuple[int, tuple[int, str], Span, bool]  # line, (space, column), extent, loose


def _header_cells(table: Table, items: list[Item]) -> list[HeaderCell]:
    """Every header cell that names a column, in printed order. ``loose``: a label split
    out of words run together in plain text (``本年制发件数 本年废止件数``), whose extent
    can show that rows do not sit under it but not where a column is."""
    out = []
    for item in items:
        if item.kind != "header":
            continue
        named = _header_columns(table, [s.text for s in item.values])
        for slot, column in zip(item.values, named):
            if column is not None and slot.span is not None and slot.space is not None:
                out.append((item.line, (slot.space, column), slot.span, slot.origin == "run"))
    return out


def _header_before(cells: list[HeaderCell], line: int) -> tuple[dict[tuple[int, str], Span], set[tuple[int, str]]]:
    """The header in force at ``line`` and its loose cells: for each column, the last header
    cell printed above it (the disclosure table repeats its header, with other spans, in
    every section); a column whose header comes only below is taken from there."""
    out: dict[tuple[int, str], Span] = {}
    loose: set[tuple[int, str]] = set()
    for at, key, span, is_loose in cells:
        if at < line or key not in out:
            out[key] = span
            (loose.add if is_loose else loose.discard)(key)
    return out, loose


def _requests_unplaced(result: TableResult, keys: list[str], why: str) -> None:
    """表三's columns cannot be told apart: these cells null, and said why."""
    _undecided(result, keys)
    result.findings.append(Finding("row.unplaced", "warning", "requests.*.*", f"{why}：表三各单元格记为空，不作猜测"))


def _undecided(result: TableResult, keys: list[str]) -> None:
    """These cells printed, their values' columns not known: null, and said so in coverage."""
    for key in keys:
        result.cells[key] = None
        result.undecided.add(key)


def _write(
    result: TableResult, parsed: ParsedRow, placement: Placement, columns: tuple[str, ...], unit: str | None = None
) -> list[str]:
    """Write one row's cells (``unit``: the money unit its header prints); return the
    columns the row did not print."""
    table = result.table
    prefix = f"{table.key}.{parsed.row.key}"
    if placement.reason is not None:
        _undecided(result, [f"{prefix}.{column}" for column in columns])
        shown = " ".join(v.text for v in parsed.values if v.filled)
        result.findings.append(
            Finding("row.unplaced", "warning", f"{prefix}.*", f"“{parsed.row.label}”一行（{shown}）：{placement.reason}")
        )
        return []
    kinds = _COLUMN_KINDS[table.key]
    placed = {f"{prefix}.{column}": (slot, kinds[column]) for column, slot in placement.cells.items()}
    _put(result, placed, f"{prefix}.*", f"“{parsed.row.label}”一行", unit)
    return list(placement.missing)


def _put(result: TableResult, placed: dict[str, tuple[Slot, str]], where: str, what: str, unit: str | None = None) -> None:
    """Write placed cells (key → its slot and the column's kind; ``unit``: the money unit the
    header prints). A cell in a value's place that reads as no number is null and undecided,
    said in one ``cell.unreadable`` finding for ``where`` (``what``: the row or table)."""
    unread: list[str] = []
    for key, (slot, kind) in placed.items():
        value = parse_value(slot.text)
        result.cells[key] = to_cell(value, kind, unit)
        result.origins[key] = (slot.line, slot.cell)
        if value.kind == "text":
            result.undecided.add(key)
            unread.append(slot.text)
    if unread:
        shown = "、".join(f"“{t}”" for t in unread)
        message = f"{what}的 {shown} 印在数值的位置，却不是可读的数值：记为空，不作猜测"
        result.findings.append(Finding("cell.unreadable", "warning", where, message))


@dataclass
class _Rows:
    """A table's attributed rows, ready to be placed once every table has taught where its
    columns are (:func:`parse_tables`)."""

    result: TableResult
    rows: list  # (row, parsed, columns, values, separated) in printed order
    header: list[HeaderCell]
    anchors: Anchors
    offsets: Offsets = field(default_factory=Offsets)
    above: dict[int, tuple[dict[tuple[int, str], Span], set[tuple[int, str]]]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)  # row key → the money unit its header prints
    order_assumed: bool = False  # the columns' order is the template's, no position told it

    @property
    def needs_positions(self) -> bool:
        """Positions and offsets are only needed when some row does not fill its columns."""
        return any(sum(1 for v in values if v.filled) != len(columns) for _, _, columns, values, _ in self.rows)


def _rows(result: TableResult, items: list[Item], columns_of, last_line: int, misleading: set[int]) -> _Rows:
    table = result.table
    soft_blanks = _writes_blanks(items)
    rows = []
    for row in table.rows:
        parsed = result.rows.get(row.key)
        if parsed is not None:
            values = _cut_off(parsed.values, len(columns_of(row)), last_line)
            rows.append((row, parsed, columns_of(row), values, _separated(values, soft_blanks)))
    units = {
        row.key: unit for row, parsed, columns, _, _ in rows if "amount" in columns and (unit := _money_unit(items, parsed.line))
    }
    return _Rows(result, rows, _header_cells(table, items), Anchors(misleading=misleading), units=units)


# the unit an amount's header prints: 采购总金额（元）, 本年收费金额（单位：万元）, or a note of its
# own above the table (（单位：元）)
_AMOUNT_UNIT = re.compile(r"金额(?:单位)?(亿元|万元|元)")  # on compact text: brackets and colons dropped
_UNIT_NOTE = re.compile(r"^单位(亿元|万元|元)$")


def _money_unit(items: list[Item], line: int) -> str | None:
    """The money unit printed by the header nearest above ``line`` that names one."""
    for item in reversed(items):
        if item.line >= line or item.kind not in ("header", "text"):
            continue
        key = compact(item.text)
        found = _AMOUNT_UNIT.search(key) or _UNIT_NOTE.match(key)
        if found:
            return found.group(1)
    return None


def _fill_rows(t: _Rows, last_line: int) -> dict[str, list[str]]:
    """Place every attributed row; return the columns each row did not print."""
    result, anchors, offsets, above = t.result, t.anchors, t.offsets, t.above
    short: dict[str, list[str]] = {}
    for row, parsed, columns, values, separated in t.rows:
        if not parsed.values and (parsed.line >= last_line or result.unattributed):
            continue  # a label cut off at the end, or rows whose values went unattributed: not known blank
        anchors.header, anchors.loose = above.get(parsed.line, ({}, set()))
        if parsed.values:
            placement = place(values, columns, anchors, offsets, parsed.label, separated)
        else:
            placement = Placement({c: make_slot("", parsed.line, -1) for c in columns})
        short[row.key] = _write(result, parsed, placement, columns, t.units.get(row.key))
        if short[row.key]:
            result.printed_short.add(f"{result.table.key}.{row.key}")
    return short


def _learn_positions(t: _Rows) -> None:
    """What the table's rows teach before any is placed (:func:`archive.placement.learn`), and
    the header in force above each row (rows in printed order, the header cells too)."""
    if t.header:
        for line in sorted({parsed.line for _, parsed, *_ in t.rows}):
            t.above[line] = _header_before(t.header, line)
    for _, parsed, columns, values, separated in t.rows:
        learn(values, columns, t.anchors, t.offsets, separated)
        if t.header:
            filled = [v for v in values if v.filled]
            if len(filled) == len(columns):
                t.anchors.header, t.anchors.loose = t.above[parsed.line]
                t.anchors.check_header(columns, filled)


def _report_short_rows(result: TableResult, short: dict[str, list[str]]) -> None:
    """One finding per set of missing columns, naming the rows (a text extractor
    usually drops the same cell from many rows)."""
    table = result.table
    by_missing: dict[tuple[str, ...], list[str]] = {}
    for row_key, missing in short.items():
        if missing:
            by_missing.setdefault(tuple(missing), []).append(row_key)
    for missing, row_keys in by_missing.items():
        if len(row_keys) == 1:
            where = f"{table.key}.{row_keys[0]}.*"
        else:
            where = f"{table.key}.*.{missing[0] if len(missing) == 1 else '*'}"
        labels = "、".join(table.row(k).label for k in row_keys)
        result.findings.append(
            Finding(
                "row.short",
                "warning",
                where,
                f"{len(row_keys)} 行少印了“{'、'.join(table.column(c).label for c in missing)}”列，缺失的单元格不计：{labels}",
            )
        )


def _printed(parsed: ParsedRow) -> int:
    """Cells a row prints, padding after its last value not counted."""
    values = list(parsed.values)
    while values and not values[-1].filled:
        values.pop()
    return len(values)


def _disclosure_template(items: list[Item], rows: dict[str, ParsedRow]) -> str:
    header = compact(" ".join(i.text for i in items if i.kind in ("text", "header")))
    votes = {t: sum(m in header for m in markers) for t, markers in DISCLOSURE_MARKERS.items()}
    if "other_services" in rows or "procurement" in rows:
        votes["2019"] += 2
    if votes["2019"] != votes["2021"]:
        return max(votes, key=votes.get)
    # No header words: a decision row printed with three cells is the 2019 layout.
    counts = [_printed(rows[k]) for k in ("licensing", "penalty", "coercion") if k in rows]
    return "2019" if counts and max(counts) >= 3 else "2021"


def _requests_columns(items: list[Item], rows: dict[str, ParsedRow]) -> tuple[tuple[str, ...], bool]:
    """The requests table's columns from its own header: 总计 printed or not, and — where
    the header's cells have positions — printed before or after the applicants; and whether
    positions told where the applicants and 总计 are (else the template's order is taken)."""
    first_row = next((i for i, it in enumerate(items) if it.kind == "label"), len(items))
    head = [it for it in items[:first_row] if it.kind in ("text", "header")]
    header = compact(" ".join(it.text for it in head))
    # the header decides when it names the applicants' columns; its caption alone (申请人情况,
    # the rest of the header lost or printed as a picture) says nothing of a total column
    names_total = any(label in header for label in REQUESTS.column("total").labels)
    if header and ("自然人" in header or ("申请人" in header and names_total)):
        has_total = names_total
    else:
        has_total = max((_printed(r) for r in rows.values()), default=0) >= 7
    cells = _header_cells(REQUESTS, head)
    printed = _printed_order(cells)
    applicants = printed or APPLICANT_COLUMNS
    if not has_total:
        return applicants, printed is not None
    found = {key: span for _, key, span, _ in cells}
    for space in {space for space, _ in found}:
        total, person = found.get((space, "total")), found.get((space, "natural_person"))
        if total and person and total[1] <= person[0]:
            return ("total", *applicants), True
        if total and person and person[1] <= total[0]:
            return (*applicants, "total"), printed is not None
    return (*applicants, "total"), False


def _printed_order(cells: list[HeaderCell]) -> tuple[str, ...] | None:
    """The applicants' columns in the order the header prints them, where it prints each of
    them once, apart, in one space (a province that puts 自然人 last, or the organisations in
    another order); None where the header cannot say."""
    for space in {key[0] for _, key, _, _ in cells}:
        named = [(span, key[1]) for _, key, span, loose in cells if key[0] == space and key[1] in APPLICANT_COLUMNS and not loose]
        if sorted(c for _, c in named) != sorted(APPLICANT_COLUMNS):
            continue
        named.sort()
        if all(a[1] <= b[0] for (a, _), (b, _) in zip(named, named[1:])):
            return tuple(c for _, c in named)
    return None


def _parse_disclosure(lines, last_line: int, misleading: set[int]) -> tuple[TableResult, _Rows | None]:
    result = TableResult(DISCLOSURE, present=bool(lines))
    items = _items(DISCLOSURE, lines)
    result.rows = _attribute(result, items, 3)
    if not result.rows:
        return result, None
    template = _disclosure_template(items, result.rows)
    result.template = template

    def columns_of(row: Row) -> tuple[str, ...]:
        if template in row.templates:
            return row.column_keys(template, DISCLOSURE)
        # a row of the other layout printed under this one's header (其他对外管理服务事项 in a
        # 2021 table, beside 行政许可): the columns its group's rows have here
        peer = next((r for r in DISCLOSURE.rows if r.group == row.group and template in r.templates), None)
        return (peer or row).column_keys(template if peer else "2019", DISCLOSURE)

    return result, _rows(result, items, columns_of, last_line, misleading)


def _parse_requests(lines, last_line: int, misleading: set[int]) -> tuple[TableResult, _Rows | None]:
    result = TableResult(REQUESTS, present=bool(lines))
    items = _items(REQUESTS, lines)
    result.rows = _attribute(result, items, 7)
    if not result.rows:
        return result, None
    columns, placed = _requests_columns(items, result.rows)
    split_other = any(k in result.rows for k in ("other_no_correction", "other_no_fee", "other_other"))
    result.template = "2021" if split_other else None
    in_source_order = {lineno for lineno, line in lines if line.grid and line.page is None and len(line.cells) == 1}
    if _order_contradicted(items, columns, in_source_order):
        keys = [f"requests.{key}.{column}" for key in result.rows for column in columns]
        _requests_unplaced(result, keys, "表头所印申请人各列的顺序与全国模板不同，又无法从版面确定各列位置")
        return result, None
    rows = _rows(result, items, lambda row: columns, last_line, misleading)
    rows.order_assumed = not placed
    return result, rows


_ORGANISATIONS = APPLICANT_COLUMNS[1:]  # the columns printed under 法人或其他组织


def _order_contradicted(items: list[Item], columns: tuple[str, ...], in_source_order: set[int]) -> bool:
    """Whether the header prints the applicants' columns in another order than ``columns``
    (a province's own order, where no positions told it): the organisations in the order
    they are read, and the columns one line of the header names, left to right (lines
    apart say nothing: 总计 is printed on the caption's line, above 自然人) — except lines of
    one cell each in a table's source order (a search index's cells), where 法人或其他组织
    shares 自然人's header row and is read before it only when printed before it."""
    first_row = next((i for i, it in enumerate(items) if it.kind == "label"), len(items))
    rank = {c: i for i, c in enumerate(columns)} | {"group": columns.index(_ORGANISATIONS[0])}
    organisations: list[str] = []
    cells: list[str] = []  # the applicants named by lines of one cell in source order, as read
    for item in items[:first_row]:
        texts = [v.text for v in item.values] if item.kind == "header" else [item.text] if item.kind == "text" else []
        named = [c for c in map(_named_column, texts) if c is not None]
        if _out_of_order([rank[c] for c in named]):
            return True
        organisations += [c for c in named if c in _ORGANISATIONS and c not in organisations]
        if item.line in in_source_order:
            cells += [c for c in named if c in ("natural_person", "group")]
    if cells[:1] == ["group"] and "natural_person" in cells and rank["group"] > rank["natural_person"]:
        return True
    return _out_of_order([rank[c] for c in organisations])


def _named_column(text: str) -> str | None:
    key = label_key(text)
    return "group" if key == "法人或其他组织" else _column_named(REQUESTS.key, key)


def _out_of_order(ranks: list[int]) -> bool:
    return any(a > b for a, b in zip(ranks, ranks[1:]))


def _appeals_header(anchors: Anchors, items: list[Item]) -> None:
    """The leaf labels (结果维持 … 总计) print once per group: left to right they are
    行政复议, 未经复议直接起诉, 复议后起诉."""
    seen: dict[tuple[int, str], list[tuple[float, float]]] = {}
    loose: set[tuple[int, str]] = set()
    for item in items:
        if item.kind != "header":
            continue
        for slot, column in zip(item.values, _header_columns(APPEALS, [s.text for s in item.values])):
            if column is not None and slot.span is not None and slot.space is not None:
                seen.setdefault((slot.space, column), []).append(slot.span)
                if slot.origin == "run":
                    loose.add((slot.space, column))
    for (space, column), spans in seen.items():
        if len(spans) == len(APPEALS.rows):
            for row, span in zip(APPEALS.rows, sorted(spans)):
                anchors.header[(space, f"{row.key}.{column}")] = span
                if (space, column) in loose:
                    anchors.loose.add((space, f"{row.key}.{column}"))


def _appeals_values(items: list[Item]) -> tuple[list[Slot], bool]:
    """The data cells of the appeals table: from the start of the line that holds its first
    value (blank cells before it on that line included) or, one cell per line, from the
    blank cells of their own lines just before it. A run of empty cells on one line, or
    blank cells before a header word, belong to the merged header, not to the data.
    Also whether header or other text was printed between two of its values: the table's
    one row of data is printed in one piece in reading order, so values interleaved with
    header words (a PDF's text read block by block) are not in the table's order."""
    run: list[Slot] = []  # value cells since the last header or text line
    text_after_value = interleaved = False
    for item in items:
        if item.kind not in ("values", "label"):
            if not any(v.filled for v in run):
                run = []
            else:
                text_after_value = True
            continue
        interleaved |= text_after_value and any(v.filled for v in item.values)
        run.extend(item.values)
    first = next((i for i, v in enumerate(run) if v.filled), None)
    if first is None:
        return run, False
    per_line: dict[int, int] = {}
    for v in run:
        per_line[v.line] = per_line.get(v.line, 0) + 1
    start = first
    if per_line[run[first].line] > 1:  # a row of values: its line's own blank cells before it
        while start > 0 and run[start - 1].line == run[first].line:
            start -= 1
    else:
        while start > 0 and not run[start - 1].filled and per_line[run[start - 1].line] == 1:
            start -= 1
    return run[start:], interleaved


def _parse_appeals(lines, misleading: set[int], learn_others: Callable[[], None]) -> TableResult:
    """The appeals table: one row of fifteen cells. ``learn_others`` has the other tables
    learn where their columns are (and whether their space's header can be trusted)
    before this row is placed by position."""
    result = TableResult(APPEALS, present=bool(lines))
    items = _items(APPEALS, lines)
    slots, interleaved = _appeals_values(items)
    header = compact(" ".join(i.text for i in items if i.kind in ("text", "header")))
    has_header = any(c.label in header for c in APPEALS.columns)
    if not slots and not has_header:
        return result
    keys = tuple(f"{r.key}.{c.key}" for r in APPEALS.rows for c in APPEALS.columns)
    anchors, offsets = Anchors(misleading=misleading), Offsets()
    _appeals_header(anchors, items)
    separated = _separated(slots, _writes_blanks(items))
    learn(slots, keys, anchors, offsets, separated)
    for row in APPEALS.rows:
        result.rows[row.key] = ParsedRow(row, [], 0)
    if not any(s.filled for s in slots):
        for key in keys:
            result.cells[f"appeals.{key}"] = None  # header printed, no data
        return result
    if sum(1 for s in slots if s.filled) != len(keys):
        learn_others()
    placement = place(slots, keys, anchors, offsets, None, separated)
    if interleaved and placement.reason is None:
        placement = Placement(reason="数值与表头文字交错印出（阅读顺序不是表格的顺序），无法确定各数值所在列")
    if placement.reason is not None:
        _undecided(result, [f"appeals.{key}" for key in keys])
        result.findings.append(Finding("row.unplaced", "warning", "appeals.*.*", f"行政复议、行政诉讼表：{placement.reason}"))
        return result
    placed = {f"appeals.{key}": (slot, APPEALS.column(key.split(".")[1]).kind) for key, slot in placement.cells.items()}
    _put(result, placed, "appeals.*.*", "行政复议、行政诉讼表")
    if placement.missing:
        result.printed_short.add("appeals")
        shown = len(keys) - len(placement.missing)
        result.findings.append(
            Finding("row.short", "warning", "appeals", f"行政复议、行政诉讼表只印出 {shown} 个数值（应有 {len(keys)} 个）")
        )
    return result


def parse_tables(regions: dict[str, list[tuple[int, Line]]], last_line: int | None = None) -> list[TableResult]:
    """The three tables, from the regions :func:`split_regions` found. ``last_line``: the
    document's last line (a label there, with nothing after it, was cut off)."""
    if last_line is None:
        last_line = max((i for lines in regions.values() for i, _ in lines), default=0)
    # A space where any table's fully printed rows do not sit under their header (a dump
    # that collapses blank cells) has no header to trust for any table: every table learns
    # before any row is placed.
    misleading: set[int] = set()
    disclosure, disclosure_rows = _parse_disclosure(regions["disclosure"], last_line, misleading)
    requests, requests_rows = _parse_requests(regions["requests"], last_line, misleading)
    pending = [t for t in (disclosure_rows, requests_rows) if t is not None]

    @cache
    def learn_all() -> None:
        for t in pending:
            _learn_positions(t)

    if any(t.needs_positions for t in pending):
        learn_all()
    for t in pending:
        _report_short_rows(t.result, _fill_rows(t, last_line))
        if t.order_assumed and _totals_contradict(t.result):
            why = "表三多数行的总计不等于各类申请人之和，而表头又无法确定各列位置（如总计印在最前）"
            _requests_unplaced(t.result, list(t.result.cells), why)
    return [disclosure, requests, _parse_appeals(regions["appeals"], misleading, learn_all)]


def _totals_contradict(result: TableResult) -> bool:
    """Whether most rows printing a total and some applicant's number do not add up — a
    total below one of its parts, or not their sum where every part is printed: read in the
    template's order where nothing told the order, the columns are elsewhere (a province
    that prints 总计 first, read one cell per line), not an office's arithmetic."""
    informative = failing = 0
    for key in result.rows:
        *parts, total = (result.cells.get(f"requests.{key}.{column}") for column in (*APPLICANT_COLUMNS, "total"))
        printed = [v for v in parts if v is not None]
        if total is None or not any(printed):
            continue  # a row of zeros or blanks adds up in any order: it says nothing of the order
        informative += 1
        failing += total < max(printed) or (len(printed) == len(parts) and abs(sum(parts) - total) > 1e-6)
    return informative >= 3 and failing * 2 > informative
