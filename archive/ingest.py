"""Crawl output into the archive: captures, problems and report sightings are
recorded as they arrive; each sighting is then parsed (in worker processes)
and stored, one transaction per report.

A sighting stays pending (``ingested_at`` null) until it is stored, so a
crawl killed half-way leaves nothing half-written: the next ``ingest`` picks
the pending ones up. Ingesting the same sighting twice changes nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from .progress import Progress
from .sources import Parsed, Source, parse_sources, sighting_sources
from .store import diff_cells, now, report_cells, store_report, write_parse


@dataclass
class IngestResult:
    reports: int = 0  # sightings stored
    new_versions: int = 0  # of which created a new report version
    failed: int = 0  # with no readable source (capture kept, reason recorded)
    ocr_pages: int = 0  # scanned pages (or images) OCR read, from its cache or not
    ocr_seconds: float = 0.0  # CPU seconds OCR spent

    def add_ocr(self, parsed: Parsed) -> None:
        self.ocr_pages += parsed.ocr_pages
        self.ocr_seconds += parsed.ocr_seconds

    def ocr_note(self) -> str:
        """For progress lines: what OCR has done so far (nothing when it did nothing)."""
        return f"OCR {self.ocr_pages} 页（{self.ocr_seconds:.0f} 秒）" if self.ocr_pages else ""


def begin_crawl(db: sqlite_utils.Database, config, portals: list[str]) -> int:
    """A crawl's start in the archive: the config's registry and portal listings synced,
    a crawl run opened (its id returned)."""
    sync_agencies(db, config.agencies.values())
    sync_portals(db, {p.id: config.listed_on(p) for p in config.portals.values()})
    return start_run(db, portals)


def start_run(db: sqlite_utils.Database, portals: list[str]) -> int:
    return db["crawl_runs"].insert({"started_at": now(), "portals": json.dumps(portals)}).last_pk


def finish_run(db: sqlite_utils.Database, run_id: int, stats: dict) -> None:
    counts = {
        t: db.execute(f"select count(*) from {t} where run_id = ?", [run_id]).fetchone()[0]
        for t in ("captures", "problems", "sightings")
    }
    db["crawl_runs"].update(
        run_id,
        {
            "finished_at": now(),
            "stats": json.dumps(stats, default=str),
            "requests": stats.get("downloader/request_count"),
            "captures": counts["captures"],
            "reports": counts["sightings"],
            "problems": counts["problems"],
        },
    )


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
    parents = {r["id"]: r["parent_id"] for r in rows}

    def depth(agency_id: str) -> int:  # the config has no parent cycles (validated)
        return 0 if not parents.get(agency_id) else 1 + depth(parents[agency_id])

    with db.atomic():
        # parents first, whatever order the config lists them in
        db["agencies"].upsert_all(sorted(rows, key=lambda r: depth(r["id"])), pk="id")


def sync_portals(db: sqlite_utils.Database, listed: dict[str, list[str]]) -> None:
    """Which portal lists which agency ({portal: [agency ids]}), replacing what was there."""
    with db.atomic():
        db.execute("delete from agency_portals")
        db.conn.executemany(
            "insert or ignore into agency_portals (agency_id, portal) values (?, ?)",
            [(a, p) for p, ids in listed.items() for a in ids],
        )


def record_capture(db: sqlite_utils.Database, run_id: int | None, c: dict) -> None:
    """One fetched response (already in the blob store) and the ZIP members inside it."""
    with db.atomic():
        if c.get("sha256"):
            db.execute(
                "insert or ignore into documents (sha256, size, kind, first_seen) values (?, ?, ?, ?)",
                [c["sha256"], c["size"], c["kind"], c["fetched_at"]],
            )
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
        # plain SQL: sqlite-utils' insert() reads the table's schema on every call, and a
        # crawl records every response here while the reactor waits
        db.conn.execute(
            "insert into captures (run_id, portal, role, url, requested_url, status, fetched_at, sha256, headers, "
            "referer, report_url, link_name) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ],
        )


_PROBLEM = ("portal", "kind", "url", "detail", "role", "at", "report_url", "agency_id", "year")
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
)


def record_problem(db: sqlite_utils.Database, run_id: int | None, p: dict) -> None:
    db.execute(
        f"insert into problems (run_id, {', '.join(_PROBLEM)}) values (?{', ?' * len(_PROBLEM)})",
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
        f"insert into sightings ({', '.join(_SIGHTING)}, run_id, parts, attachments, seen_at) "
        f"values ({', '.join('?' * len(values))})",
        values,
    ).lastrowid


Job = tuple[str, list[Source], int | None]  # blob root, sources, OCR page limit (None: the default)


def _parse_job(job: Job) -> Parsed:
    return parse_sources(*job)


def _parallel(jobs: list[Job], workers: int) -> Iterator[Parsed]:
    if workers <= 1 or len(jobs) < 4:
        yield from map(_parse_job, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_parse_job, jobs, chunksize=8)


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


def ingest(
    db: sqlite_utils.Database,
    blob_root: str | Path,
    workers: int = 1,
    batch: int = 256,
    on_progress: Callable[[IngestResult, int], None] | None = None,
    ocr_max_pages: int | None = None,
) -> IngestResult:
    """Parse and store every pending sighting, oldest first (``on_progress(result so far,
    total)`` after each one)."""
    result = IngestResult()
    total = db.execute("select count(*) from sightings where ingested_at is null").fetchone()[0]
    while True:
        sightings = list(db.query("select * from sightings where ingested_at is null order by seen_at, id limit ?", [batch]))
        if not sightings:
            return result
        jobs = [(str(blob_root), sighting_sources(db, s), ocr_max_pages) for s in sightings]
        for sighting, (_, sources, _), parsed in zip(sightings, jobs, _parallel(jobs, workers)):
            result.new_versions += store_report(db, sighting, sources, parsed).new_version
            result.reports += 1
            result.failed += parsed.report is None
            result.add_ocr(parsed)
            if on_progress is not None:
                on_progress(result, max(total, result.reports))


def ingest_pending(db: sqlite_utils.Database, blob_root: str | Path, workers: int, progress: bool = False) -> dict:
    """What a crawl does when its fetching is over: every pending sighting parsed and
    stored; returns the figures for the crawl's stats."""
    started = time.monotonic()
    bar = Progress("解析入库", unit=" 份") if progress else None
    result = ingest(
        db, blob_root, workers=workers, on_progress=(lambda r, total: bar.update(r.reports, total, r.ocr_note())) if bar else None
    )
    if bar is not None:
        note = "，" + result.ocr_note() if result.ocr_pages else ""
        bar.close(f"{result.reports} 份（新版本 {result.new_versions}，无法解析 {result.failed}{note}）")
    return {
        "nianbao/archive/ingest_seconds": round(time.monotonic() - started, 2),
        "nianbao/archive/reports_stored": result.reports,
        "nianbao/archive/new_versions": result.new_versions,
        "nianbao/archive/unreadable": result.failed,
        "nianbao/archive/ocr_pages": result.ocr_pages,
        "nianbao/archive/ocr_seconds": round(result.ocr_seconds, 2),
    }


