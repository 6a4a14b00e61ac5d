"""Plain text and markdown: every form a table takes once something turned it into text.

A report's tables reach us as text from search indexes, copy-paste, converters
(html2text, markdownify, pandoc, w3m, lynx, LibreOffice) and text layers. The
same row comes out as:

* pipe rows, with or without the leading and trailing ``|`` (``行政许可 | 131 | |``,
  ``| 规章 | 2 | 0 | 2 |``, ``自然人| 法人或其他组织| 总计``), runs of empty cells
  (``| ||||``), one cell per line ending in ``|`` with a lone ``|`` for an empty
  cell, and rows spread over several lines (``|`` alone, then ``cell |`` lines);
* tab-separated rows (some rows lost their leading tabs);
* box-drawn tables (w3m ``│``/``├─┼``, pandoc grid ``+---+``), whose cells may span
  several physical lines;
* space-aligned columns (``pdftotext -layout``, pandoc simple tables under a
  dash ruler);
* one cell per line, with empty cells as empty lines (LibreOffice) or with
  cells separated by blank lines and an extra blank line for an empty cell
  (lynx, search-index excerpts).

Every form becomes lines of cells. Empty cells stay empty cells, never vanish,
and where the form has geometry (box tables, aligned columns) each cell keeps
its horizontal extent in display columns (``Line.spans``) so the parser can put
a value under the header column it was printed in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .document import Document, Line

_MD_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_VERTICAL = "|│┃║"
_BORDER_CHARS = set("+-=:|─━│┃┌┐└┘├┤┬┴┼╋═║╔╗╚╝╠╣╦╩╬╞╡╪╤╧ ")
_HORIZONTAL = set("-=─━═")
_RULER = re.compile(r"^\s*-{2,}(?:\s+-+)+\s*$")
_LAYOUT_GAP = re.compile(r"[^ \t\u3000](?: {2,}|\u3000+)[^ \t\u3000]")
_BLANKISH = "\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff"
_CELL_SPACE = " " + _BLANKISH  # what is stripped around a cell's text
_CELL_SPACE_TAB = " \t" + _BLANKISH
_BARS_AND_SPACE = "|" + _CELL_SPACE_TAB
BLANK_CELL = "\u00a0"  # a cell printed blank on a line of its own (``&nbsp;``), told apart from an empty line


def width(ch: str) -> int:
    """Display columns of one character (CJK wide and full-width forms take two)."""
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _columns(text: str) -> list[int]:
    """The display column at which each character of ``text`` starts."""
    out, x = [], 0
    for ch in text:
        out.append(x)
        x += width(ch)
    return out


def _is_blankish(text: str) -> bool:
    """A line that is empty on screen but was a cell: ``&nbsp;`` and friends."""
    return bool(text) and not text.strip(" \t" + _BLANKISH) and any(c in _BLANKISH for c in text)


# ---------------------------------------------------------------------------
# Box-drawn tables (w3m, pandoc grid tables)
# ---------------------------------------------------------------------------


_RULE_RUN = re.compile(r"[-=─━═]{3}")  # a line without three rule characters in a row is no border


def _is_border(line: str) -> bool:
    if not _RULE_RUN.search(line):
        return False
    s = line.strip()
    return len(s) >= 3 and set(s) <= _BORDER_CHARS


def _is_box_content(line: str) -> bool:
    s = line.strip()
    return len(s) >= 2 and s[0] in _VERTICAL and s[-1] in _VERTICAL


def _segments(line: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of every stretch between vertical bars, in display columns.
    Stretches drawn with border characters (a horizontal rule under a rowspan) are skipped."""
    cols = _columns(line)
    bars = [i for i, ch in enumerate(line) if ch in _VERTICAL or ch in "├┤┼┬┴╋╠╣╬╞╡╪+"]
    out = []
    for a, b in zip(bars, bars[1:]):
        text = line[a + 1 : b]
        if text and set(text) <= _BORDER_CHARS and any(c in _HORIZONTAL for c in text):
            continue
        out.append((cols[a] + 1, cols[b], text.strip()))
    return out


