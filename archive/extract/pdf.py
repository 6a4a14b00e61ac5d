"""PDF text layer → lines of cells, rebuilt from glyph boxes.

pypdfium2 (PDFium, Apache-2.0/BSD) gives every glyph with its box in C speed;
:mod:`.layout` rebuilds lines and cells from the boxes — the table structure
comes from geometry, not from ruling lines, which is what makes this ~30×
faster than pdfplumber's ``find_tables()`` (see ``bench/parse.py``). Wrapped
labels and values printed beside the middle of a wrapped label come out as
separate lines; the parser joins them. A page without a text layer (a scan,
or a mixed PDF's scanned pages) is rendered and read by OCR (:mod:`.ocr`) into
the same geometry builder.

Bounds, each cut recorded on the document: before PDFium sees the file, every
compressed stream that is not an image is inflated into nothing, counting, and
a file whose streams inflate past ``MAX_CONTENT_BYTES`` (a content stream),
``MAX_STREAM_BYTES`` (a font) or ``MAX_STREAMS_BYTES`` (all) is refused (a
decompression bomb); at most
``MAX_PAGES`` pages are read; a page with more than ``MAX_PAGE_OBJECTS``
objects (nested forms counted: a "glyph bomb" draws one form from another
millions of times) or ``MAX_PAGE_CHARS`` glyphs is skipped, and reading stops
once the pages seen held ``MAX_OBJECTS`` objects or ``MAX_CHARS`` glyphs in
all, read or skipped: pages × glyphs is bounded, not only each page.
"""

from __future__ import annotations

import ctypes
import re
import zlib

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..errors import ExtractError
from .document import Document, Line
from .layout import Glyph, glyph_lines
from .ocr import MAX_SIDE, RENDER_SCALE, DocumentOcr, OcrOptions

MAX_PAGES = 500
MAX_PAGE_OBJECTS = 100_000  # a dense real page has a few thousand
MAX_PAGE_CHARS = 50_000  # an A4 page in 5-point type holds about 25,000
MAX_OBJECTS = 2_000_000
MAX_CHARS = 1_000_000  # a 500-page report of dense text; Python lays out about 150,000 a second
# inflated sizes: PDFium holds a content stream's operators at about 18 times their size
# (48 MB of text operators took 880 MB), so content (pages, forms, object streams) is held
# tighter than fonts (a fully embedded CJK font is 10–30 MB); images and embedded files are
# not inflated to read text
MAX_CONTENT_BYTES = 16 * 1024 * 1024
MAX_STREAM_BYTES = 64 * 1024 * 1024
MAX_STREAMS_BYTES = 512 * 1024 * 1024
_MAX_DEFLATE_RATIO = 1032  # zlib cannot inflate one byte to more than about 1032
_STREAM = re.compile(rb"stream\r?\n")  # "endstream" is told apart by hand: a look-behind makes the scan 25× slower
_FONT_FILE = re.compile(rb"/Length[123]\b|/Subtype\s*/(?:Type1C|CIDFontType0C|OpenType)\b")
_NOT_READ = re.compile(rb"/Subtype\s*/Image\b|/Type\s*/EmbeddedFile\b")
_PAGE_NUMBER = re.compile(r"^(?:[-—–_\s]*\d{1,4}[-—–_\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+)$")


_INVISIBLE = frozenset("\u00a0\u3000\ufeff\ufffe\uffff")


def _page_text(textpage, n: int) -> str:
    """Every character of the page, fetched in one call; one call per character when the
    page holds characters beyond the BMP (UTF-16 spreads each over two units)."""
    buffer = (ctypes.c_ushort * (n + 1))()
    written = pdfium_c.FPDFText_GetText(textpage, 0, n, buffer)
    try:
        text = ctypes.string_at(buffer, 2 * max(written - 1, 0)).decode("utf-16-le")
    except UnicodeDecodeError:
        text = ""
    if len(text) != n:
        return "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(n))
    return text


def _page_chars(textpage) -> list[Glyph]:
    """(left, right, bottom, top, char) for every visible glyph of a text page (``FPDF_TEXTPAGE``)."""
    n = pdfium_c.FPDFText_CountChars(textpage)
    rect = pdfium_c.FS_RECTF()
    box, loose_box = ctypes.byref(rect), pdfium_c.FPDFText_GetLooseCharBox
    chars = []
    for i, ch in enumerate(_page_text(textpage, n)):
        if ch <= " " or ch in _INVISIBLE:
            # the page text marks a control character U+FFFE: its own code decides
            code = pdfium_c.FPDFText_GetUnicode(textpage, i)
            if code <= 32 or chr(code) in _INVISIBLE:
                continue
            ch = chr(code)
        # PDFium's generated characters (the spaces and line breaks it inserts) are white
        # space, skipped above: no call per glyph is needed to tell them. The loose box
        # spans the glyph's advance and the font's ascent/descent, so narrow digits and low
        # punctuation line up with their neighbours.
        if not loose_box(textpage, i, box):
            continue
        left, right, bottom, top = rect.left, rect.right, rect.bottom, rect.top
        if right <= left and top <= bottom:
            continue
        chars.append((left, right, bottom, top, ch))
    return chars


def _inflated_size(data: bytes, start: int, limit: int) -> int:
    """How many bytes the zlib stream at ``start`` inflates to, counted up to ``limit + 1``
    in 1 MB steps (nothing is kept)."""
    inflater = zlib.decompressobj()
    view = memoryview(data)
    size = 0
    try:
        for at in range(start, len(data), 1 << 16):
            pending = view[at : at + (1 << 16)]
            while size <= limit:
                size += len(inflater.decompress(pending, min(1 << 20, limit + 1 - size)))
                pending = inflater.unconsumed_tail
                if not pending or inflater.eof:
                    break
            if inflater.eof or size > limit:
                break
    except zlib.error:  # not zlib data after all, or corrupt: PDFium will judge
        pass
    return size


