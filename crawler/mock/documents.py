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
    kind: str                 # "p" or "table"
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
                "<tr>" + "".join(f"<td>{html.escape(c) if c else '&nbsp;'}</td>" for c in row) + "</tr>"
                for row in b.rows)
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
    '</Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>')


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
                for row in b.rows)
            body.append(f'<w:tbl><w:tblGrid>{grid}</w:tblGrid>{rows}</w:tbl>')
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_W}><w:body>'
                + "".join(body) + "<w:sectPr/></w:body></w:document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", document)
    return buf.getvalue()
