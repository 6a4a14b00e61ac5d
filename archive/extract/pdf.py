"""PDF text layer → lines of cells, rebuilt from glyph boxes.

pypdfium2 (PDFium, Apache-2.0/BSD) gives every glyph with its box in C speed;
:mod:`.layout` rebuilds lines and cells from the boxes — the table structure
comes from geometry, not from ruling lines, which is what makes this ~30×
faster than pdfplumber's ``find_tables()`` (see ``bench/parse.py``). Wrapped
labels and values printed beside the middle of a wrapped label come out as
separate lines; the parser joins them. A page without a text layer (a scan,
or a mixed PDF's scanned pages) is rendered and read by OCR (:mod:`.ocr`) into
the same geometry builder.
"""

from __future__ import annotations

import ctypes
import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..errors import ExtractError
from .document import Document, Line
from .layout import Glyph, glyph_lines
from .ocr import MAX_SIDE, RENDER_SCALE, DocumentOcr, OcrOptions

MAX_PAGES = 500
_PAGE_NUMBER = re.compile(r"^(?:[-—–_\s]*\d{1,4}[-—–_\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+)$")


def _page_chars(textpage) -> list[Glyph]:
    """(left, right, bottom, top, char) for every visible glyph."""
    n = pdfium_c.FPDFText_CountChars(textpage)
    rect = pdfium_c.FS_RECTF()
    chars = []
    for i in range(n):
        code = pdfium_c.FPDFText_GetUnicode(textpage, i)
        if code <= 32 or code in (0xA0, 0x3000, 0xFEFF, 0xFFFE, 0xFFFF) or pdfium_c.FPDFText_IsGenerated(textpage, i) == 1:
            continue
        # The loose box spans the glyph's advance and the font's ascent/descent, so
        # narrow digits and low punctuation line up with their neighbours.
        if not pdfium_c.FPDFText_GetLooseCharBox(textpage, i, ctypes.byref(rect)):
            continue
        if rect.right <= rect.left and rect.top <= rect.bottom:
            continue
        chars.append((rect.left, rect.right, rect.bottom, rect.top, chr(code)))
    return chars


def _scanned(page, chars: list[Glyph]) -> bool:
    """A page to read by OCR: no text layer (or a stray few glyphs, such as a page
    number stamped on a scan) but something drawn on it."""
    if len(chars) >= 20:
        return False
    if not chars:
        return pdfium_c.FPDFPage_CountObjects(page.raw) > 0
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def extract_pdf(data: bytes, ocr: OcrOptions | None = None) -> Document:
    if not data:
        raise ExtractError("empty file")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        msg = str(e)
        if "password" in msg.lower():
            raise ExtractError("encrypted PDF (password required)") from None
        raise ExtractError(f"corrupt or unreadable PDF ({msg})") from None
    lines: list[Line] = []
    total_chars = 0
    reader = DocumentOcr(data, ocr)
    try:
        pages = len(pdf)
        for p in range(min(pages, MAX_PAGES)):
            page = pdf[p]
            textpage = page.get_textpage()
            try:
                chars = _page_chars(textpage)
                if _scanned(page, chars):
                    scale = min(RENDER_SCALE, MAX_SIDE / max(1.0, *page.get_size()))  # a huge page is not a huge bitmap
                    render = lambda page=page, scale=scale: page.render(scale=scale, rev_byteorder=True).to_numpy()
                    page_lines = reader.lines(p, p + 1, render, 1 / scale)
                else:
                    page_lines = glyph_lines(chars, page=p + 1)
            finally:
                textpage.close()
                page.close()
            total_chars += len(chars)
            for k, line in enumerate(page_lines):
                if (k == 0 or k == len(page_lines) - 1) and _PAGE_NUMBER.match(line.text.strip()):
                    continue
                lines.append(line)
    except pdfium.PdfiumError as e:
        raise ExtractError(f"corrupt PDF page ({e})") from None
    finally:
        pdf.close()
    meta = {"truncated_pages": str(pages - MAX_PAGES)} if pages > MAX_PAGES else {}
    return Document(
        lines=lines,
        format="pdf",
        pages=pages,
        has_text_layer=total_chars > 0,
        meta=meta,
        ocr=reader.result,
    )
