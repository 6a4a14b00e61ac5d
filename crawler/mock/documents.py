"""Render a report as the files portals publish: HTML pages, Word, Excel and PDF files.

A report is a list of blocks: paragraphs and tables. A table is a grid of cells
that may span columns and rows, as the national template prints them; each
writer keeps that structure the way its format does (HTML ``colspan``/``rowspan``,
Word ``gridSpan``/``vMerge``, Excel merged ranges, PDF cells laid out at their
columns' positions with blank cells left empty). Report text in the form the
seeds come in (paragraphs, and table rows as tab-separated cells) is read into
blocks by :func:`blocks`; runs of tab rows become tables of single cells.
"""

from __future__ import annotations

import html
import io
import zipfile
from dataclasses import dataclass, field


@dataclass
class Cell:
    text: str = ""
    colspan: int = 1
    rowspan: int = 1


@dataclass
class Block:
    kind: str  # "p" or "table"
    text: str = ""
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass(frozen=True)
class Placed:
    """A cell at its place in the table's grid."""

    row: int
    col: int
    cell: Cell


def blocks(text: str) -> list[Block]:
    out: list[Block] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        if "\t" in line:
            cells = [Cell(c.strip()) for c in line.split("\t")]
            if out and out[-1].kind == "table":
                out[-1].rows.append(cells)
            else:
                out.append(Block("table", rows=[cells]))
        else:
            out.append(Block("p", text=line.strip()))
    return out


def place(rows: list[list[Cell]]) -> tuple[list[Placed], int]:
    """Every cell at its grid position (rowspans above push cells right), and the grid's width."""
    taken: set[tuple[int, int]] = set()
    placed: list[Placed] = []
    width = 0
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append(Placed(r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
            width = max(width, c)
    return placed, max([width] + [c + 1 for _, c in taken])


# --------------------------------------------------------------------------- HTML


def html_body(parts: list[Block], blank: str = "&nbsp;") -> str:
    out = []
    for b in parts:
        if b.kind == "p":
            out.append(f"<p>{html.escape(b.text)}</p>")
            continue
        rows = []
        for row in b.rows:
            tds = []
            for cell in row:
                attrs = (f' colspan="{cell.colspan}"' if cell.colspan > 1 else "") + (
                    f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else ""
                )
                tds.append(f"<td{attrs}>{html.escape(cell.text) if cell.text else blank}</td>")
            rows.append("<tr>" + "".join(tds) + "</tr>")
        out.append(f'<table border="1" cellspacing="0"><tbody>{"".join(rows)}</tbody></table>')
    return "\n".join(out)


def to_html_body(text: str) -> str:
    return html_body(blocks(text))


# --------------------------------------------------------------------------- Word

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


def _para(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{html.escape(text)}</w:t></w:r></w:p>'


def _docx_table(rows: list[list[Cell]]) -> str:
    placed, width = place(rows)
    at = {(p.row, p.col): p.cell for p in placed}
    merged_below: dict[tuple[int, int], Cell] = {}
    for p in placed:
        for dr in range(1, p.cell.rowspan):
            merged_below[(p.row + dr, p.col)] = p.cell
    out = []
    for r in range(len(rows)):
        tcs, c = [], 0
        while c < width:
            cell, cont = at.get((r, c)), merged_below.get((r, c))
            source = cell or cont
            span = source.colspan if source else 1
            props = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
            if cell is not None and cell.rowspan > 1:
                props += '<w:vMerge w:val="restart"/>'
            elif cont is not None:
                props += "<w:vMerge/>"
            text = cell.text if cell is not None else ""
            tcs.append(f"<w:tc><w:tcPr>{props}</w:tcPr>{_para(text)}</w:tc>")
            c += span
        out.append("<w:tr>" + "".join(tcs) + "</w:tr>")
    grid = "".join('<w:gridCol w:w="900"/>' for _ in range(width))
    return f"<w:tbl><w:tblGrid>{grid}</w:tblGrid>{''.join(out)}</w:tbl>"


def docx(parts: list[Block]) -> bytes:
    """A real Word document (OOXML) with paragraphs and tables (merged cells kept)."""
    body = [_para(b.text) if b.kind == "p" else _docx_table(b.rows) for b in parts]
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_W}><w:body>'
        + "".join(body)
        + "<w:sectPr/></w:body></w:document>"
    )
    return _zip({"[Content_Types].xml": _DOCX_TYPES, "_rels/.rels": _DOCX_RELS, "word/document.xml": document})


def to_docx(text: str) -> bytes:
    return docx(blocks(text))


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# --------------------------------------------------------------------------- Excel

_XLSX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_XLSX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_XLSX_BOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
_S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def column_name(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        name = chr(65 + rem) + name
    return name


def xlsx(parts: list[Block]) -> bytes:
    """One worksheet: paragraphs in column A, tables at their grid positions with merged ranges."""
    rows_xml, merges, r0 = [], [], 0
    for b in parts:
        if b.kind == "p":
            rows_xml.append(_xlsx_row(r0, {0: b.text}))
            r0 += 1
            continue
        placed, _ = place(b.rows)
        by_row: dict[int, dict[int, str]] = {}
        for p in placed:
            by_row.setdefault(p.row, {})[p.col] = p.cell.text
            if p.cell.colspan > 1 or p.cell.rowspan > 1:
                a = f"{column_name(p.col)}{r0 + p.row + 1}"
                z = f"{column_name(p.col + p.cell.colspan - 1)}{r0 + p.row + p.cell.rowspan}"
                merges.append(f'<mergeCell ref="{a}:{z}"/>')
        for r in range(len(b.rows)):
            rows_xml.append(_xlsx_row(r0 + r, by_row.get(r, {})))
        r0 += len(b.rows)
    merge_xml = f'<mergeCells count="{len(merges)}">{"".join(merges)}</mergeCells>' if merges else ""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {_S}><sheetData>'
        + "".join(rows_xml)
        + f"</sheetData>{merge_xml}</worksheet>"
    )
    book = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook {_S} {_R}>'
        '<sheets><sheet name="年报" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    return _zip(
        {
            "[Content_Types].xml": _XLSX_TYPES,
            "_rels/.rels": _XLSX_RELS,
            "xl/workbook.xml": book,
            "xl/_rels/workbook.xml.rels": _XLSX_BOOK_RELS,
            "xl/worksheets/sheet1.xml": sheet,
        }
    )


