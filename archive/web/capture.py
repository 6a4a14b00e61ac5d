"""Archived copies: ``/-/capture/<sha256>`` serves a stored capture as it was fetched.

Pages keep their own bytes and are labelled with the charset they are really in
(the portal's header, the page's meta tag, or what the bytes decode as: a GBK
page under a header claiming UTF-8 is served as GB18030), so no page shows as
mojibake. Archived pages are hostile content from another origin: they are served
under ``Content-Security-Policy: sandbox`` (no scripts, no same-origin access) and
``nosniff``. PDFs open inline in the browser's viewer (which a sandboxed document
may not use; the viewer runs no script of the page's origin); other files are
downloads.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from datasette.utils.asgi import Response

from ..blobs import BlobStore
from ..encoding import decode

_TYPES = {
    "html": "text/html",
    "pdf": "application/pdf",
    "json": "application/json",
    "xml": "text/xml",
    "text": "text/plain",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "wps": "application/vnd.ms-works",
}
_TEXT = ("html", "text", "json", "xml")
SHA = re.compile(r"^[0-9a-f]{64}$")


def blob_root(datasette) -> Path:
    """The blob store beside the archive database (``data/archive.db`` → ``data/blobs``)."""
    return Path(datasette.get_database("archive").path).parent / "blobs"


async def capture(request, datasette):
    sha256 = request.url_vars["sha256"]
    try:
        data = BlobStore(blob_root(datasette)).get(sha256)
    except FileNotFoundError:
        return Response.text("该文件不在存档中", status=404)
    db = datasette.get_database("archive")
    row = (await db.execute("select kind from documents where sha256 = ?", [sha256])).first()
    kind = row[0] if row else "binary"
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    content_type = _TYPES.get(kind, "application/octet-stream")
    if kind in _TEXT:
        fetched = (
            await db.execute(
                "select headers from captures where sha256 = ? and headers is not null order by id desc limit 1", [sha256]
            )
        ).first()
        stored = json.loads(fetched[0]) if fetched else {}
        declared = next((v for k, v in stored.items() if k.lower() == "content-type"), None)
        content_type += f"; charset={decode(data, declared)[1].removesuffix('-sig')}"
    if kind == "pdf":
        headers["Content-Disposition"] = f'inline; filename="{sha256[:16]}.pdf"'
    else:
        headers["Content-Security-Policy"] = "sandbox"
        if kind not in _TEXT:
            headers["Content-Disposition"] = f'attachment; filename="{sha256[:16]}.{kind}"'
    return Response(data, status=200, headers=headers, content_type=content_type)
