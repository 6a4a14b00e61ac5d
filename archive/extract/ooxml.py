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
from .document import Document, Line
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
MAX_MEMBER = 64 * 1024 * 1024  # uncompressed bytes of one XML part
MAX_RATIO = 200  # uncompressed / compressed
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
            for tr in child.findall(W + "tr"):
                cells = [_cell_text(tc) for tc in tr.findall(W + "tc") if not _is_merge_continuation(tc)]
                if any(cells):
                    lines.append(Line(cells, hard=True))
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

_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def _col_index(ref: str) -> int:
    m = _CELL_REF.match(ref or "")
    if not m:
        return -1
    n = 0
    for ch in m.group(1):
        n = n * 26 + ord(ch) - 64
    return n - 1


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
    for name in sheets:
        for row in _read_xml(zf, name).iter(S + "row"):
            cells: dict[int, str] = {}
            for c in row.iter(S + "c"):
                v = c.find(S + "v")
                if c.get("t") == "inlineStr":
                    text = "".join(t.text or "" for t in c.iter(S + "t"))
                elif v is None or v.text is None:
                    continue
                elif c.get("t") == "s":
                    k = int(v.text)
                    text = shared[k] if 0 <= k < len(shared) else ""
                else:
                    text = v.text
                cells[_col_index(c.get("r"))] = " ".join(text.split())
            if any(cells.values()):
                width = max(cells) + 1
                lines.append(Line([cells.get(i, "") for i in range(width)], hard=True))
    return Document(lines=lines, format="xlsx")
