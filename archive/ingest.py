"""Crawl output into the archive: captures, problems and report sightings are
recorded as they arrive; each sighting is then parsed (each of its documents in
a worker process, under the parse budget: :mod:`archive.isolation`) and
stored, one transaction per report.

A sighting stays pending (``ingested_at`` null) until it is stored, so a
crawl killed half-way leaves nothing half-written: the next ``ingest`` picks
the pending ones up. Ingesting the same sighting twice changes nothing. A
document that exceeds its budget or kills its worker makes its report
``unparseable`` with the reason (the capture is kept); a sighting whose parse
was interrupted ``Budget.attempts`` times (the ingest itself killed) is parked
the same way. A sighting that cannot be stored (a full disk) stays pending,
is counted and said: it is found, not missing.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from .isolation import Budget, Isolated, default_workers
from .progress import Progress
from .regions import name_townships
from .report_urls import review_run
from .runs import close_interrupted, finish_run, start_run
from .sources import Parsed, Piece, Source, choose, documents, parse_document_sources, sighting_sources, unfinished
from .store import diff_cells, immediate, now, report_cells, store_report, write_parse
from .tree import tree_depths

__all__ = ["default_workers", "ingest", "ingest_pending", "reparse", "begin_crawl", "finish_run"]
log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    reports: int = 0  # sightings stored
    new_versions: int = 0  # of which created a new report version
    failed: int = 0  # with no readable document (capture kept, reason recorded)
    over_budget: int = 0  # documents that exceeded the parse budget or killed their worker
    parked: int = 0  # sightings stored unparsed after too many interrupted parses
    recovered: int = 0  # sightings an earlier, interrupted run had found
    unstored: int = 0  # sightings still pending: found, but not in the archive
    reasons: Counter = field(default_factory=Counter)  # why they could not be stored
    peak_mb: float = 0.0  # the largest peak memory of one document's parse
    slowest: float = 0.0  # the longest wall time of one document's parse (seconds)
    kept: int = 0  # reparse: versions kept as they were (a document exceeded the budget this time)
    ocr_pages: int = 0  # scanned pages (or images) OCR read, from its cache or not
    ocr_seconds: float = 0.0  # CPU seconds OCR spent
    remote: int = 0  # of the reports, parsed by parse workers on the queue (``archive.remote_parse``)

    def add(self, later: IngestResult) -> None:
        """A later ingest's counts added (the follower ingests in rounds while a crawl goes on)."""
        for name in ("reports", "new_versions", "failed", "over_budget", "parked", "recovered", "kept", "ocr_pages", "remote"):
            setattr(self, name, getattr(self, name) + getattr(later, name))
        self.ocr_seconds += later.ocr_seconds
        self.peak_mb, self.slowest = max(self.peak_mb, later.peak_mb), max(self.slowest, later.slowest)
        self.unstored, self.reasons = later.unstored, later.reasons  # what is still pending: the latest count

    def add_stored(self, sighting: dict, parsed: Parsed, new_version: bool, run_id: int | None) -> None:
        """A sighting stored by a run (``run_id``; a sighting of another run counts as recovered)."""
        self.reports += 1
        self.new_versions += new_version
        self.failed += parsed.report is None
        self.recovered += run_id is not None and sighting["run_id"] not in (None, run_id)
        self.add_ocr(parsed)

    def add_ocr(self, parsed: Parsed) -> None:
        self.ocr_pages += parsed.ocr_pages
        self.ocr_seconds += parsed.ocr_seconds

    def ocr_note(self) -> str:
        """For progress lines: what OCR has done so far (nothing when it did nothing)."""
        return f"OCR {self.ocr_pages} 页（{self.ocr_seconds:.0f} 秒）" if self.ocr_pages else ""

    def add_piece(self, outcome) -> Piece | None:
        """A document's outcome counted (its cost, whether it ran over budget); its piece,
        or None when the job did not finish (the caller makes one saying why)."""
        if outcome.usage is not None:
            self.peak_mb = max(self.peak_mb, outcome.usage.peak_mb)
            self.slowest = max(self.slowest, outcome.usage.wall_seconds)
        self.over_budget += outcome.limit is not None
        return outcome.value


