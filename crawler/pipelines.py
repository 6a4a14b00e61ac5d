"""The item pipeline: keep every raw capture (bytes by hash) and remember what was
fetched; record captures, problems and report sightings in the archive (or on
its stream, for a queued job) as their sources arrive."""

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
from archive.store import now

from .detail import ATTACHMENT_TYPES
from .hold import ReportHold
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


RECORDS = {Capture: "capture", Problem: "problem", ReportFound: "sighting", ListWalk: "list_walk"}


class ArchiveSink:
    """Records into the archive on this machine, one short transaction per batch."""

    RECORDERS = {
        "capture": ingest.record_capture,
        "problem": ingest.record_problem,
        "sighting": ingest.record_sighting,
        "list_walk": list_walks.record_walk,
    }
    FAILURES = (sqlite3.Error, OSError)  # a full disk …: the batch is lost, its URLs fetched again next run

    def __init__(self, crawler):
        spider = crawler.spider
        self.db = open_archive(spider.data_dir / "archive.db")
        # a crawl the runner started (it parses and stores the reports), or one of its own (`scrapy crawl`)
        run_id = crawler.settings.getint("NIANBAO_RUN_ID")
        self.run_id = run_id or ingest.begin_crawl(self.db, spider.config, list(spider.portals))

    def write(self, batch: list[tuple[str, dict]]) -> None:
        with self.db.atomic():
            for kind, fields in batch:
                self.RECORDERS[kind](self.db, self.run_id, fields)

    def close(self) -> None:
        self.db.close()


class StreamSink:
    """Records to the archive's stream (a queued job: ``archive.stream``); a report page
    counts as archived in the job's state once its sighting is published."""

    def __init__(self, crawler):
        from redis import Redis
        from redis.exceptions import RedisError

        from archive.stream import RecordPublisher

        self.FAILURES = (OSError, RedisError)  # Redis unreachable: the batch is lost, its URLs fetched again
        self.state = crawler.spider.state
        redis = Redis.from_url(crawler.settings.get("NIANBAO_QUEUE"))
        self.publisher = RecordPublisher(redis, crawler.settings.getint("NIANBAO_RUN_ID"))

    def write(self, batch: list[tuple[str, dict]]) -> None:
        seen = now()
        batch = [(kind, {**fields, "seen_at": seen} if kind == "sighting" else fields) for kind, fields in batch]
        self.publisher.publish(batch)
        for kind, fields in batch:
            if kind == "sighting":
                self.state.mark_sighted(fields["portal"], fields["url"])

    def close(self) -> None:
        pass


class ArchivePipeline:
    """The crawl's one item pipeline (one pass through Scrapy's pipeline machinery per
    item, which is most of a crawl's CPU): fetched bytes stored by hash; captures,
    problems and report sightings recorded in batches, in the archive (a crawl on this
    machine) or on the archive's stream (a queued job). A sighting is held back until
    its sources are in (``crawler.hold``), so every recorded sighting can be parsed at
    once, while the crawl goes on (``archive.follow``)."""

    BATCH_ITEMS = 200  # items per archive transaction …
    BATCH_SECONDS = 2.0  # … or this long, whichever comes first

    def __init__(self, crawler):
        self.crawler = crawler
        self.sink: ArchiveSink | StreamSink | None = None
        self.hold: ReportHold | None = None
        self._batch: list[tuple[str, dict]] = []
        self._batch_started = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        spider = self.crawler.spider
        self.sink = StreamSink(self.crawler) if self.crawler.settings.get("NIANBAO_QUEUE") else ArchiveSink(self.crawler)
        self.hold = ReportHold(spider.state, spider.revalidate_days)

    def process_item(self, item):
        if isinstance(item, Fetched):
            try:
                item = store_capture(item, self.crawler.spider)
            except OSError as e:  # a full disk: the URL stays unfetched in the crawl state, asked again next run
                self._write_failed(e, 1)
                raise DropItem(f"capture not stored: {ingest.storage_reason(e)}", log_level="DEBUG") from None
        kind = RECORDS.get(type(item))
        if kind is None:
            return item
        if not self._batch:
            self._batch_started = time.monotonic()
        if isinstance(item, ReportFound):
            ready = self.hold.hold(item)
        else:
            self._batch.append((kind, vars(item)))  # shallow: the record functions only read it
            ready = self.hold.outcome(item.url, getattr(item, "requested_url", None)) if kind != "list_walk" else []
        self._batch += [("sighting", vars(r)) for r in ready]
        if len(self._batch) >= self.BATCH_ITEMS or time.monotonic() - self._batch_started >= self.BATCH_SECONDS:
            self.flush()
        return item

    def flush(self) -> None:
        """Write the batch in one short transaction (or one stream append), then the crawl
        state's: what the state calls fetched is always recorded (a crash loses at most
        one batch of both, refetched next run). The archive's write lock is held for
        milliseconds, not for the batch's two seconds: other writers share the archive."""
        batch, self._batch = self._batch, []
        try:
            if batch:
                self.sink.write(batch)
            self.crawler.spider.state.commit()
        except self.sink.FAILURES as e:
            # nothing of the batch is kept, in the archive or the crawl state: its URLs are
            # fetched again next run
            self.crawler.spider.state.forget()
            self._write_failed(e, len(batch), sum(kind == "sighting" for kind, _ in batch))

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
        self._batch += [("sighting", vars(r)) for r in self.hold.rest()]
        self.flush()
        if self.crawler.settings.getint("NIANBAO_RUN_ID"):  # the runner parses and stores the reports
            self.sink.close()
            return
        db, settings, stats = self.sink.db, self.crawler.settings, self.crawler.stats
        figures = ingest.ingest_pending(
            db,
            spider.store.root,
            settings.getint("NIANBAO_PARSE_WORKERS") or spider.config.parse_workers or ingest.default_workers(),
            settings.getbool("NIANBAO_PROGRESS"),
            spider.config.parse,
            self.sink.run_id,
        )
        for key, value in figures.items():
            if key.startswith("nianbao/archive/unstored_reasons/"):
                stats.inc_value(key, value)
            else:
                stats.set_value(key, value)
        try:
            ingest.finish_run(db, self.sink.run_id, stats.get_stats())
        except (sqlite3.Error, OSError) as e:  # left open: the next run closes it as interrupted
            self._write_failed(e, 0)
        db.close()
