"""Turn a file's bytes into a :class:`Document`, whatever the format.

The format is sniffed from the bytes first (portals mislabel files and
download URLs often have no extension), then from the file name or
Content-Type. Scanned pages (a PDF page without text, an image, a picture
in a Word file) are read by OCR (:mod:`.ocr`, options in :class:`OcrOptions`).
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from itertools import chain
from operator import attrgetter
from pathlib import Path

from ..encoding import decode
from ..errors import ExtractError
from .chinese import to_simplified
from .document import Document, Line
from .html import extract_html
from .image import extract_image
from .ocr import OcrCache, OcrOptions
from .office import convert
from .ooxml import ZIP_ERRORS, extract_docx, extract_xlsx
from .pdf import extract_pdf
from .text import extract_text

__all__ = ["Document", "Line", "OcrCache", "OcrOptions", "extract", "read_file", "sniff", "SUPPORTED"]

SUPPORTED = ("pdf", "html", "docx", "xlsx", "doc", "wps", "xls", "text", "image")
MAX_BYTES = 200 * 1024 * 1024
# Bounds on what any extractor hands the parser (a real report has a few hundred
# lines of a few cells; its longest paragraph is a few hundred characters). A cut
# is recorded on the document, never silent. Cells stay below Python's 4,300-digit
# limit on int() of a digit string.
MAX_LINES = 50_000
MAX_CELLS_PER_LINE = 512
MAX_CELL_CHARS = 4_000
_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|table|meta|div|p)[\s>/]", re.I)
# a text file (.txt / .md) is HTML only when it is a whole page, not markdown with a stray tag
_HTML_PAGE = re.compile(rb"<(?:!doctype\s+html|html|head|body|table)[\s>/]", re.I)
_TEXT_EXTS = ("txt", "md", "markdown", "text")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"GIF87a", b"GIF89a")  # JPEG PNG TIFF GIF


def _zip_kind(data: bytes) -> str | None:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except ZIP_ERRORS:
        return "badzip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return "zip"


def sniff(data: bytes, name: str | None = None, content_type: str | None = None) -> str:
    head = data[:2048].lstrip()
    ext = (name or "").lower().rsplit(".", 1)[-1] if name and "." in name else ""
    if data.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(_IMAGES) or (data.startswith(b"BM") and ext == "bmp"):
        return "image"
    if data.startswith(_OLE):
        if ext in ("xls", "et"):
            return "xls"
        return "wps" if ext == "wps" else "doc"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if ext in _TEXT_EXTS and not _HTML_PAGE.search(head):
        return "binary" if b"\x00" in data[:4096] else "text"
    if _HTML.search(head) or ext in ("html", "htm", "shtml", "jsp") or "html" in (content_type or ""):
        return "html"
    if b"\x00" in data[:4096]:
        return "binary"
    return "text"


def read_file(path: str | Path) -> bytes:
    """A report file's bytes, its size checked before it is read: devices (/dev/zero),
    FIFOs, sockets and directories are refused without being opened for reading."""
    try:
        info = os.stat(path)
    except OSError as e:
        raise ExtractError(f"cannot read file ({e.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ExtractError("不是普通文件（设备、FIFO、套接字或目录），不读取")
    if info.st_size > MAX_BYTES:
        raise ExtractError(f"文件过大（{info.st_size} 字节，上限 {MAX_BYTES} 字节）")
    try:  # O_NONBLOCK: a FIFO swapped in after the check cannot hang the open
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise ExtractError(f"cannot read file ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ExtractError("不是普通文件（设备、FIFO、套接字或目录），不读取")
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ExtractError(f"文件过大（超过上限 {MAX_BYTES} 字节）")
    return data


def _bounded_text(text: str) -> tuple[str, list[str]]:
    """At most ``MAX_LINES`` lines of text (the extractor's work grows with them)."""
    if text.count("\n") < MAX_LINES:
        return text, []
    cut = 0
    for _ in range(MAX_LINES):
        cut = text.find("\n", cut) + 1
        if not cut:
            return text, []
    rest = text.count("\n", cut) + 1
    return text[:cut], [f"文本超过 {MAX_LINES} 行，其后 {rest} 行未读取"]


_CELLS = attrgetter("cells")


def _bounded(doc: Document) -> Document:
    """Lines, cells per line and characters per cell within the bounds; each cut said."""
    if len(doc.lines) > MAX_LINES:
        doc.cuts.append(f"文件超过 {MAX_LINES} 行，其后 {len(doc.lines) - MAX_LINES} 行未读取")
        del doc.lines[MAX_LINES:]
    rows = list(map(_CELLS, doc.lines))
    widest = max(map(len, rows), default=0)
    if widest <= MAX_CELLS_PER_LINE and max(map(len, chain.from_iterable(rows)), default=0) <= MAX_CELL_CHARS:
        return doc  # the usual document: nothing to cut (one pass in C over every cell)
    wide = long = 0
    for line in doc.lines:
        if len(line.cells) > MAX_CELLS_PER_LINE:
            wide += 1
            del line.cells[MAX_CELLS_PER_LINE:]
            if line.spans is not None:
                del line.spans[MAX_CELLS_PER_LINE:]
        for i, cell in enumerate(line.cells):
            if len(cell) > MAX_CELL_CHARS:
                long += 1
                line.cells[i] = cell[:MAX_CELL_CHARS]
    if wide:
        doc.cuts.append(f"{wide} 行的单元格超过 {MAX_CELLS_PER_LINE} 个，超出部分未读取")
    if long:
        doc.cuts.append(f"{long} 个段落或单元格超过 {MAX_CELL_CHARS} 字，超出部分未读取")
    return doc


def extract(data: bytes, name: str | None = None, content_type: str | None = None, ocr: OcrOptions | None = None) -> Document:
    return to_simplified(_bounded(_extract(data, name, content_type, ocr)))


def _extract(data: bytes, name: str | None, content_type: str | None, ocr: OcrOptions | None) -> Document:
    if not data or not data.strip():
        raise ExtractError("empty file")
    if len(data) > MAX_BYTES:
        raise ExtractError(f"文件过大（{len(data)} 字节，上限 {MAX_BYTES} 字节）")
    kind = sniff(data, name, content_type)
    if kind == "pdf":
        return extract_pdf(data, ocr)
    if kind == "image":
        return extract_image(data, ocr)
    if kind == "html":
        return extract_html(data, content_type)
    if kind == "docx":
        return extract_docx(data, ocr)
    if kind == "xlsx":
        return extract_xlsx(data)
    if kind in ("doc", "wps", "rtf"):
        doc = extract_docx(convert(data, f".{kind}", "docx"), ocr)
        doc.format = kind
        return doc
    if kind == "xls":
        doc = extract_xlsx(convert(data, ".xls", "xlsx"))
        doc.format = kind
        return doc
    if kind == "text":
        fmt = "markdown" if (name or "").lower().endswith(".md") else "text"
        text, cuts = _bounded_text(decode(data, content_type)[0])
        doc = extract_text(text, fmt)
        doc.cuts += cuts
        return doc
    if kind == "badzip":
        raise ExtractError("corrupt Office file (not a valid zip archive)")
    if kind == "zip":
        raise ExtractError("a zip archive, not a report: unpack it and parse its files")
    raise ExtractError("unsupported file type (not PDF, HTML, Word, WPS, Excel, text or image)")