def _check_streams(data: bytes) -> None:
    """Refuse a decompression bomb before PDFium inflates it in memory. Images are not
    inflated to read text, and a scan's page images are legitimately large: skipped. A
    stream too short to reach its limit even at deflate's highest ratio (about 1032:1) is
    not inflated, unless such streams together could exceed the document's limit."""
    total = 0
    small: list[tuple[int, int]] = []  # streams that cannot exceed their own limit: (start, limit)
    bound = 0  # the most those could inflate to, all together
    for m in _STREAM.finditer(data):
        if data[m.start() - 3 : m.start()] == b"end":
            continue
        head = data[max(0, m.start() - 1024) : m.start()]
        head = head[head.rfind(b" obj") + 1 :]  # the stream's dictionary
        if b"Flate" not in head or _NOT_READ.search(head):
            continue
        limit = MAX_STREAM_BYTES if _FONT_FILE.search(head) else MAX_CONTENT_BYTES
        end = data.find(b"endstream", m.end())
        packed = (end if end >= 0 else len(data)) - m.end()
        if packed * _MAX_DEFLATE_RATIO + 1024 <= limit:
            small.append((m.end(), limit))
            bound += packed * _MAX_DEFLATE_RATIO + 1024
            continue
        total = _count_stream(data, m.end(), limit, total)
    if small and total + bound > MAX_STREAMS_BYTES:
        for start, limit in small:
            total = _count_stream(data, start, limit, total)


def _count_stream(data: bytes, start: int, limit: int, total: int) -> int:
    """The document's inflated bytes so far, with this stream's; refused past a limit."""
    size = _inflated_size(data, start, limit)
    if size > limit:
        raise ExtractError(f"PDF 中有一个数据流解压后超过 {limit // 2**20} MB（解压炸弹？），拒绝读取")
    total += size
    if total > MAX_STREAMS_BYTES:
        raise ExtractError(f"PDF 的数据流解压后合计超过 {MAX_STREAMS_BYTES // 2**20} MB（解压炸弹？），拒绝读取")
    return total


def _object_count(page, forms: bool) -> int:
    """The page's objects, forms' contents counted, up to just past ``MAX_PAGE_OBJECTS``
    (without loading its text, which would cost gigabytes for a glyph bomb). ``forms``:
    the document has form XObjects at all (most reports have none: nothing to open)."""
    count = pdfium_c.FPDFPage_CountObjects(page.raw)
    if count > MAX_PAGE_OBJECTS or not forms:
        return count
    stack = [pdfium_c.FPDFPage_GetObject(page.raw, i) for i in range(count)]
    while stack:
        obj = stack.pop()
        if pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_FORM:
            inner = pdfium_c.FPDFFormObj_CountObjects(obj)
            count += inner
            if count > MAX_PAGE_OBJECTS:
                return count
            stack.extend(pdfium_c.FPDFFormObj_GetObject(obj, i) for i in range(inner))
    return count


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
    _check_streams(data)
    # form XObjects can hide a page's objects; object streams can hide the forms themselves
    forms = b"/Form" in data or b"/ObjStm" in data
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        msg = str(e)
        if "password" in msg.lower():
            raise ExtractError("encrypted PDF (password required)") from None
        raise ExtractError(f"corrupt or unreadable PDF ({msg})") from None
    lines: list[Line] = []
    cuts: list[str] = []
    total_objects = total_chars = 0  # on the pages seen, read or skipped
    crowded = False  # a page skipped for its objects: not a scan, whatever its text
    reader = DocumentOcr(data, ocr)
    try:
        pages = len(pdf)
        for p in range(min(pages, MAX_PAGES)):
            if total_chars > MAX_CHARS or total_objects > MAX_OBJECTS:
                what = f"字符超过 {MAX_CHARS} 个" if total_chars > MAX_CHARS else f"对象超过 {MAX_OBJECTS} 个"
                cuts.append(f"PDF 前 {p} 页的{what}，第 {p + 1}–{pages} 页未读取")
                break
            page = pdf[p]
            try:
                objects = _object_count(page, forms)
                total_objects += objects
                if objects > MAX_PAGE_OBJECTS:
                    crowded = True
                    cuts.append(f"第 {p + 1} 页的对象超过 {MAX_PAGE_OBJECTS} 个（嵌套绘制？），未读取")
                    continue
                textpage = page.get_textpage()
                try:
                    count = pdfium_c.FPDFText_CountChars(textpage.raw)
                    if count > MAX_PAGE_CHARS:
                        total_chars += count
                        cuts.append(f"第 {p + 1} 页的字符超过 {MAX_PAGE_CHARS} 个，未读取")
                        continue
                    chars = _page_chars(textpage.raw)
                    if _scanned(page, chars):
                        scale = min(RENDER_SCALE, MAX_SIDE / max(1.0, *page.get_size()))  # a huge page is not a huge bitmap
                        render = lambda page=page, scale=scale: page.render(scale=scale, rev_byteorder=True).to_numpy()
                        page_lines = reader.lines(p, p + 1, render, 1 / scale)
                    else:
                        page_lines = glyph_lines(chars, page=p + 1)
                finally:
                    textpage.close()
            finally:
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
    meta = {}
    if pages > MAX_PAGES:
        meta["truncated_pages"] = str(pages - MAX_PAGES)
        cuts.append(f"PDF 共 {pages} 页，只读取前 {MAX_PAGES} 页")
    return Document(
        lines=lines,
        format="pdf",
        pages=pages,
        has_text_layer=total_chars > 0 or crowded,
        meta=meta,
        ocr=reader.result,
        cuts=cuts,
    )
