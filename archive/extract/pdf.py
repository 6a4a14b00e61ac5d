"""PDF text layer → lines of cells, rebuilt from glyph boxes.

pypdfium2 (PDFium, Apache-2.0/BSD) gives every glyph with its box in C speed.
Glyphs are grouped into lines by their vertical centre and split into cells
where the horizontal gap is wide (a table column) — the table structure comes
from geometry, not from ruling lines, which is what makes this ~30× faster than
pdfplumber's ``find_tables()`` (see ``bench/parse.py``). Wrapped labels and
values printed beside the middle of a wrapped label come out as separate
lines; the parser joins them.
"""

from __future__ import annotations

import ctypes
import re
from statistics import median

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..errors import ExtractError
from .document import Document, Line

MAX_PAGES = 500
_PAGE_NUMBER = re.compile(r"^(?:[-—–_\s]*\d{1,4}[-—–_\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+)$")


def _page_chars(textpage) -> list[tuple[float, float, float, float, str]]:
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


def _lines(chars) -> list[str]:
    if not chars:
        return []
    heights = [max(t - b, 0.5) for _, _, b, t, _ in chars]
    typical = median(heights)
    # Sweep glyphs from the top of the page down; a glyph joins the current line
    # while its vertical centre stays within half a glyph height of the line's.
    order = sorted(range(len(chars)), key=lambda i: -(chars[i][2] + chars[i][3]) / 2)
    lines: list[list[int]] = []
    centre = None
    for i in order:
        cy = (chars[i][2] + chars[i][3]) / 2
        if centre is None or abs(cy - centre) > typical * 0.45:
            lines.append([i])
            centre = cy
        else:
            lines[-1].append(i)
    out = []
    for idx in lines:
        idx.sort(key=lambda i: chars[i][0])
        h = median(heights[i] for i in idx)
        parts: list[str] = []
        prev_right = None
        for i in idx:
            left, right, _, _, ch = chars[i]
            if prev_right is not None:
                gap = left - prev_right
                if gap > max(1.5 * h, 6.0):
                    parts.append("\t")
                elif gap > 0.3 * h:
                    parts.append(" ")
            parts.append(ch)
            prev_right = max(right, prev_right or right)
        out.append("".join(parts))
    return out


def extract_pdf(data: bytes) -> Document:
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
    try:
        pages = len(pdf)
        for p in range(min(pages, MAX_PAGES)):
            page = pdf[p]
            textpage = page.get_textpage()
            try:
                chars = _page_chars(textpage)
            finally:
                textpage.close()
                page.close()
            total_chars += len(chars)
            page_lines = _lines(chars)
            for k, text in enumerate(page_lines):
                if (k == 0 or k == len(page_lines) - 1) and _PAGE_NUMBER.match(text.strip()):
                    continue
                lines.append(Line([c.strip() for c in text.split("\t")], hard=True, page=p + 1))
    except pdfium.PdfiumError as e:
        raise ExtractError(f"corrupt PDF page ({e})") from None
    finally:
        pdf.close()
    meta = {"truncated_pages": str(pages - MAX_PAGES)} if pages > MAX_PAGES else {}
    return Document(lines=lines, format="pdf", pages=pages, has_text_layer=total_chars > 0, meta=meta)