def reparse(
    db: sqlite_utils.Database,
    blob_root: str | Path,
    workers: int = 1,
    on_progress: Callable[[IngestResult, int], None] | None = None,
    ocr_max_pages: int | None = None,
) -> IngestResult:
    """Re-run the current parser over every report version's stored sources, in place
    (ids, versions and first-seen dates stay; cells, findings, text and each
    version's list of changed cells are rewritten). What OCR read before comes from
    its cache."""
    reports = list(db.query("select id, agency_key, year, supersedes_id from reports order by id"))
    jobs = []
    for r in reports:
        rows = db.query(
            "select role, url, sha256, kind from report_sources where report_id = ? "
            "order by case role when 'page' then 0 when 'part' then 1 else 2 end, url",
            [r["id"]],
        )
        jobs.append(
            (
                str(blob_root),
                [
                    Source(s["role"], s["url"], s["sha256"], s["kind"], s["url"].rsplit("#", 1)[-1].rsplit("/", 1)[-1])
                    for s in rows
                ],
                ocr_max_pages,
            )
        )
    result = IngestResult()
    for r, parsed in zip(reports, _parallel(jobs, workers)):
        with db.atomic():
            write_parse(db, r["id"], parsed, r["agency_key"], r["year"])
            db.execute(
                "update report_sources set used = (sha256 = ? and url = ?) where report_id = ?",
                [parsed.used.sha256 if parsed.used else None, parsed.used.url if parsed.used else None, r["id"]],
            )
            if r["supersedes_id"]:  # versions are in id order: the earlier one is reparsed already
                changes = diff_cells(report_cells(db, r["supersedes_id"]), report_cells(db, r["id"]))
                db["reports"].update(r["id"], {"changed_cells": json.dumps(changes, ensure_ascii=False)})
        result.reports += 1
        result.failed += parsed.report is None
        result.add_ocr(parsed)
        if on_progress is not None:
            on_progress(result, len(reports))
    return result
