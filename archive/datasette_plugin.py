"""The Datasette plugin that links reports to their archived copies.

``/-/capture/<sha256>`` serves a stored capture (decompressed) with the type
it was archived as. Archived pages are hostile content from another origin:
they are served under ``Content-Security-Policy: sandbox`` (no scripts, no
same-origin access) and ``nosniff``. Hash columns render as links to the copy.
"""

from __future__ import annotations

import re

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from .blobs import BlobStore

_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json",
    "xml": "text/xml",
    "text": "text/plain; charset=utf-8",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "wps": "application/vnd.ms-works",
}
_SHA = re.compile(r"^[0-9a-f]{64}$")
HASH_COLUMNS = {"sha256", "source_sha256", "zip_sha256"}


async def capture(request, datasette):
    sha256 = request.url_vars["sha256"]
    root = (datasette.plugin_config("nianbao") or {}).get("blobs")
    if not root or not _SHA.match(sha256):
        return Response.text("not found", status=404)
    try:
        data = BlobStore(root).get(sha256)
    except FileNotFoundError:
        return Response.text("该文件不在存档中", status=404)
    db = datasette.get_database("archive")
    row = (await db.execute("select kind from documents where sha256 = ?", [sha256])).first()
    kind = row[0] if row else "binary"
    headers = {
        "Content-Security-Policy": "sandbox",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    if kind not in ("html", "pdf", "text", "json", "xml"):
        headers["Content-Disposition"] = f'attachment; filename="{sha256[:16]}.{kind}"'
    return Response(data, status=200, headers=headers, content_type=_TYPES.get(kind, "application/octet-stream"))


@hookimpl
def register_routes():
    return [(r"^/-/capture/(?P<sha256>[0-9a-f]{64})$", capture)]


@hookimpl
def render_cell(value, column, datasette):
    if column in HASH_COLUMNS and isinstance(value, str) and _SHA.match(value):
        return Markup(
            f'<a href="{datasette.urls.path("/-/capture/" + value)}" title="{value}">存档副本 {escape(value[:12])}…</a>'
        )
    if (
        column in ("url", "原文", "requested_url", "report_url")
        and isinstance(value, str)
        and value.startswith(("http://", "https://"))
    ):
        return Markup(f'<a href="{escape(value)}" rel="noopener noreferrer nofollow">{escape(value)}</a>')
    return None