def _box_lines(block: list[str], space: int) -> list[Line]:
    """A box-drawn table: physical lines between two rules form one row; a cell's
    text is its stretches joined top to bottom (wrapped labels and headers)."""
    lines: list[Line] = []
    row: dict[tuple[int, int], list[str]] = {}

    def flush() -> None:
        if row and any(any(parts) for parts in row.values()):
            spans = sorted(row)
            cells = ["".join(row[s]) for s in spans]
            lines.append(Line(cells, hard=True, spans=[(float(a), float(b)) for a, b in spans], space=space, grid=True))
        row.clear()

    for raw in block:
        if _is_border(raw):
            flush()
            # text drawn inside a partial rule (a rowspan cell beside a row boundary) is a row of its own
            texts = [(a, b, t) for a, b, t in _segments(raw) if t]
            if texts:
                spans = [(float(a), float(b)) for a, b, _ in texts]
                lines.append(Line([t for _, _, t in texts], hard=True, spans=spans, space=space, grid=True))
            continue
        for a, b, text in _segments(raw):
            row.setdefault((a, b), []).append(text)
    flush()
    return lines


# ---------------------------------------------------------------------------
# Space-aligned columns (pdftotext -layout, pandoc simple tables)
# ---------------------------------------------------------------------------


_TOKEN = re.compile(r"[^ \t\u3000]+(?: [^ \t\u3000]+)*")