def _xlsx_row(r: int, cells: dict[int, str]) -> str:
    out = []
    for c, text in sorted(cells.items()):
        if not text:
            continue
        ref = f"{column_name(c)}{r + 1}"
        out.append(f'<c r="{ref}" t="inlineStr"><is><t>{html.escape(text)}</t></is></c>')
    return f'<row r="{r + 1}">{"".join(out)}</row>'


# --------------------------------------------------------------------------- PDF

_PAGE_W, _PAGE_H, _MARGIN = 595, 842, 40
_FONT = 7.0  # table text size (points); a CJK glyph is one em wide
_LEADING = 9.0


def _pdf_text(x: float, y: float, size: float, text: str) -> str:
    return f"BT /F1 {size:g} Tf {x:.1f} {y:.1f} Td <{text.encode('utf-16-be').hex().upper()}> Tj ET"


def _text_width(text: str, size: float) -> float:
    # the font declares every glyph one em wide (/DW 1000, no /W array): digits too
    return len(text) * size


def _wrap(text: str, room: float, size: float) -> list[str]:
    lines, current = [], ""
    for ch in text:
        if current and _text_width(current + ch, size) > room:
            lines.append(current)
            current = ""
        current += ch
    return [*lines, current] if current else lines or [""]


def _column_widths(placed: list[Placed], width: int) -> list[float]:
    """Columns as wide as their cells need (a merged cell widens the columns it covers
    when they are too narrow for it); when the table is wider than the page, the wide
    (label) columns give way and their text wraps, the narrow (number) ones keep their
    width, as in a real report."""
    cap = 20 * _FONT  # a long label wraps at about twenty characters

    def need_of(cell: Cell) -> float:
        return min(_text_width(cell.text, _FONT), cap) + 8

    need = [12.0] * width
    for p in sorted(placed, key=lambda p: p.cell.colspan):
        if not p.cell.text:
            continue
        cols = range(p.col, p.col + p.cell.colspan)
        short = need_of(p.cell) - sum(need[c] for c in cols)
        if short > 0:
            for c in cols:
                need[c] += short / p.cell.colspan
    room = _PAGE_W - 2 * _MARGIN
    narrow = sum(n for n in need if n <= 60)
    wide = sum(n for n in need if n > 60)
    if wide and narrow + wide > room:
        scale = max(0.1, (room - narrow) / wide)
        need = [n if n <= 60 else max(30.0, n * scale) for n in need]
    return need