class StorageFailed(Exception):
    """Writing to the archive failed (a full disk …): the rest of the ingest would fail alike."""


def storage_reason(e: BaseException) -> str:
    """What a failed archive write means, for users."""
    text = str(e).lower()
    if (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "disk is full" in text or "database or disk is full" in text:
        return "磁盘空间不足"
    if isinstance(e, OSError) and e.errno == errno.EDQUOT:
        return "磁盘配额已满"
    if "readonly" in text or "read-only" in text or (isinstance(e, OSError) and e.errno in (errno.EROFS, errno.EACCES)):
        return "归档只读或无写入权限"
    return f"写入归档失败（{type(e).__name__}: {str(e)[:120]}）"


def begin_crawl(db: sqlite_utils.Database, config, portals: list[str]) -> int:
    """A crawl's start in the archive: the config's registry and portal listings synced,
    runs left open by a killed process closed as interrupted, a crawl run opened (its id
    returned)."""
    sync_agencies(db, config.agencies.values())
    sync_portals(db, {p.id: config.listed_on(p) for p in config.portals.values()})
    close_interrupted(db)
    return start_run(db, portals)


def sync_agencies(db: sqlite_utils.Database, agencies: Iterable) -> None:
    """The configured registry (``crawler.config.Agency``) into ``agencies``."""
    rows = [
        {
            "id": a.id,
            "name": a.name,
            "level": a.level,
            "region": a.region,
            "parent_id": a.parent,
            "aliases": json.dumps(list(a.aliases), ensure_ascii=False),
            "retired": a.retired,
        }
        for a in agencies
    ]
    depth = tree_depths({r["id"]: r["parent_id"] for r in rows})
    with db.atomic():
        # parents first, whatever order the config lists them in
        db["agencies"].upsert_all(sorted(rows, key=lambda r: depth[r["id"]]), pk="id")
    name_townships(db)


def sync_portals(db: sqlite_utils.Database, listed: dict[str, list[str]]) -> None:
    """Which portal lists which agency ({portal: [agency ids]}), replacing what was there."""
    with db.atomic():
        db.execute("delete from agency_portals")
        db.conn.executemany(
            "insert or ignore into agency_portals (agency_id, portal) values (?, ?)",
            [(a, p) for p, ids in listed.items() for a in ids],
        )


def _insert(record: dict) -> str:
    """A record with a key (one that arrived over a queue) is stored once however often it is delivered."""
    return "insert or ignore" if record.get("record_key") else "insert"


def record_capture(db: sqlite_utils.Database, run_id: int | None, c: dict) -> None:
    """One fetched response (already in the blob store) and the ZIP members inside it."""
    with db.atomic():
        if c.get("sha256"):
            db.execute(
                "insert or ignore into documents (sha256, size, kind, first_seen) values (?, ?, ?, ?)",
                [c["sha256"], c["size"], c["kind"], c["fetched_at"]],
            )
        # plain SQL: sqlite-utils' insert() reads the table's schema on every call, and a
        # crawl records every response here while the reactor waits
        inserted = db.conn.execute(
            f"{_insert(c)} into captures (run_id, portal, role, url, requested_url, status, fetched_at, sha256, headers, "
            "referer, report_url, link_name, record_key) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                c["portal"],
                c["role"],
                c["url"],
                c.get("requested_url") or c["url"],
                c["status"],
                c["fetched_at"],
                c.get("sha256"),
                json.dumps(c.get("headers") or {}, ensure_ascii=False),
                c.get("referer"),
                c.get("report_url"),
                c.get("link_name"),
                c.get("record_key"),
            ],
        ).rowcount
        if not inserted:  # delivered before: its members are recorded too
            return
        for m in c.get("members") or []:
            if m.get("sha256"):
                db.execute(
                    "insert or ignore into documents (sha256, size, kind, first_seen) values (?, ?, ?, ?)",
                    [m["sha256"], m["size"], m["kind"], c["fetched_at"]],
                )
                db.execute(
                    "insert or ignore into zip_members (zip_sha256, name, sha256) values (?, ?, ?)",
                    [c["sha256"], m["name"], m["sha256"]],
                )
            elif m.get("error"):  # a member not unpacked (bomb, corrupt): said, not lost silently
                record_problem(
                    db,
                    run_id,
                    {
                        "portal": c["portal"],
                        "kind": "zip_member",
                        "url": c["url"],
                        "detail": f"{m['name'] or 'ZIP'}: {m['error']}",
                        "role": c["role"],
                        "at": c["fetched_at"],
                        "report_url": c.get("report_url"),
                    },
                )


