"""Word (DOCX) and Excel (XLSX) files, read straight from their XML.

The XML parser never resolves entities or fetches anything, and every zip
member is size-checked before it is read, so entity expansion and zip bombs
fail with a clear error instead of eating memory.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from lxml import etree

from ..errors import ExtractError
from .document import Document, Line

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
# what zipfile raises for a corrupt archive besides BadZipFile (found by bench/fuzz.py)
ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error)
MAX_MEMBER = 32 * 1024 * 1024  # uncompressed bytes of one XML part: its lxml tree takes about 20 times that
MAX_RATIO = 200  # uncompressed / compressed
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS:
        raise ExtractError("corrupt Office file (not a valid zip archive)") from None


def _read_xml(zf: zipfile.ZipFile, name: str):
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ExtractError(f"corrupt Office file (no {name})") from None
    if info.file_size > MAX_MEMBER or (
        info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1024 * 1024
    ):
        raise ExtractError(f"refusing {name}: {info.file_size} bytes uncompressed (zip bomb?)")
    try:
        with zf.open(name) as fh:
            raw = fh.read(MAX_MEMBER + 1)
    except ZIP_ERRORS as e:
        raise ExtractError(f"corrupt Office file ({type(e).__name__}: {e})") from None
    if b"<!ENTITY" in raw[:65536]:
        raise ExtractError(f"refusing {name}: XML entity declarations are not allowed")
    try:
        return etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as e:
        raise ExtractError(f"corrupt Office XML in {name} ({e})") from None


# --------------------------------------------------------------------------- DOCX


def _paragraph_text(p) -> str:
    parts = []
    for el in p.iter(W + "t", W + "tab", W + "br", W + "cr"):
        if el.tag == W + "t":
            parts.append(el.text or "")
        else:
            parts.append(" ")
    return "".join(parts)


def _cell_text(tc) -> str:
    return " ".join(" ".join(_paragraph_text(p) for p in tc.iter(W + "p")).split())


def _is_merge_continuation(tc) -> bool:
    vmerge = tc.find(f"{W}tcPr/{W}vMerge")
    return vmerge is not None and vmerge.get(W + "val") in (None, "continue")


def _walk_docx(el, lines: list[Line], depth: int = 0) -> None:
    if depth > 50:
        raise ExtractError("Word document nested too deeply")
    for child in el:
        if child.tag == W + "p":
            text = " ".join(_paragraph_text(child).split())
            if text:
                lines.append(Line([text]))
        elif child.tag == W + "tbl":
            for tr in child.findall(W + "tr"):
                cells = [_cell_text(tc) for tc in tr.findall(W + "tc") if not _is_merge_continuation(tc)]
                if any(cells):
                    lines.append(Line(cells, hard=True))
        elif child.tag in (W + "sdt", W + "sdtContent", W + "customXml", W + "body"):
            _walk_docx(child, lines, depth + 1)


def extract_docx(data: bytes) -> Document:
    zf = _open(data)
    root = _read_xml(zf, "word/document.xml")
    body = root.find(W + "body")
    lines: list[Line] = []
    _walk_docx(body if body is not None else root, lines)
    title = None
    if "docProps/core.xml" in zf.namelist():
        core = _read_xml(zf, "docProps/core.xml")
        t = core.find("{http://purl.org/dc/elements/1.1/}title")
        title = t.text.strip() if t is not None and t.text and t.text.strip() else None
    return Document(lines=lines, format="docx", title=title)


# --------------------------------------------------------------------------- XLSX

_CELL_REF = re.compile(r"([A-Z]{1,3})\d")
MAX_COLUMNS = 16_384  # Excel's last column, XFD
MAX_GAP = 32  # blank cells kept between two cells present; a wider gap is closed up to this


def _col_index(ref: str | None) -> int | None:
    """The 0-based column of a cell reference such as ``AB12``; None when the reference
    is missing, malformed or beyond Excel's last column."""
    m = _CELL_REF.match(ref or "")
    if not m:
        return None
    n = 0
    for ch in m.group(1):
        n = n * 26 + ord(ch) - 64
    return n - 1 if n <= MAX_COLUMNS else None


def _row_cells(cells: dict[int, str]) -> list[str]:
    """A row's cells in column order, blanks between them kept but each gap at most
    ``MAX_GAP`` wide: the row's length is bounded by the cells present, not by how far
    right the last one claims to be."""
    out: list[str] = []
    previous = -1
    for column in sorted(cells):
        out += [""] * min(column - previous - 1, MAX_GAP)
        out.append(cells[column])
        previous = column
    return out


def extract_xlsx(data: bytes) -> Document:
    zf = _open(data)
    shared: list[str] = []
    if "xl/sharedStrings.xml" in zf.namelist():
        for si in _read_xml(zf, "xl/sharedStrings.xml").iter(S + "si"):
            shared.append("".join(t.text or "" for t in si.iter(S + "t")))
    sheets = sorted(n for n in zf.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    if not sheets:
        raise ExtractError("corrupt Excel file (no worksheets)")
    lines: list[Line] = []
    outside = 0
    for name in sheets:
        for row in _read_xml(zf, name).iter(S + "row"):
            cells: dict[int, str] = {}
            column = -1
            for c in row.iter(S + "c"):
                ref = c.get("r")
                # a cell without a reference follows the one before it (the reference is optional)
                column = column + 1 if ref is None else _col_index(ref)
                if column is None:
                    outside += 1
                    column = max(cells, default=-1)
                    continue
                v = c.find(S + "v")
                if c.get("t") == "inlineStr":
                    text = "".join(t.text or "" for t in c.iter(S + "t"))
                elif v is None or v.text is None:
                    continue
                elif c.get("t") == "s":
                    index = v.text.strip()
                    k = int(index) if index.isdecimal() and len(index) < 10 else -1
                    text = shared[k] if 0 <= k < len(shared) else ""
                else:
                    text = v.text
                cells[column] = " ".join(text.split())
            if any(cells.values()):
                lines.append(Line(_row_cells(cells), hard=True))
    cuts = [f"{outside} 个单元格的位置无效或超出 Excel 的列范围（XFD），未读取"] if outside else []
    return Document(lines=lines, format="xlsx", cuts=cuts)
