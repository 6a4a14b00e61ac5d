"""Item pipeline: keep every raw capture (bytes by hash) and remember what was fetched."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from archive.extract import sniff

from .detail import ATTACHMENT_TYPES
from .items import Capture, Fetched

MAX_ZIP_MEMBERS = 200
MAX_ZIP_MEMBER_BYTES = 200 * 1024 * 1024


def _kind(fetched: Fetched) -> str:
    ctype = fetched.headers.get("Content-Type", "").lower()
    kind = sniff(fetched.body, fetched.link_name or PurePosixPath(fetched.url.split("?")[0]).name, ctype)
    if kind == "text" and "json" in ctype:
        return "json"
    if kind in ("text", "html") and ctype.split(";")[0].strip() in ("text/xml", "application/xml"):
        return "xml"
    return kind


def _member_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:
        return info.filename
    try:                                 # Chinese Windows zips store names in GBK without the UTF-8 flag
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


class CapturePipeline:
    """Stores ``Fetched`` bodies in the spider's blob store, records them in its crawl
    state, and passes on a ``Capture``; a ZIP's report files are stored one by one."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, Fetched):
            return item
        spider = self.crawler.spider
        sha256 = spider.store.put(item.body)
        kind = _kind(item)
        members = self._members(item.body, spider) if kind == "zip" else []
        spider.state.record(item.url, portal=item.portal, role=item.role, status=item.status, sha256=sha256,
                            etag=item.headers.get("ETag"), last_modified=item.headers.get("Last-Modified"),
                            report_url=item.report_url)
        return Capture(item.portal, item.role, item.url, item.status, item.headers, item.fetched_at, sha256,
                       len(item.body), kind, item.report_url, item.link_name, members)

    @staticmethod
    def _members(body: bytes, spider) -> list[dict]:
        out = []
        try:
            archive = zipfile.ZipFile(io.BytesIO(body))
            infos = archive.infolist()[:MAX_ZIP_MEMBERS]
            for info in infos:
                name = _member_name(info)
                ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
                if info.is_dir() or ext not in ATTACHMENT_TYPES or ext == "zip" or info.file_size > MAX_ZIP_MEMBER_BYTES:
                    continue
                data = archive.read(info)
                out.append({"name": name, "kind": sniff(data, name), "sha256": spider.store.put(data), "size": len(data)})
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as e:
            out.append({"name": None, "error": f"unreadable ZIP: {e}"})
        return out