_PROBLEM = ("portal", "kind", "url", "detail", "role", "at", "report_url", "agency_id", "year", "record_key")
_SIGHTING = (
    "portal",
    "url",
    "title",
    "year",
    "agency_id",
    "agency_name",
    "attribution",
    "published",
    "published_source",
    "index_no",
    "listed_title",
    "listed_date",
    "images",
    "published_meta",
    "published_visible",
    "published_why",
    "listed_url",
    "record_key",
)


def record_problem(db: sqlite_utils.Database, run_id: int | None, p: dict) -> None:
    db.execute(
        f"{_insert(p)} into problems (run_id, {', '.join(_PROBLEM)}) values (?{', ?' * len(_PROBLEM)})",
        [run_id, *(p.get(k) for k in _PROBLEM)],
    )


def record_sighting(db: sqlite_utils.Database, run_id: int | None, r: dict, seen_at: str | None = None) -> int:
    values = [r.get(k) for k in _SIGHTING] + [
        run_id,
        json.dumps(r.get("parts") or [], ensure_ascii=False),
        json.dumps(r.get("attachments") or [], ensure_ascii=False),
        seen_at or now(),
    ]
    return db.execute(
        f"{_insert(r)} into sightings ({', '.join(_SIGHTING)}, run_id, parts, attachments, seen_at) "
        f"values ({', '.join('?' * len(values))})",
        values,
    ).lastrowid


def _parked(attempts: int, archived: bool) -> Parsed:
    if not archived:
        return Parsed(None, None, errors=[f"已搁置：{attempts} 次入库时页面均未存档（写入失败），不再等待"])
    return Parsed(
        None,
        None,
        errors=[f"已搁置：解析 {attempts} 次均被中断（进程被终止），不再自动重试；可用 nianbao reparse 在更大的解析预算下重试"],
    )


def _pending_ids(db: sqlite_utils.Database) -> list[int]:
    """Pending sightings, those with the fewest interrupted parses first (a document that
    keeps killing the ingest does not hold up the others), then oldest first."""
    return [i for (i,) in db.execute("select id from sightings where ingested_at is null order by parse_attempts, seen_at, id")]


@dataclass
class _Report:
    sighting: dict
    sources: list[Source]
    groups: list[list[Source]]
    pieces: dict[int, Piece] = field(default_factory=dict)


