"""Hostile documents, small on the wire and costly to read: the inputs that once
stopped the archive (issue 13), made on demand for the tests, the fuzz seeds and
the mock portals that serve them beside good reports.

Each is a few kilobytes to a megabyte; unbounded, each costs minutes of CPU or
gigabytes of memory to read.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib

from .documents import docx_file, pdf_file


def _xlsx(sheet: str) -> bytes:
    """An XLSX package around one worksheet's ``<sheetData>`` body."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/></Types>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>'
        '<sheet name="Sheet1" sheetId="1"/></sheets></workbook>',
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{sheet}</sheetData></worksheet>",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return buf.getvalue()


def poison_xlsx() -> bytes:
    """One cell at column ZZZZZZZ (8 billion columns to the right): a row padded out to
    its column index never ends."""
    return _xlsx('<row r="1"><c r="A1" t="inlineStr"><is><t>年报</t></is></c><c r="ZZZZZZZ1"><v>1</v></c></row>')


def _stream(data: bytes, extra: bytes = b"", compress: bool = False) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def glyph_bomb_pdf(levels: int = 7, fanout: int = 10, pages: int = 1) -> bytes:
    """``pages`` pages, each drawing a form that draws the form below it ``fanout`` times,
    ``levels`` deep: a 4 KB file with ``fanout ** levels`` lines of text per page."""
    # objects: 1 catalog, 2 pages, 3 font, 4… forms (4 the innermost), then the content, then the pages
    first = 4
    forms = [
        _stream(
            b"BT /F1 8 Tf 10 10 Td (2024 nian bao 12345) Tj ET",
            b" /Type /XObject /Subtype /Form /BBox [0 0 600 800] /Resources << /Font << /F1 3 0 R >> >>",
        )
    ]
    for level in range(1, levels):
        ops = b" ".join(b"q 1 0 0 1 %d %d cm /X Do Q" % (k, k) for k in range(fanout))
        forms.append(
            _stream(
                ops,
                b" /Type /XObject /Subtype /Form /BBox [0 0 600 800] /Resources << /XObject << /X %d 0 R >> >>"
                % (first + level - 1),
            )
        )
    top = first + levels - 1
    content = first + levels
    kids = [content + 1 + k for k in range(pages)]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /X %d 0 R >> >> "
        b"/Contents %d 0 R >>" % (top, content)
    )
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), pages),
            _FONT,
            *forms,
            _stream(b"/X Do"),
            *([page] * pages),
        ]
    )


def self_drawing_pdf() -> bytes:
    """A form that draws itself ten times: its own resources name no /X, so PDFium looks
    the name up in the page's, finds the form again and recurses until memory runs out
    (found by bench/fuzz.py in a mutated glyph bomb). No bound before PDFium sees it:
    the parse budget ends it."""
    ops = b" ".join(b"q 1 0 0 1 %d %d cm /X Do Q" % (k, k) for k in range(10))
    form = _stream(ops, b" /Type /XObject /Subtype /Form /BBox [0 0 600 800] /Resources << /Font << >> >>")
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /X 4 0 R >> >> /Contents 5 0 R >>",
            form,
            _stream(b"/X Do"),
        ]
    )


def deflate_bomb_pdf(megabytes: int = 1024) -> bytes:
    """One page whose content stream inflates from about a megabyte to ``megabytes`` MB of
    text operators."""
    op = b"BT /F1 1 Tf 1 1 Td (0) Tj ET\n"
    packer = zlib.compressobj(9)
    chunk = op * (1024 * 1024 // len(op))
    packed = [packer.compress(chunk) for _ in range(megabytes)]
    data = b"".join(packed) + packer.flush()
    return pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            _FONT,
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
        ]
    )


def wide_docx(paragraphs: int = 1_400_000) -> bytes:
    """A Word file of over a million short paragraphs of varied numbers (a few MB packed,
    under the zip-bomb ratio): its XML tree alone takes gigabytes."""
    rng = random.Random(13)
    return docx_file("".join(f"<w:p><w:r><w:t>{rng.randrange(10**6)}</w:t></w:r></w:p>" for _ in range(paragraphs)))


def long_text(megabytes: int = 6) -> bytes:
    """Megabytes of report-like prose and table rows."""
    line = "本机关收到政府信息公开申请 3 件，行政复议 1 件。\t1\t2\t3\n".encode()
    return line * (megabytes * 1024 * 1024 // len(line))


def one_line_text(megabytes: int = 6) -> bytes:
    """Megabytes without a line break."""
    return ("申请" * (megabytes * 1024 * 1024 // 6)).encode()


TABLE = (
    "<table><tr><td>新收政府信息公开申请数量</td><td>3</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>3</td></tr>"
    "<tr><td>上年结转政府信息公开申请数量</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr></table>"
)


def deep_html(depth: int = 1000) -> bytes:
    """A report page whose tables follow ``depth`` levels of nested ``<div>``s (unclosed
    tags in CMS output nest like this)."""
    return (
        "<html><head><meta charset='utf-8'><title>年报</title></head><body>"
        + "<div>" * depth
        + "<p>二、收到和处理政府信息公开申请情况</p>"
        + "</div>" * depth
        + TABLE
        + "</body></html>"
    ).encode()


def big_text_node_html(megabytes: int = 10) -> bytes:
    """A report page with a text node of ``megabytes`` MB (an inlined blob) before its tables."""
    return (
        "<html><head><meta charset='utf-8'><title>年报</title></head><body><p>"
        + "a" * (megabytes * 1024 * 1024 + 1)
        + "</p><p>二、收到和处理政府信息公开申请情况</p>"
        + TABLE
        + "</body></html>"
    ).encode()