class _Pages:
    def __init__(self) -> None:
        self.pages: list[list[str]] = [[]]
        self.y = _PAGE_H - _MARGIN

    def need(self, height: float) -> None:
        if self.y - height < _MARGIN:
            self.pages.append([])
            self.y = _PAGE_H - _MARGIN

    def text(self, x: float, y: float, size: float, text: str) -> None:
        self.pages[-1].append(_pdf_text(x, y, size, text))


def _pdf_table(out: _Pages, rows: list[list[Cell]]) -> None:
    placed, width = place(rows)
    widths = _column_widths(placed, width)
    xs = [_MARGIN + sum(widths[:i]) for i in range(width + 1)]
    wrapped = {id(p): _wrap(p.cell.text, xs[p.col + p.cell.colspan] - xs[p.col] - 4, _FONT) for p in placed}
    heights = [_LEADING + 4] * len(rows)
    for p in placed:  # a row is as tall as its tallest single-row cell
        if p.cell.rowspan == 1:
            heights[p.row] = max(heights[p.row], len(wrapped[id(p)]) * _LEADING + 4)
    tops: list[tuple[int, float]] = []  # (page, y of the row's top)
    for r, h in enumerate(heights):
        out.need(h)
        tops.append((len(out.pages), out.y))
        out.y -= h
        # a cell is drawn when its last row is laid out, over the part of it on this page
        for p in placed:
            if p.row + p.cell.rowspan - 1 != r or not p.cell.text:
                continue
            top = next(y for page, y in tops[p.row : r + 1] if page == len(out.pages))
            lines = wrapped[id(p)]
            y = out.y + (top - out.y) / 2 + (len(lines) * _LEADING) / 2 - _LEADING + 2
            for line in lines:
                x = (xs[p.col] + xs[p.col + p.cell.colspan]) / 2 - _text_width(line, _FONT) / 2
                out.text(x, y, _FONT, line)
                y -= _LEADING


def _pdf_pages(parts: list[Block]) -> list[list[str]]:
    """Lay the report out on A4 pages: wrapped paragraphs, tables as grids of cells."""
    out = _Pages()
    for b in parts:
        if b.kind == "p":
            per_line = 40
            for start in range(0, len(b.text), per_line):
                out.need(16)
                out.y -= 16
                out.text(_MARGIN, out.y, 12, b.text[start : start + per_line])
        else:
            out.y -= 6
            _pdf_table(out, b.rows)
    return out.pages


def pdf(parts: list[Block]) -> bytes:
    """A real PDF with a text layer (the Adobe-GB1 CID font STSong-Light, not embedded), as
    report attachments are: tables come out as rows of cells at their columns' positions."""
    pages = _pdf_pages(parts)
    font = 3
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # pages, filled in below
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) "
        b"/Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    kids = []
    for ops in pages:
        content = "\n".join(ops).encode("ascii")
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (_PAGE_W, _PAGE_H, font, len(objects))
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def to_pdf(text: str) -> bytes:
    return pdf(blocks(text))