def ingest(
    db: sqlite_utils.Database,
    blob_root: str | Path,
    workers: int = 1,
    batch: int = 256,
    on_progress: Callable[[IngestResult, int], None] | None = None,
    budget: Budget | None = None,
    run_id: int | None = None,
    ocr_max_pages: int | None = None,
    pool: Isolated | None = None,
) -> IngestResult:
    """Parse and store every pending sighting (``on_progress(result so far, total)`` after
    each one). Each document is parsed in a worker process under ``budget``; ``run_id`` is
    the run storing them (sightings of other runs count as recovered). A caller that
    ingests again and again (``archive.follow``) passes its own ``pool``."""
    budget = pool.budget if pool is not None else budget or Budget()
    result = IngestResult()
    ids = _pending_ids(db)

    def stored(report: _Report, parsed: Parsed, new_version: bool) -> None:
        result.add_stored(report.sighting, parsed, new_version, run_id)
        if on_progress is not None:
            on_progress(result, len(ids))

    store = StoreBatch(db, stored)
    attempts = _Attempts(db)
    try:
        with contextlib.nullcontext(pool) if pool is not None else Isolated(budget, workers) as pool:
            for at in range(0, len(ids), batch):
                chunk = ids[at : at + batch]
                marks = ",".join("?" * len(chunk))
                reports: dict[int, _Report] = {}
                for sighting in db.query(f"select * from sightings where id in ({marks}) and ingested_at is null", chunk):
                    sources = sighting_sources(db, sighting)
                    report = _Report(sighting, sources, documents(sources))
                    if sighting["parse_attempts"] >= budget.attempts:
                        result.parked += 1
                        store.add(report, _parked(sighting["parse_attempts"], bool(sources)))
                    elif not sources:  # its page was never archived (a failed write): found, not stored
                        attempts.charge((sighting["id"], 0))
                        result.reasons["页面未能存档"] += 1
                    else:
                        reports[sighting["id"]] = report
                jobs = (
                    ((sid, i), parse_document_sources, (str(blob_root), group, ocr_max_pages))
                    for sid, r in reports.items()
                    for i, group in enumerate(r.groups)
                )
                for (sid, i), outcome in pool.run(jobs, on_submit=attempts.charge):
                    report = reports[sid]
                    report.pieces[i] = result.add_piece(outcome) or unfinished(report.groups[i], outcome)
                    if len(report.pieces) == len(report.groups):
                        attempts.ended.append(sid)
                        store.add(report, choose([report.pieces[k] for k in sorted(report.pieces)]))
                store.flush()
    except StorageFailed as e:  # the rest would fail alike: they stay pending, for this reason
        stopped = storage_reason(e.__cause__ or e)
    else:
        stopped = "未处理"
    result.unstored = db.execute("select count(*) from sightings where ingested_at is null").fetchone()[0]
    if result.unstored > sum(result.reasons.values()):
        result.reasons[stopped] += result.unstored - sum(result.reasons.values())
    return result


class _Attempts:
    """Parse attempts counted on the sightings (``parse_attempts``): one is charged, and
    committed, before a sighting's first document goes to a worker, so an ingest killed
    while it parses leaves the charge (a document that keeps killing it ends up parked).
    Once the sighting's parse has ended, the charge is taken back in the next charge's
    commit: its report may wait a moment in a :class:`StoreBatch`, and a kill then must not
    count against it."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.ended: list[int] = []  # sightings parsed, their charge not yet taken back

    def charge(self, key: tuple[int, int]) -> None:
        sighting_id, group = key
        if group:
            return
        ended, self.ended = self.ended, []
        try:
            with self.db.atomic():
                if ended:
                    self.db.execute(
                        "update sightings set parse_attempts = parse_attempts - 1 "
                        f"where id in ({','.join('?' * len(ended))}) and ingested_at is null and parse_attempts > 0",
                        ended,
                    )
                self.db.execute("update sightings set parse_attempts = parse_attempts + 1 where id = ?", [sighting_id])
        except (sqlite3.Error, OSError) as e:
            raise StorageFailed(str(e)) from e


class StoreBatch:
    """Parsed reports stored a few at a time: up to ``SIZE`` reports in one transaction (each
    report's writes in a savepoint of it, all or nothing), written when ``SIZE`` are waiting,
    when the first has waited ``SECONDS``, or on ``flush()``. One commit per report cost more
    than the report's rows (the full-text index wrote new segments and merged them at every
    commit). The write lock is held for tens of milliseconds; a report waiting here is not in
    the archive yet, and its sighting stays pending until its batch commits (a crash loses
    the parse, never the report). ``stored(report, parsed, new_version)`` after the commit."""

    SIZE = 32
    SECONDS = 1.0

    def __init__(self, db: sqlite_utils.Database, stored: Callable[[Any, Parsed, bool], None]):
        self.db = db
        self.stored = stored
        self.waiting: list[tuple[Any, Parsed]] = []
        self.since = 0.0

    def add(self, report: Any, parsed: Parsed) -> None:
        """``report``: anything with ``sighting`` and ``sources``."""
        if not self.waiting:
            self.since = time.monotonic()
        self.waiting.append((report, parsed))
        if len(self.waiting) >= self.SIZE or time.monotonic() - self.since >= self.SECONDS:
            self.flush()

    def flush(self) -> None:
        batch, self.waiting = self.waiting, []
        if not batch:
            return
        try:
            with immediate(self.db):
                versions = [store_report(self.db, r.sighting, r.sources, parsed).new_version for r, parsed in batch]
        except (sqlite3.Error, OSError) as e:
            raise StorageFailed(str(e)) from e
        for (report, parsed), new_version in zip(batch, versions):
            self.stored(report, parsed, new_version)


def parse_sightings(
    pool: Isolated, items: list[tuple[int, list[Source]]], blob_root: str | Path, ocr_max_pages: int | None = None
) -> Iterator[tuple[int, Parsed]]:
    """``(sighting id, its sources)`` → ``(sighting id, the parse of its best document)``, each
    document under the pool's budget: what a parse worker on the queue does
    (``archive.remote_parse``); ``ingest`` does the same and stores as it goes."""
    groups = {sid: documents(sources) for sid, sources in items}
    pieces: dict[int, dict[int, Piece]] = {sid: {} for sid in groups}
    jobs = (
        ((sid, i), parse_document_sources, (str(blob_root), group, ocr_max_pages))
        for sid, gs in groups.items()
        for i, group in enumerate(gs)
    )
    for (sid, i), outcome in pool.run(jobs):
        pieces[sid][i] = outcome.value or unfinished(groups[sid][i], outcome)
        if len(pieces[sid]) == len(groups[sid]):
            yield sid, choose([pieces[sid][k] for k in sorted(pieces[sid])])


def ingest_pending(
    db: sqlite_utils.Database,
    blob_root: str | Path,
    workers: int,
    progress: bool = False,
    budget: Budget | None = None,
    run_id: int | None = None,
) -> dict:
    """What a crawl does when its fetching is over: every pending sighting parsed and
    stored, then what the crawl showed of the report URLs it knew (taken off a list, gone:
    :func:`archive.report_urls.review_run`); returns the figures for the crawl's stats."""
    started = time.monotonic()
    result = ingest_with_progress(db, blob_root, workers, progress, budget, run_id)
    return ingest_figures(result, time.monotonic() - started) | review_urls(db, run_id)


