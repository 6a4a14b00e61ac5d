"""Render a report's text as the files portals publish: HTML pages and Word files.

Input is report text in the form the seeds come in (paragraphs, and table rows
as tab-separated cells); runs of tab rows become real tables.
"""

from __future__ import annotations

import html
import io
import zipfile
from dataclasses import dataclass


@dataclass
class Block:
    kind: str  # "p" or "table"
    text: str = ""
    rows: list[list[str]] | None = None


def blocks(text: str) -> list[Block]:
    out: list[Block] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        if "\t" in line:
            cells = [c.strip() for c in line.split("\t")]
            if out and out[-1].kind == "table":
                out[-1].rows.append(cells)
            else:
                out.append(Block("table", rows=[cells]))
        else:
            out.append(Block("p", text=line.strip()))
    return out


def to_html_body(text: str) -> str:
    parts = []
    for b in blocks(text):
        if b.kind == "p":
            parts.append(f"<p>{html.escape(b.text)}</p>")
        else:
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c) if c else '&nbsp;'}</td>" for c in row) + "</tr>" for row in b.rows
            )
            parts.append(f'<table border="1" cellspacing="0"><tbody>{rows}</tbody></table>')
    return "\n".join(parts)


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


def _para(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{html.escape(text)}</w:t></w:r></w:p>'


def to_docx(text: str) -> bytes:
    """A real Word document (OOXML) with paragraphs and tables."""
    body = []
    for b in blocks(text):
        if b.kind == "p":
            body.append(_para(b.text))
        else:
            width = max(len(r) for r in b.rows)
            grid = "".join('<w:gridCol w:w="900"/>' for _ in range(width))
            rows = "".join(
                "<w:tr>" + "".join(f"<w:tc>{_para(c)}</w:tc>" for c in row + [""] * (width - len(row))) + "</w:tr>"
                for row in b.rows
            )
            body.append(f"<w:tbl><w:tblGrid>{grid}</w:tblGrid>{rows}</w:tbl>")
    return docx_file("".join(body) + "<w:sectPr/>")


def docx_file(body: str) -> bytes:
    """A Word package around ``body``, the XML inside ``<w:body>``."""
    document = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_W}><w:body>{body}</w:body></w:document>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", document)
    return buf.getvalue()


_PAGE_W, _PAGE_H, _MARGIN = 595, 842, 40


def _pdf_text(x: float, y: float, size: float, text: str) -> str:
    return f"BT /F1 {size:g} Tf {x:.1f} {y:.1f} Td <{text.encode('utf-16-be').hex().upper()}> Tj ET"


def _pdf_pages(text: str) -> list[list[str]]:
    """Lay the report out on A4 pages: wrapped paragraphs, table rows as cells at fixed columns."""
    pages: list[list[str]] = [[]]
    y = _PAGE_H - _MARGIN

    def advance(height: float) -> None:
        nonlocal y
        y -= height
        if y < _MARGIN:
            pages.append([])
            y = _PAGE_H - _MARGIN - height

    for b in blocks(text):
        if b.kind == "p":
            per_line = 40
            for start in range(0, len(b.text), per_line):
                advance(16)
                pages[-1].append(_pdf_text(_MARGIN, y, 12, b.text[start : start + per_line]))
        else:
            width = max(len(r) for r in b.rows)
            first = 230 if width > 2 else 300
            rest = (_PAGE_W - 2 * _MARGIN - first) / max(1, width - 1)
            for row in b.rows:
                advance(13)
                for i, cell in enumerate(row):
                    if not cell:
                        continue
                    x = _MARGIN if i == 0 else _MARGIN + first + (i - 1) * rest
                    room = (first if i == 0 else rest) - 4
                    size = max(4.0, min(8.0, room / max(1, len(cell))))
                    pages[-1].append(_pdf_text(x, y, size, cell))
    return pages


def to_pdf(text: str) -> bytes:
    """A real PDF with a text layer (the Adobe-GB1 CID font STSong-Light, not embedded), as
    report attachments are: tables come out as rows of cells separated by column gaps."""
    pages = _pdf_pages(text)
    font, descendant, descriptor = 3, 4, 5
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
    _ = descendant, descriptor
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of numbered objects (1 is the catalog) with a correct xref table."""
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
