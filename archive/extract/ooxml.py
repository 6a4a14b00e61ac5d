"""Word (DOCX) and Excel (XLSX) files, read straight from their XML.

The XML parser never resolves entities or fetches anything, and every zip
member is size-checked before it is read, so entity expansion and zip bombs
fail with a clear error instead of eating memory. Pictures in a Word file
(a table pasted as a scan) are read by OCR where they stand.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable

from lxml import etree

from ..errors import ExtractError
from .document import RAISED, Document, Line
from .image import image_lines
from .ocr import DocumentOcr, OcrOptions

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_IMAGEDATA = "{urn:schemas-microsoft-com:vml}imagedata"  # pictures in the older VML form
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
# what zipfile raises for a corrupt archive besides BadZipFile (found by bench/fuzz.py)
ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error)
MAX_MEMBER = 32 * 1024 * 1024  # uncompressed bytes of one XML part: its lxml tree takes about 20 times that
MAX_RATIO = 200  # uncompressed / compressed
MAX_COLUMNS = 1024  # a report table is a few dozen columns wide: cells further right are not read (and said)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS:
        raise ExtractError("corrupt Office file (not a valid zip archive)") from None


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
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
            return fh.read(MAX_MEMBER + 1)
    except ZIP_ERRORS as e:
        raise ExtractError(f"corrupt Office file ({type(e).__name__}: {e})") from None


def _read_xml(zf: zipfile.ZipFile, name: str):
    raw = _read_member(zf, name)
    if b"<!ENTITY" in raw[:65536]:
        raise ExtractError(f"refusing {name}: XML entity declarations are not allowed")
    try:
        return etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as e:
        raise ExtractError(f"corrupt Office XML in {name} ({e})") from None


# --------------------------------------------------------------------------- DOCX


def _paragraph_text(p) -> str:
    raised = p.find(f".//{W}vertAlign") is not None  # a superscript or subscript run somewhere
    parts = []
    for el in p.iter(W + "t", W + "tab", W + "br", W + "cr"):
        if el.tag == W + "t":
            parts.append(_raised_run(el) if raised else el.text or "")
        else:
            parts.append(" ")
    return "".join(parts)


def _raised_run(t) -> str:
    """A run's text, its digits as super- or subscript characters when the run is printed
    so (a footnote mark: see ``RAISED``)."""
    run = t.getparent()
    align = run.find(f"{W}rPr/{W}vertAlign") if run is not None else None
    kind = {"superscript": "sup", "subscript": "sub"}.get(align.get(W + "val", "")) if align is not None else None
    return (t.text or "").translate(RAISED[kind]) if kind else t.text or ""


def _cell_text(tc) -> str:
    return " ".join(" ".join(_paragraph_text(p) for p in tc.iter(W + "p")).split())


def _is_merge_continuation(tc) -> bool:
    vmerge = tc.find(f"{W}tcPr/{W}vMerge")
    return vmerge is not None and vmerge.get(W + "val") in (None, "continue")


def _grid_span(tc) -> int:
    span = tc.find(f"{W}tcPr/{W}gridSpan")
    try:
        return max(1, min(int(span.get(W + "val")), 1000)) if span is not None else 1
    except (TypeError, ValueError):
        return 1


def _table_lines(tbl, space: int) -> list[Line]:
    """The table's rows; each cell keeps the grid columns it covers (``gridSpan``); the
    cells a vertical merge continues are left out but keep their columns."""
    lines = []
    for tr in tbl.findall(W + "tr"):
        cells, spans, col = [], [], 0
        before = tr.find(f"{W}trPr/{W}gridBefore")
        if before is not None and (before.get(W + "val") or "").isdigit():
            col = int(before.get(W + "val"))
        for tc in tr.findall(W + "tc"):
            width = _grid_span(tc)
            if not _is_merge_continuation(tc):
                cells.append(_cell_text(tc))
                spans.append((float(col), float(col + width)))
            col += width
        if any(cells):
            lines.append(Line(cells, hard=True, spans=spans, space=space, grid=True))
    return lines


def _walk_docx(el, lines: list[Line], pictures: Callable[[str], list[Line]], depth: int = 0) -> None:
    if depth > 50:
        raise ExtractError("Word document nested too deeply")
    for child in el:
        if child.tag == W + "p":
            text = " ".join(_paragraph_text(child).split())
            if text:
                lines.append(Line([text]))
            for pic in child.iter(_BLIP, _IMAGEDATA):
                rid = pic.get(R + "embed") or pic.get(R + "id")
                if rid:
                    lines.extend(pictures(rid))
        elif child.tag == W + "tbl":
            lines.extend(_table_lines(child, space=len(lines) + 1))  # unique: lines only grow
        elif child.tag in (W + "sdt", W + "sdtContent", W + "customXml", W + "body"):
            _walk_docx(child, lines, pictures, depth + 1)


def _picture_reader(zf: zipfile.ZipFile, reader: DocumentOcr) -> Callable[[str], list[Line]]:
    """``rId`` → the lines OCR reads in that picture (each picture read once, numbered in order)."""
    targets: dict[str, str] = {}
    if "word/_rels/document.xml.rels" in zf.namelist():
        for rel in _read_xml(zf, "word/_rels/document.xml.rels").iter(_RELS):
            if rel.get("TargetMode") != "External" and rel.get("Type", "").endswith("/image"):
                target = rel.get("Target", "").lstrip("/")
                targets[rel.get("Id")] = target if target.startswith("word/") else "word/" + target
    seen: set[str] = set()
    frames = [1]  # the number the next picture's first frame gets

    def pictures(rid: str) -> list[Line]:
        name = targets.get(rid)
        if name is None or name in seen or name not in zf.namelist():
            return []
        seen.add(name)
        try:
            lines, frames[0] = image_lines(_read_member(zf, name), reader, first=frames[0])
        except ExtractError as e:  # an unreadable picture (an EMF logo …) is noted; the rest is read
            reader.info.errors.append(f"{name.rsplit('/', 1)[-1]}: {e}")
            return []
        return lines

    return pictures


def extract_docx(data: bytes, ocr: OcrOptions | None = None) -> Document:
    zf = _open(data)
    root = _read_xml(zf, "word/document.xml")
    body = root.find(W + "body")
    lines: list[Line] = []
    reader = DocumentOcr(data, ocr)
    _walk_docx(body if body is not None else root, lines, _picture_reader(zf, reader))
    title = None
    if "docProps/core.xml" in zf.namelist():
        core = _read_xml(zf, "docProps/core.xml")
        t = core.find("{http://purl.org/dc/elements/1.1/}title")
        title = t.text.strip() if t is not None and t.text and t.text.strip() else None
    return Document(lines=lines, format="docx", title=title, ocr=reader.result)


# --------------------------------------------------------------------------- XLSX

_CELL_REF = re.compile(r"([A-Z]{1,3})(\d{1,7})$")
MAX_CELLS = 2_000_000  # cells handed on, blanks included: rows × the sheet's width is bounded too


def _col_index(ref: str | None) -> int | None:
    """The 0-based column of a cell reference such as ``AB12``; None when the reference
    is malformed or beyond the columns read (``MAX_COLUMNS``)."""
    m = _CELL_REF.match(ref or "")
    if not m:
        return None
    n = 0
    for ch in m.group(1):
        n = n * 26 + ord(ch) - 64
    return n - 1 if n <= MAX_COLUMNS else None


def _row_number(row) -> int:
    r = (row.get("r") or "").strip()
    return int(r) if r.isdecimal() and len(r) < 10 else 0


def _shown_number(value: str) -> str:
    """A numeric cell's stored value as the spreadsheet shows it: an IEEE double kept to the
    15 significant digits Excel displays, so ``95.000000000000014`` (a total computed by a
    formula) is 95 and ``1.2E+3`` is 1200; anything else as stored."""
    try:
        number = float(value)
    except ValueError:
        return value
    if number != number or number in (float("inf"), float("-inf")):
        return value
    return f"{number:.15g}" if abs(number) < 1e15 else value


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
    outside = emitted = 0
    first_outside: str | None = None  # the first cell not read, named in the finding
    cuts: list[str] = []
    for number, name in enumerate(sheets, start=1):
        sheet = _read_xml(zf, name)
        merged = _merged(sheet)
        rows: list[tuple[int, dict[int, str]]] = []
        for row in sheet.iter(S + "row"):
            cells: dict[int, str] = {}
            col: int | None = -1
            for c in row.iter(S + "c"):
                ref = c.get("r")
                # a cell without a reference follows the one before it (the reference is optional)
                col = (col + 1 if col is not None and col + 1 < MAX_COLUMNS else None) if ref is None else _col_index(ref)
                if col is None or not 0 <= col < MAX_COLUMNS:
                    outside += 1
                    first_outside = first_outside or (ref or "?")
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
                elif c.get("t") in (None, "n"):
                    text = _shown_number(v.text)
                else:
                    text = v.text
                cells[col] = " ".join(text.split())
            if any(cells.values()):
                rows.append((_row_number(row), cells))
        # a blank cell has no XML at all: every row runs to the sheet's last used column
        width = max((max(cells) + 1 for _, cells in rows), default=0)
        for k, (r, cells) in enumerate(rows):
            if emitted + width > MAX_CELLS:
                cuts.append(f"表格单元格超过 {MAX_CELLS} 个，第 {number} 个工作表的后 {len(rows) - k} 行及其后的工作表未读取")
                break
            # a merged range is one cell at its top-left corner; the rest of it is covered
            covered = {c for (r0, r1, c0, c1) in merged if r0 <= r <= r1 for c in range(c0 + (r == r0), c1 + 1)} - set(cells)
            columns = [c for c in range(width) if c not in covered]
            spans = [(float(c), float(_merged_end(merged, r, c) + 1)) for c in columns]
            lines.append(Line([cells.get(c, "") for c in columns], hard=True, spans=spans, space=number, grid=True))
            emitted += width
        if cuts:
            break
    if outside:
        cuts.insert(0, f"{outside} 个单元格的位置无效或超出第 {MAX_COLUMNS} 列（如 {first_outside}），未读取")
    return Document(lines=lines, format="xlsx", cuts=cuts)


def _merged(sheet) -> list[tuple[int, int, int, int]]:
    """Merged ranges (first row, last row, first column, last column), rows 1-based; a range
    reaching past ``MAX_COLUMNS`` ends there (A1:ZZZZZZZ1 would cover eight billion)."""
    out = []
    for m in sheet.iter(S + "mergeCell"):
        a, _, b = (m.get("ref") or "").partition(":")
        ma, mb = _CELL_REF.match(a), _CELL_REF.match(b)
        first = _col_index(a)
        if ma and mb and first is not None:
            last = _col_index(b)
            out.append((int(ma.group(2)), int(mb.group(2)), first, MAX_COLUMNS - 1 if last is None else last))
    return out[:10000]


def _merged_end(merged: list[tuple[int, int, int, int]], r: int, c: int) -> int:
    """The last column of the merged range that starts at (r, c), else c."""
    for r0, _, c0, c1 in merged:
        if r0 == r and c0 == c:
            return c1
    return c