def ingest_with_progress(
    db: sqlite_utils.Database,
    blob_root: str | Path,
    workers: int,
    progress: bool,
    budget: Budget | None = None,
    run_id: int | None = None,
    pool: Isolated | None = None,
) -> IngestResult:
    """``ingest``, with a progress bar and its closing line when asked for."""
    bar = Progress("解析入库", unit=" 份") if progress else None
    result = ingest(
        db,
        blob_root,
        workers=workers,
        on_progress=(lambda r, total: bar.update(r.reports, total, r.ocr_note())) if bar else None,
        budget=budget,
        run_id=run_id,
        pool=pool,
    )
    if bar is not None:
        bar.close(
            f"{result.reports} 份（新版本 {result.new_versions}，无法解析 {result.failed}"
            + (f"，超出解析预算的文件 {result.over_budget}" if result.over_budget else "")
            + (f"，未能入库 {result.unstored}" if result.unstored else "")
            + ("，" + result.ocr_note() if result.ocr_pages else "")
            + "）"
        )
    return result


def ingest_figures(result: IngestResult, seconds: float) -> dict:
    """An ingest's figures, for the crawl's stats."""
    return {
        "nianbao/archive/ingest_seconds": round(seconds, 2),
        "nianbao/archive/reports_stored": result.reports,
        "nianbao/archive/new_versions": result.new_versions,
        "nianbao/archive/unreadable": result.failed,
        "nianbao/archive/over_budget": result.over_budget,
        "nianbao/archive/parse_peak_mb": round(result.peak_mb),
        "nianbao/archive/parse_slowest_seconds": round(result.slowest, 2),
        "nianbao/archive/parked": result.parked,
        "nianbao/archive/recovered": result.recovered,
        "nianbao/archive/unstored": result.unstored,
        **{f"nianbao/archive/unstored_reasons/{reason}": n for reason, n in result.reasons.items()},
        "nianbao/archive/ocr_pages": result.ocr_pages,
        "nianbao/archive/ocr_seconds": round(result.ocr_seconds, 2),
        "nianbao/archive/parsed_remotely": result.remote,
    }


