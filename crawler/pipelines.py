"""The item pipeline: keep every raw capture (bytes by hash) and remember what was
fetched; record captures, problems and report sightings in the archive, and at
the end of the crawl parse and store the reports it found."""

from __future__ import annotations

import io
import logging
import sqlite3
import time
import zipfile
from pathlib import PurePosixPath

from scrapy.exceptions import DropItem

from archive import ingest, list_walks
from archive.extract import ZIP_ERRORS, sniff
from archive.schema import open_archive

from .detail import ATTACHMENT_TYPES
from .items import Capture, Fetched, ListWalk, Problem, ReportFound

MAX_ZIP_MEMBERS = 200
MAX_ZIP_MEMBER_BYTES = 200 * 1024 * 1024
MAX_ZIP_TOTAL_BYTES = 512 * 1024 * 1024  # all members of one ZIP, unpacked
MAX_ZIP_RATIO = 200  # a member unpacking to more than 200× its packed size is a bomb
log = logging.getLogger(__name__)


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
    try:  # Chinese Windows zips store names in GBK without the UTF-8 flag
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _header(headers: dict[str, str], name: str) -> str | None:
    """A response header by name in any case (Scrapy writes ETag as Etag)."""
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def store_capture(item: Fetched, spider) -> Capture:
    """The bytes into the blob store (a ZIP's report files one by one), the URL into the crawl state."""
    kind = _kind(item)
    sha256 = spider.store.put(item.body, kind)
    members = _members(item.body, spider) if kind == "zip" else []
    spider.state.record(
        item.url,
        portal=item.portal,
        role=item.role,
        status=item.status,
        sha256=sha256,
        etag=_header(item.headers, "ETag"),
        last_modified=_header(item.headers, "Last-Modified"),
        report_url=item.report_url,
    )
    return Capture(
        item.portal,
        item.role,
        item.url,
        item.status,
        item.headers,
        item.fetched_at,
        sha256,
        len(item.body),
        kind,
        item.report_url,
        item.link_name,
        members,
        item.requested_url,
        item.referer,
    )


def _members(body: bytes, spider) -> list[dict]:
    """A ZIP's report files, each stored by hash. Member names are kept as text only
    (never used as paths); sizes are bounded per member, per ZIP and by ratio, and
    zipfile reads no more than a member's declared size."""
    out = []
    total = 0
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        for info in archive.infolist()[:MAX_ZIP_MEMBERS]:
            name = _member_name(info)
            ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if info.is_dir() or ext not in ATTACHMENT_TYPES or ext == "zip":
                continue
            too_big = (
                info.file_size > MAX_ZIP_MEMBER_BYTES
                or total + info.file_size > MAX_ZIP_TOTAL_BYTES
                or info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1) + 1024 * 1024
            )
            if too_big:
                out.append(
                    {
                        "name": name,
                        "error": f"not unpacked: {info.file_size} bytes from {info.compress_size} "
                        "packed (size or ratio limit; a ZIP bomb?)",
                    }
                )
                continue
            data = archive.read(info)
            total += len(data)
            kind = sniff(data, name)
            out.append({"name": name, "kind": kind, "sha256": spider.store.put(data, kind), "size": len(data)})
    except (*ZIP_ERRORS, RuntimeError) as e:
        out.append({"name": None, "error": f"unreadable ZIP: {e}"})
    return out


_RECORD = {
    Capture: ingest.record_capture,
    Problem: ingest.record_problem,
    ReportFound: ingest.record_sighting,
    ListWalk: list_walks.record_walk,
}


class ArchivePipeline:
    """The crawl's one item pipeline (one pass through Scrapy's pipeline machinery per
    item, which is most of a crawl's CPU): fetched bytes stored by hash, captures,
    problems and report sightings recorded in the archive in batched transactions;
    when the spider closes, every pending sighting is parsed (worker processes) and
    stored, one transaction per report."""

    BATCH_ITEMS = 200  # items per archive transaction …
    BATCH_SECONDS = 2.0  # … or this long, whichever comes first

    def __init__(self, crawler):
        self.crawler = crawler
        self.db = None
        self.run_id: int | None = None
        self._batch: list[tuple] = []
        self._batch_started = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        spider = self.crawler.spider
        self.db = open_archive(spider.data_dir / "archive.db")
        run_id = self.crawler.settings.getint("NIANBAO_RUN_ID")
        if run_id:  # one shard of a crawl the parent process has started
            self.run_id = run_id
            return
        self.run_id = ingest.begin_crawl(self.db, spider.config, list(spider.portals))

    def process_item(self, item):
        if isinstance(item, Fetched):
            try:
                item = store_capture(item, self.crawler.spider)
            except OSError as e:  # a full disk: the URL stays unfetched in the crawl state, asked again next run
                self._write_failed(e, 1)
                raise DropItem(f"capture not stored: {ingest.storage_reason(e)}", log_level="DEBUG") from None
        record = _RECORD.get(type(item))
        if record is None:
            return item
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append((record, vars(item)))  # shallow: the record functions only read it
        if len(self._batch) >= self.BATCH_ITEMS or time.monotonic() - self._batch_started >= self.BATCH_SECONDS:
            self.flush()
        return item

    def flush(self) -> None:
        """Write the batch to the archive in one short transaction, then the crawl state's:
        what the state calls fetched is always in the archive (a crash loses at most one
        batch of both, refetched next run). The write lock is held for milliseconds, not
        for the batch's two seconds: shards of one crawl share the archive."""
        batch, self._batch = self._batch, []
        try:
            if batch:
                with self.db.atomic():
                    for record, fields in batch:
                        record(self.db, self.run_id, fields)
            self.crawler.spider.state.commit()
        except (sqlite3.Error, OSError) as e:
            # nothing of the batch is kept, in the archive or the crawl state: its URLs are
            # fetched again next run
            self.crawler.spider.state.forget()
            reports = sum(record is ingest.record_sighting for record, _ in batch)
            self._write_failed(e, len(batch), reports)

    def _write_failed(self, error: BaseException, records: int, reports: int = 0) -> None:
        """A write to the archive failed: counted (the run exits non-zero and says how many
        and why); ``reports`` of the ``records`` were reports found."""
        reason = ingest.storage_reason(error)
        stats = self.crawler.stats
        if not stats.get_value("nianbao/archive/write_errors"):
            log.error("写入归档失败：%s（%s）", reason, error)
        stats.inc_value("nianbao/archive/write_errors", max(records, 1))
        stats.inc_value("nianbao/archive/lost_reports", reports)
        stats.inc_value(f"nianbao/archive/unstored_reasons/{reason}", max(records, 1))

    def close_spider(self, spider=None):
        spider = self.crawler.spider
        self.flush()
        if self.crawler.settings.getint("NIANBAO_RUN_ID"):  # the parent ingests once all shards are done
            self.db.close()
            return
        settings = self.crawler.settings
        stats = self.crawler.stats
        figures = ingest.ingest_pending(
            self.db,
            spider.store.root,
            settings.getint("NIANBAO_PARSE_WORKERS") or spider.config.parse_workers or ingest.default_workers(),
            settings.getbool("NIANBAO_PROGRESS"),
            spider.config.parse,
            self.run_id,
        )
        for key, value in figures.items():
            if key.startswith("nianbao/archive/unstored_reasons/"):
                stats.inc_value(key, value)
            else:
                stats.set_value(key, value)
        try:
            ingest.finish_run(self.db, self.run_id, stats.get_stats())
        except (sqlite3.Error, OSError) as e:  # left open: the next run closes it as interrupted
            self._write_failed(e, 0)
        self.db.close()