def _tokens(line: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of every run separated by two or more spaces, in display columns.
    A run of non-breaking spaces is a blank cell some converters print in its place
    (pandoc's ``&nbsp;``): an empty token."""
    cols = _columns(line) + [sum(width(c) for c in line)]
    out = []
    # an ideographic space is a gap of its own (two columns wide): it never joins two words
    for m in _TOKEN.finditer(line):
        text = m.group()
        out.append((cols[m.start()], cols[m.end()], "" if _is_blankish(text) else text.strip(_BLANKISH)))
    return out


def _ruler_cells(line: str, ruler: list[tuple[int, int]], space: int) -> Line:
    """Cells of one line of a pandoc simple table: each token goes to the ruler
    segment it overlaps most; segments with nothing stay empty."""
    texts: list[list[str]] = [[] for _ in ruler]
    for a, b, text in _tokens(line):
        overlap = [max(0, min(b, e) - max(a, s)) for s, e in ruler]
        best = max(range(len(ruler)), key=lambda i: (overlap[i], -abs((a + b) / 2 - sum(ruler[i]) / 2)))
        texts[best].append(text)
    spans = [(float(s), float(e)) for s, e in ruler]
    return Line([" ".join(t) for t in texts], hard=True, spans=spans, space=space, monospace=True)


def _layout_line(line: str, space: int) -> Line:
    tokens = _tokens(line)
    spans = [(float(a), float(b)) for a, b, _ in tokens]
    return Line([t for _, _, t in tokens], hard=True, spans=spans, space=space, monospace=True)


# ---------------------------------------------------------------------------
# Pipe rows
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PipeStyle:
    """How a document uses ``|``: markdown opens and closes each row with one
    (``| a | b |``); search indexes end each cell with one (``a | b |``, ``a |``);
    html2text only separates (``a| b| c``)."""

    opens: bool  # a line's first ``|`` opens the row (it ends no cell)
    closes: bool  # a line's last ``|`` closes the row (nothing after it is a cell)
    # rows spread over lines, each cell indented on a line of its own (`` 规章  | ``): a bar
    # at the very start of a line opens the next row
    indented: bool = False


_STYLE_SAMPLE = 200  # rows read to tell a document's pipe style


def _bars_after_text(sample: str) -> tuple[int, int]:
    """Bars right after a cell's text (``a|``), and bars after text and spaces (``a |``): a
    bar after another bar or after other white space says nothing. Read off the stretches
    between bars (what a regular expression would find, at a third of its cost)."""
    hugging = detached = 0
    stretches = sample.split("|")
    stretches.pop()  # after the last bar
    for before in stretches:
        if not before:
            continue
        last = before[-1]
        if last == " ":
            text = before.rstrip(" ")
            detached += bool(text) and not text[-1].isspace()
        elif not last.isspace():
            hugging += 1
    return hugging, detached


def pipe_style(lines: list[str]) -> PipeStyle:
    rows: list[str] = []  # the sample's rows, stripped
    indented = 0
    for line in lines:
        if "|" not in line:
            continue
        s = line.strip()
        if not s.strip("| "):
            continue
        rows.append(s)
        indented += line[:1] in (" ", "\t")
        if len(rows) >= _STYLE_SAMPLE:
            break  # a document keeps one style: a sample of its rows tells it
    content = len(rows)
    if not content:
        return PipeStyle(True, True)
    starts = sum(1 for s in rows if s[0] == "|")
    ends = sum(1 for s in rows if s[-1] == "|")
    attached, detached = _bars_after_text("\n".join(rows))
    # html2text writes "a| b| c": each bar hugs the cell before it and only separates, so an
    # empty last cell leaves a bar at the line's end that closes nothing
    separates_only = starts * 2 < content and attached > detached
    return PipeStyle(
        opens=starts * 2 > content, closes=ends * 2 > content and not separates_only, indented=indented * 2 > content
    )


def _pipe_cells(raw: str, style: PipeStyle) -> list[str]:
    line = raw.strip()
    if not line.strip(_BARS_AND_SPACE):
        # a line of bars: each bar ends one empty cell (``|||`` after a spanning header cell),
        # but a bar at the start of a line opens the row where cells are indented lines
        opener = (style.opens and not style.closes) or (style.indented and raw[:1] == "|")
        return [""] * (line.count("|") - opener)
    parts = line.split("|")
    # the line is stripped: its first part is empty exactly when it starts with a bar (which
    # opens the row in an opening style), its last exactly when it ends with one
    first = 1 if style.opens and line[0] == "|" else 0
    last = len(parts) - 1 if style.closes and line[-1] == "|" else len(parts)
    if last - first == 1:  # one cell ended by its bar: most lines of a row spread over lines
        return [parts[first].strip(_CELL_SPACE_TAB)]
    return [c.strip(_CELL_SPACE_TAB) for c in parts[first:last]]


# ---------------------------------------------------------------------------
# The whole text
# ---------------------------------------------------------------------------


_TABLEISH = re.compile(r"[-=─━═]{2}|[│┃║]")  # what a rule, a ruler or a box-drawn row needs


def _tableish(raw: str) -> bool:
    """What a rule, a ruler or a box-drawn row needs (substring tests first: they are cheap)."""
    return (
        "-" in raw or "=" in raw or "─" in raw or "━" in raw or "═" in raw or "│" in raw or "┃" in raw or "║" in raw
    ) and bool(_TABLEISH.search(raw))


def _special(raw: str) -> bool:
    """Could this line be anything but one cell (separators, aligned columns, a rule, a box,
    a blank cell)? Plain substring tests: a regular expression scanning every line of
    prose costs more than all the rest of reading it. Spaces count only inside the line."""
    if (
        "|" in raw
        or "\t" in raw
        or "--" in raw
        or "==" in raw
        or "│" in raw
        or "─" in raw
        or "┃" in raw
        or "║" in raw
        or "━" in raw
        or "═" in raw
    ):
        return True
    if "  " in raw or "\u3000" in raw:
        inner = raw.strip()
        return not inner or "  " in inner or "\u3000" in inner
    return raw.isspace()


def _block_at(raw_lines: list[str], i: int) -> tuple[str, list[str], int] | None:
    """A box-drawn table or a ruler table starting at line ``i``: (kind, its lines, the line
    after it); None when line ``i`` starts neither."""
    line, n = raw_lines[i], len(raw_lines)
    if (_is_border(line) and not _MD_SEPARATOR.match(line.strip())) or (_is_box_content(line) and any(c in line for c in "│┃║")):
        j = i
        while j < n and (_is_border(raw_lines[j]) or _is_box_content(raw_lines[j])):
            j += 1
        block = raw_lines[i:j]
        if sum(_is_border(b) for b in block) >= 2 and any(_is_box_content(b) for b in block):
            return "box", block, j
    if _RULER.match(line):
        j = i + 1
        while j < n and raw_lines[j].strip() and not _RULER.match(raw_lines[j]):
            j += 1
        if j < n and _RULER.match(raw_lines[j]) and j == i + 1:
            j += 1  # an empty table: two rulers
        return "ruler", raw_lines[i:j], j + (1 if j < n and _RULER.match(raw_lines[j]) else 0)
    return None


def _double_spaced(raw_lines: list[str]) -> bool:
    """Cells separated by one blank line each (lynx, search-index excerpts): then a
    longer gap holds empty cells."""
    # Each spaced pair of cells has a blank line of its own between them: too few blank lines
    # for the share decide it without numbering the lines (counted in C).
    blank = raw_lines.count("") + sum(map(str.isspace, raw_lines))
    filled = len(raw_lines) - blank
    if filled < 9 or blank < 0.7 * (filled - 1):
        return False
    content = [i for i, line in enumerate(raw_lines) if line and not line.isspace()]
    spaced = sum(1 for a, b in zip(content, content[1:]) if b - a > 1)
    return spaced >= 0.7 * (len(content) - 1)


def _soft_gaps(raw_lines: list[str]) -> list[str | None]:
    """Double-spaced text: each line is a cell, and each blank line beyond the
    first in a gap is an empty cell (None)."""
    out: list[str | None] = []
    blank = 0
    for line in raw_lines:
        if line.strip():
            if out and blank > 1:
                out.extend([None] * (blank - 1))
            blank = 0
            out.append(line.strip())
        else:
            blank += 1
    return out


def _separated(cells: list[str], hard: bool, space: int) -> Line:
    """A row of separated cells (tabs, bars). They have no geometry, only their order: the
    n-th cell spans column n. Where the rendering draws the whole grid (pandoc, LibreOffice
    tabs) that is the cell's column; where it does not (rows shifted by omitted merged
    cells) the parser finds the header's and the rows' positions disagree and does not use
    them."""
    n = len(cells)
    spans = _INDICES[n] if n < len(_INDICES) else [(float(i), float(i + 1)) for i in range(n)]
    # positional (cells, hard, filler, page, spans, space, grid): a row per line of most
    # text reports, and keywords cost a dataclass twice as much
    return Line(cells, hard, False, None, spans, space, True)


_INDICES = [[(float(i), float(i + 1)) for i in range(n)] for n in range(64)]


def _plain(line: str, style: PipeStyle, raw: str, space: int) -> Line | None:
    stripped = line.strip()
    if not stripped:
        return None
    if "\t" in line:
        return _separated([c.strip(_CELL_SPACE) for c in line.split("\t")], True, space)
    if "-" in stripped and _MD_SEPARATOR.match(stripped):
        return None
    if "|" in stripped:
        cells = _pipe_cells(line, style)
        # one cell and the padding after it is still one cell of a row spread over lines
        return _separated(cells, len(cells) - cells.count("") >= 2, space)
    if _LAYOUT_GAP.search(stripped) and len(_tokens(raw)) >= 2:
        return _layout_line(raw, space)
    return Line([_MD_HEADING.sub("", stripped) if stripped[0] == "#" else stripped])


def text_lines(text: str) -> list[Line]:
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("｜", "|").replace("¦", "|").split("\n")

    style = pipe_style(raw_lines) if "|" in text or "｜" in text else PipeStyle(True, True)
    double = _double_spaced(raw_lines)
    lines: list[Line] = []
    pending: list[str] = []  # consecutive one-cell lines, resolved together

    def flush_soft() -> None:
        if not pending:
            return
        if double:
            for cell in _soft_gaps(pending):
                lines.append(Line([_MD_HEADING.sub("", cell or "")]))
        else:
            # One cell per line: a line holding only a non-breaking space is a blank cell
            # (kept as that character, so the parser knows it was printed); an empty line
            # between two cells may be one too (LibreOffice) or just layout (lynx, soup).
            texts = [raw.strip(_CELL_SPACE_TAB) for raw in pending]
            filled = [k for k, t in enumerate(texts) if t]
            first, last = (filled[0], filled[-1]) if filled else (len(pending), -1)
            for k, text in enumerate(texts):
                if text:
                    lines.append(Line([_MD_HEADING.sub("", text) if text[0] == "#" else text]))
                elif _is_blankish(pending[k]):
                    lines.append(Line([BLANK_CELL]))
                elif first < k < last:
                    lines.append(Line([""]))
        pending.clear()

    layout_space: tuple[str, int] | None = None
    i, n = 0, len(raw_lines)
    while i < n:
        raw = raw_lines[i]
        number = i + 1
        if not _special(raw):  # most lines: a paragraph or one cell of its own
            pending.append(raw)
            i += 1
            continue
        cell = _bar_ended(raw) if style.closes else None
        if cell:  # "规章 |": one cell ended by its bar, the most common line of a search index's table
            i += 1
            if pending:
                flush_soft()
            if layout_space is None or layout_space[0] != "cells":
                layout_space = ("cells", number)
            lines.append(Line([cell], False, False, None, _INDICES[1], layout_space[1], True))
            continue
        found = _block_at(raw_lines, i) if _tableish(raw) else None
        if found is not None:
            kind, block, i = found
            if pending:
                flush_soft()
            layout_space = None
            if kind == "box":
                lines.extend(_box_lines(block, number))
            else:
                segments = [(m.start(), m.end()) for m in re.finditer(r"-+", block[0])]
                cols = _columns(block[0]) + [len(block[0])]
                ruler = [(cols[s], cols[e]) for s, e in segments]
                lines.extend(_ruler_cells(b, ruler, number) for b in block[1:] if b.strip() and not _RULER.match(b))
            continue
        i += 1
        if "\t" not in raw and "|" not in raw and _single(raw):
            pending.append(raw)
            continue
        if pending:
            flush_soft()
        # consecutive separated rows share one space (cell order), consecutive aligned rows
        # another (display columns); the two are never compared
        kind = "cells" if "\t" in raw or "|" in raw else "columns"
        if layout_space is None or layout_space[0] != kind:
            layout_space = (kind, number)
        line = _plain(raw, style, raw, layout_space[1])
        if line is not None:
            lines.append(line)
    flush_soft()
    return lines


def _bar_ended(raw: str) -> str | None:
    """The cell of a line that is one cell ended by its bar (``规章 |``), in a style whose last
    bar closes the row; None for any other line (rules and dashes go the long way)."""
    stripped = raw.rstrip()
    if stripped[-1:] != "|" or raw.count("|") != 1 or "\t" in raw or _tableish(raw):
        return None
    return stripped[:-1].strip(_CELL_SPACE_TAB) or None


_NOT_SINGLE = re.compile(r"[\t|]|[^ \t\u3000](?: {2,}|\u3000+)[^ \t\u3000]|^\s*:?-{2,}")


def _single(raw: str) -> bool:
    """A line that is one cell of its own (or empty): no tabs, no bars, no aligned columns,
    no markdown rule."""
    return not _NOT_SINGLE.search(raw) or not raw.strip() or _is_blankish(raw)


def _cut_mid(text: str) -> str | None:
    """Where a text with no line break at its end stopped (see ``Document.cut_mid``)."""
    tail = text.rstrip()
    after = text[len(tail) :]  # the white space after the last printed character
    if not tail or "\n" in after or "\r" in after:
        return None
    return "line" if after or tail[-1] in "|｜¦" else "word"


def extract_text(text: str, fmt: str = "text") -> Document:
    return Document(lines=text_lines(text), format=fmt, cut_mid=_cut_mid(text))