def review_urls(db: sqlite_utils.Database, run_id: int | None) -> dict:
    """Once a crawl's reports are stored: what it showed of the report URLs it knew (taken
    off a list, gone: :func:`archive.report_urls.review_run`), as figures for its stats."""
    if run_id is None:
        return {}
    try:
        gone = review_run(db, run_id)
    except (sqlite3.Error, OSError) as e:  # evidence not kept: found again by a later full walk
        log.error("未能记录本次抓取对年报网址的核对：%s", storage_reason(e))
        gone = {"unreviewed": 1}
    return {f"nianbao/archive/urls_{what}": n for what, n in gone.items()}


def reparse(
    db: sqlite_utils.Database,
    blob_root: str | Path,
    workers: int = 1,
    budget: Budget | None = None,
    on_progress: Callable[[IngestResult, int], None] | None = None,
    ocr_max_pages: int | None = None,
) -> IngestResult:
    """Re-run the current parser over every report version's stored sources, in place
    (ids, versions and first-seen dates stay; cells, findings, text and each
    version's list of changed cells are rewritten). What OCR read before comes from
    its cache. A report one of whose documents exceeds the budget keeps its earlier
    parse (``kept``), unless that one had failed too."""
    result = IngestResult()
    reports = {r["id"]: r for r in db.query("select id, agency_key, year, supersedes_id, parse_status from reports order by id")}
    groups: dict[int, list[list[Source]]] = {}
    for report_id in reports:
        rows = db.query(
            "select role, url, sha256, kind from report_sources where report_id = ? "
            "order by case role when 'page' then 0 when 'part' then 1 else 2 end, url",
            [report_id],
        )
        groups[report_id] = documents(
            [Source(s["role"], s["url"], s["sha256"], s["kind"], s["url"].rsplit("#", 1)[-1].rsplit("/", 1)[-1]) for s in rows]
        )
    pieces: dict[int, dict[int, Piece]] = {report_id: {} for report_id in reports}
    jobs = (
        ((rid, i), parse_document_sources, (str(blob_root), g, ocr_max_pages))
        for rid, gs in groups.items()
        for i, g in enumerate(gs)
    )
    with Isolated(budget, workers) as pool:
        for (rid, i), outcome in pool.run(jobs):
            pieces[rid][i] = result.add_piece(outcome) or unfinished(groups[rid][i], outcome)
            if len(pieces[rid]) == len(groups[rid]):
                parsed = choose([pieces[rid][k] for k in sorted(pieces[rid])])
                if _rewrite(db, reports[rid], parsed, pieces[rid].values()):
                    result.reports += 1
                    result.failed += parsed.report is None
                    result.add_ocr(parsed)
                else:
                    result.kept += 1
                if on_progress is not None:
                    on_progress(result, len(reports))
    for r in reports.values():  # reports without sources: parsed as nothing, alike
        if not groups[r["id"]]:
            _rewrite(db, r, Parsed(None, None), [])
            result.reports += 1
    with db.atomic():  # each version's changes against the one before, now that all are reparsed
        for r in reports.values():
            if r["supersedes_id"]:
                changes = diff_cells(report_cells(db, r["supersedes_id"]), report_cells(db, r["id"]))
                db["reports"].update(r["id"], {"changed_cells": json.dumps(changes, ensure_ascii=False)})
    return result


def _rewrite(db: sqlite_utils.Database, report: dict, parsed: Parsed, pieces: Iterable[Piece]) -> bool:
    if any(p.limit for p in pieces) and report["parse_status"] != "failed":
        return False
    with db.atomic():
        write_parse(db, report["id"], parsed, report["agency_key"], report["year"])
        db.execute(
            "update report_sources set used = (sha256 = ? and url = ?) where report_id = ?",
            [parsed.used.sha256 if parsed.used else None, parsed.used.url if parsed.used else None, report["id"]],
        )
    return True
