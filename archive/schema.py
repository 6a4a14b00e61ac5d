"""The archive database: one SQLite file, created and upgraded by numbered migrations.

``PRAGMA user_version`` holds the schema version; ``open_archive`` applies the
missing migrations in order, each in its own transaction, so a database made
by any earlier release opens in the current one. Migrations are append-only:
a released one is never edited.

The three report tables are wide, mirroring the printed tables (one row per
printed row, one column per printed column); their columns come from
``archive.template``, as do the ``labels`` rows Datasette shows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from .errors import NianbaoError
from .local_disk import network_filesystem
from .template import RULES, RULES_BY_ID, TABLES


def _wide_tables(db: sqlite_utils.Database) -> None:
    for table in TABLES:
        # blanks: the columns printed but empty ("", "/", "—", 无): null there means
        # "present, no number", while a null column not listed was never printed
        columns = {"report_id": int, "row": str, "label": str, "blanks": str}
        columns.update({c.key: float if c.kind == "money" else int for c in table.columns})
        db[table.key].create(columns, pk=("report_id", "row"), foreign_keys=[("report_id", "reports", "id")])


def _labels(db: sqlite_utils.Database) -> None:
    rows = []
    for table in TABLES:
        for row in table.rows:
            for template in sorted(row.templates):
                for column in row.column_keys(template, table):
                    col = table.column(column)
                    rows.append(
                        {
                            "table_name": table.key,
                            "row": row.key,
                            "column": column,
                            "template": template,
                            "table_label": table.title,
                            "row_label": row.label,
                            "row_group": row.group,
                            "column_label": col.label,
                            "unit": col.unit,
                            "kind": col.kind,
                            "description": col.description,
                        }
                    )
    db["labels"].insert_all(rows, pk=("table_name", "row", "column", "template"), replace=True)
    db["rules"].insert_all(
        [{"id": r.id, "severity": r.severity, "description": r.description} for r in RULES], pk="id", replace=True
    )


def _cells_view(db: sqlite_utils.Database, ocr: bool = False) -> None:
    """One row per printed cell; with ``ocr``, each cell's OCR score (null: not read by OCR)."""
    score = (lambda t, c: f", json_extract([{t}].ocr, '$.' || {c}) as ocr_score") if ocr else (lambda t, c: "")
    parts = [
        f"select report_id, '{t.key}' as table_name, row, '{c.key}' as \"column\", [{c.key}] as value"
        f"{score(t.key, repr(c.key))} from [{t.key}] where [{c.key}] is not null"
        for t in TABLES
        for c in t.columns
    ]
    parts += [
        f"select report_id, '{t.key}', row, j.value, null{score(t.key, 'j.value')} from [{t.key}], json_each([{t.key}].blanks) j "
        f"where [{t.key}].blanks is not null"
        for t in TABLES
    ]
    db.execute("drop view if exists cells")
    db.execute("create view cells as " + "\nunion all ".join(parts))


def _v1(db: sqlite_utils.Database) -> None:
    """The first archive: captures, documents, reports and their tables, findings."""
    db["agencies"].create(
        {"id": str, "name": str, "level": str, "region": str, "parent_id": str, "aliases": str, "retired": str}, pk="id"
    )
    db["crawl_runs"].create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "portals": str,
            "stats": str,
            "requests": int,
            "captures": int,
            "reports": int,
            "problems": int,
        },
        pk="id",
    )
    db["documents"].create({"sha256": str, "size": int, "kind": str, "first_seen": str}, pk="sha256")
    db["captures"].create(
        {
            "id": int,
            "run_id": int,
            "portal": str,
            "role": str,
            "url": str,
            "requested_url": str,
            "status": int,
            "fetched_at": str,
            "sha256": str,
            "headers": str,
            "referer": str,
            "report_url": str,
            "link_name": str,
        },
        pk="id",
        foreign_keys=[("run_id", "crawl_runs", "id"), ("sha256", "documents", "sha256")],
    )
    db["zip_members"].create(
        {"zip_sha256": str, "name": str, "sha256": str},
        pk=("zip_sha256", "name"),
        foreign_keys=[("zip_sha256", "documents", "sha256"), ("sha256", "documents", "sha256")],
    )
    db["problems"].create(
        {
            "id": int,
            "run_id": int,
            "portal": str,
            "kind": str,
            "url": str,
            "detail": str,
            "role": str,
            "at": str,
            "report_url": str,
        },
        pk="id",
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db["reports"].create(
        {
            "id": int,
            "agency_key": str,
            "agency_id": str,
            "agency_name": str,
            "year": int,
            "version": int,
            "is_current": int,
            "title": str,
            "url": str,
            "published": str,
            "published_source": str,
            "first_seen": str,
            "last_seen": str,
            "template": str,
            "parse_status": str,
            "parse_error": str,
            "source_sha256": str,
            "content_hash": str,
            "supersedes_id": int,
            "changed_cells": str,
        },
        pk="id",
        foreign_keys=[("agency_id", "agencies", "id"), ("supersedes_id", "reports", "id")],
    )
    db["sightings"].create(
        {
            "id": int,
            "run_id": int,
            "portal": str,
            "url": str,
            "title": str,
            "year": int,
            "agency_id": str,
            "agency_name": str,
            "attribution": str,
            "published": str,
            "published_source": str,
            "index_no": str,
            "listed_title": str,
            "listed_date": str,
            "parts": str,
            "attachments": str,
            "images": int,
            "seen_at": str,
            "report_id": int,
            "ingested_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "crawl_runs", "id"), ("report_id", "reports", "id")],
    )
    db["report_sources"].create(
        {"report_id": int, "url": str, "sha256": str, "role": str, "kind": str, "used": int},
        pk=("report_id", "url", "sha256"),
        foreign_keys=[("report_id", "reports", "id"), ("sha256", "documents", "sha256")],
    )
    _wide_tables(db)
    db["findings"].create(
        {"id": int, "report_id": int, "agency_key": str, "year": int, "rule": str, "severity": str, "cell": str, "message": str},
        pk="id",
        foreign_keys=[("report_id", "reports", "id")],
    )
    db["alerts_sent"].create(
        {"id": int, "finding_key": str, "channel": str, "state": str, "sent_at": str, "digest": str}, pk="id"
    )
    db["report_text"].create(
        {"report_id": int, "title": str, "text": str}, pk="report_id", foreign_keys=[("report_id", "reports", "id")]
    )
    _labels(db)
    _cells_view(db)
    for table, columns in (
        ("captures", ["url"]),
        ("captures", ["sha256"]),
        ("captures", ["run_id"]),
        ("reports", ["agency_key", "year"]),
        ("reports", ["content_hash"]),
        ("sightings", ["url"]),
        ("sightings", ["report_id"]),
        ("report_sources", ["sha256"]),
        ("findings", ["report_id"]),
        ("problems", ["run_id"]),
        ("agencies", ["region"]),
        ("agencies", ["parent_id"]),
    ):
        db[table].create_index(columns, if_not_exists=True)


def _v2(db: sqlite_utils.Database) -> None:
    """What the saved queries need at national scale: region and level on each
    report, the key figures as columns, indexes for year-wide questions, and
    full-text search that works for Chinese."""
    reports = db["reports"]
    for column, kind in (
        ("region", str),
        ("level", str),
        ("new_requests", int),
        ("carried_over", int),
        ("handled", int),
        ("carried_forward", int),
        ("reviews", int),
        ("suits", int),
        ("errors", int),
        ("warnings", int),
    ):
        reports.add_column(column, kind)
    db.execute("""update reports set region = (select region from agencies where id = reports.agency_id),
                                     level = (select level from agencies where id = reports.agency_id)""")
    reports.create_index(["year", "is_current", "region"], if_not_exists=True)
    reports.create_index(["is_current", "agency_key", "year"], if_not_exists=True)
    db["findings"].create_index(["rule", "year"], if_not_exists=True)
    # trigram tokenizer: substring search for Chinese (3+ characters); shorter
    # queries fall back to LIKE on report_text (see archive.search)
    db.execute(
        "create virtual table report_text_fts using fts5(title, text, content='report_text', "
        "content_rowid='report_id', tokenize='trigram')"
    )
    db.execute("insert into report_text_fts(report_text_fts) values ('rebuild')")
    for event, body in (
        ("ai", "insert into report_text_fts(rowid, title, text) values (new.report_id, new.title, new.text);"),
        (
            "ad",
            "insert into report_text_fts(report_text_fts, rowid, title, text) "
            "values ('delete', old.report_id, old.title, old.text);",
        ),
        (
            "au",
            "insert into report_text_fts(report_text_fts, rowid, title, text) "
            "values ('delete', old.report_id, old.title, old.text); "
            "insert into report_text_fts(rowid, title, text) values (new.report_id, new.title, new.text);",
        ),
    ):
        kind = {"ai": "insert", "ad": "delete", "au": "update"}[event]
        db.execute(f"create trigger report_text_{event} after {kind} on report_text begin {body} end")


def _v3(db: sqlite_utils.Database) -> None:
    """Year-on-year comparisons (同比) read both years from one covering index."""
    db["reports"].create_index(["year", "is_current", "agency_key", "new_requests"], if_not_exists=True)


def _v4(db: sqlite_utils.Database) -> None:
    """Compliance: which portal lists which agency (a blocked portal is not a missing
    report), and the per-(agency, year) findings with their alert state."""
    db["agency_portals"].create(
        {"agency_id": str, "portal": str}, pk=("agency_id", "portal"), foreign_keys=[("agency_id", "agencies", "id")]
    )
    db["compliance"].create(
        {
            "key": str,
            "kind": str,
            "agency_key": str,
            "agency_name": str,
            "region": str,
            "level": str,
            "year": int,
            "report_id": int,
            "due": str,
            "detail": str,
            "confidence": str,
            "evidence": str,
            "state": str,
            "first_seen": str,
            "last_seen": str,
            "resolved_at": str,
        },
        pk="key",
    )
    db["compliance"].create_index(["year", "kind"], if_not_exists=True)
    db["alerts_sent"].create_index(["finding_key"], if_not_exists=True)


def _v5(db: sqlite_utils.Database) -> None:
    """A report's sources are looked up by final or requested URL: both indexed (the
    lookup was a scan of every capture for every source)."""
    db["captures"].create_index(["requested_url"], if_not_exists=True)


def _v6(db: sqlite_utils.Database) -> None:
    """A listed report whose page could not be read (soft 404, redirect loop …) is
    filed under the agency and year its list title names: unreachable, not missing."""
    db["problems"].add_column("agency_id", str)
    db["problems"].add_column("year", int)
    db["problems"].create_index(["agency_id", "year"], if_not_exists=True)


_PREV = (
    "(select p.new_requests from reports p where p.agency_key = {r}.agency_key and p.year = {r}.year - 1 "
    "and p.is_current = 1 order by p.version desc limit 1)"
)
_YOY_BODY = (
    "update reports set prev_new_requests = "
    + _PREV.format(r="reports")
    + " where agency_key = {r}.agency_key and year in ({r}.year, {r}.year + 1);"
)


def _v7(db: sqlite_utils.Database) -> None:
    """National-scale 同比 and 完成率: each report carries last year's 新收申请 and the
    ratio between the two (an indexed virtual column), kept by triggers whatever
    writes a report (store, reparse, a bulk load); the completion count reads one
    covering index instead of every report row."""
    db["reports"].add_column("prev_new_requests", int)
    db.execute(
        "alter table reports add column jump real generated always as ("
        "case when new_requests is null or prev_new_requests is null then null "
        "else 1.0 * max(new_requests, prev_new_requests) / max(1, min(new_requests, prev_new_requests)) end) virtual"
    )
    db.execute(f"update reports set prev_new_requests = {_PREV.format(r='reports')}")
    db.execute(f"create trigger reports_yoy_insert after insert on reports begin {_YOY_BODY.format(r='new')} end")
    db.execute(
        "create trigger reports_yoy_update after update of new_requests, is_current, year, agency_key "
        f"on reports begin {_YOY_BODY.format(r='new')} {_YOY_BODY.format(r='old')} end"
    )
    db["reports"].create_index(["year", "is_current", "jump"], if_not_exists=True)
    # 迟报: lateness is decided from the index alone; only late reports are read
    db["reports"].create_index(["year", "is_current", "published", "region", "level"], if_not_exists=True)
    # 完成率 per county (first 6 digits of the region code): both counts read in index order
    db.execute(
        "create index if not exists idx_reports_county on reports (year, is_current, substr(region, 1, 6), agency_id, region)"
    )
    db.execute("create index if not exists idx_agencies_county on agencies (substr(region, 1, 6), retired, region)")


def _v8(db: sqlite_utils.Database) -> None:
    """An incremental crawl asks whether a report's attachments were captured or failed:
    problems are looked up by URL too."""
    db["problems"].create_index(["url"], if_not_exists=True)


def _v9(db: sqlite_utils.Database) -> None:
    """Scanned reports read by OCR: each wide-table row keeps the OCR score of each cell
    OCR read (``ocr``, JSON column → score, like ``blanks``), the cells view shows it
    (``ocr_score``), and each report lists the pages OCR read (``ocr_pages``, JSON)."""
    for table in TABLES:
        db[table.key].add_column("ocr", str)
    db["reports"].add_column("ocr_pages", str)
    _cells_view(db, ocr=True)


def _v10(db: sqlite_utils.Database) -> None:
    """Alerts delivered per part: each planned digest (a summary and numbered detail messages,
    each within its channel's limits) and which findings each part carries. A finding is told
    on a channel (``alerts_sent``) only when every part carrying it was accepted; a refused
    part waits for the next run, the parts that arrived are not sent again."""
    db["alert_digests"].create(
        {"id": int, "channel": str, "year": int, "created_at": str, "subject": str, "findings": int, "parts": int}, pk="id"
    )
    db["alert_parts"].create(
        {
            "id": int,
            "digest_id": int,
            "channel": str,
            "number": int,  # 0: the summary; 1 … total: the details
            "total": int,
            "role": str,  # summary | detail
            "payload": str,  # JSON of what is sent; cleared once accepted
            "status": str,  # pending | sent | superseded (a finding in it changed before it was sent)
            "attempts": int,
            "tried_ts": float,  # the last try, in seconds since the epoch (pacing across runs)
            "sent_at": str,
            "error": str,  # the last refusal, secrets removed
        },
        pk="id",
        foreign_keys=[("digest_id", "alert_digests", "id")],
        not_null={"channel", "status", "role"},
        defaults={"attempts": 0},
    )
    db["alert_parts"].create_index(["channel", "status"], if_not_exists=True)
    db["alert_parts"].create_index(["digest_id"], if_not_exists=True)
    db["alert_parts"].create_index(["channel", "tried_ts"], if_not_exists=True)
    db["alert_part_findings"].create(
        {"part_id": int, "finding_key": str, "state": str},
        pk=("part_id", "finding_key"),
        foreign_keys=[("part_id", "alert_parts", "id")],
    )
    db["alert_part_findings"].create_index(["finding_key"], if_not_exists=True)
    db["alerts_sent"].create_index(["channel", "finding_key"], if_not_exists=True)


def _v11(db: sqlite_utils.Database) -> None:
    """Honest run status: a crawl run is running, finished, incomplete (reports it found
    could not be stored) or interrupted (closed by the next run; ``pid`` and ``host`` tell
    whether its process is gone); a sighting counts its parse attempts, so a document
    that keeps killing the ingest is parked instead of retried for ever."""
    for column, kind in (("status", str), ("pid", int), ("host", str), ("unstored", int), ("recovered", int)):
        db["crawl_runs"].add_column(column, kind)
    db.execute("update crawl_runs set status = case when finished_at is null then 'running' else 'finished' end")
    db["sightings"].add_column("parse_attempts", int, not_null_default=0)
    rule = RULES_BY_ID["document.truncated"]
    db["rules"].upsert({"id": rule.id, "severity": rule.severity, "description": rule.description}, pk="id")
    db.execute(
        "create index if not exists idx_sightings_pending on sightings (parse_attempts, seen_at, id) where ingested_at is null"
    )


def _v12(db: sqlite_utils.Database) -> None:
    """One answer to "who is missing" for every view: the expected agencies of each
    checked year as the check saw them (``roll``), findings looked up by region and by
    agency, and the names of the region codes (``regions``)."""
    from .regions import fill, name_townships

    db["regions"].create({"code": str, "prefix": str, "name": str, "full_name": str, "level": str}, pk="code")
    db["regions"].create_index(["name"], if_not_exists=True)
    db["regions"].create_index(["full_name"], if_not_exists=True)
    fill(db)
    name_townships(db)
    db["roll"].create(
        {
            "year": int,
            "agency_key": str,
            "agency_name": str,
            "region": str,
            "level": str,
            "report_id": int,
            "checked_at": str,
        },
        pk=("year", "agency_key"),
    )
    db["roll"].create_index(["year", "region", "report_id"], if_not_exists=True)
    # per county: the counts the front page and 完成率 add up above county level
    db["roll_counts"].create(
        {
            "year": int,
            "county": str,
            "expected": int,
            "reported": int,
            "missing": int,
            "late": int,
            "unreachable": int,
            "inconsistent": int,
        },
        pk=("year", "county"),
    )
    db["compliance"].create_index(["year", "kind", "resolved_at", "region"], if_not_exists=True)
    db["compliance"].create_index(["agency_key", "year"], if_not_exists=True)
    db["compliance"].create_index(["year", "first_seen"], if_not_exists=True)


def _v13(db: sqlite_utils.Database) -> None:
    """Coverage evidence: how much of each portal's list each crawl saw (``archive.list_walks``);
    an agency whose portal's list was not fully seen is unreachable, never missing."""
    db["list_walks"].create(
        {
            "id": int,
            "run_id": int,
            "portal": str,
            "url": str,
            "parent_url": str,
            "family": str,
            "started_at": str,
            "ended_at": str,
            "pages": int,
            "items": int,
            "kept": int,
            "sources": str,
            "pager": str,
            "ended": str,
            "seen": str,
            "warning": str,
            "warning_url": str,
            "detail": str,
        },
        pk="id",
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db.execute("create unique index idx_list_walks_run_portal_url on list_walks (run_id, portal, url)")
    db["list_walks"].create_index(["portal", "run_id"], if_not_exists=True)


def _v14(db: sqlite_utils.Database) -> None:
    """A report page's dates kept side by side: <meta PubDate>, the visible 发布日期, and
    which one was used and why (the visible one wins when they disagree)."""
    for column in ("published_meta", "published_visible", "published_why"):
        db["sightings"].add_column(column, str)


def _v15(db: sqlite_utils.Database) -> None:
    """How much of each report was read (``archive.coverage``): the template's cells, those
    read, those whose column could not be decided, groups of values given to no row, and
    ``read_fully`` to filter on. Reports stored before are NULL until ``nianbao reparse``."""
    for column in ("cells_expected", "cells_read", "cells_undecided", "rows_unattributed", "read_fully"):
        db["reports"].add_column(column, int)
    db["reports"].create_index(["year", "read_fully"], if_not_exists=True)


def _v16(db: sqlite_utils.Database) -> None:
    """Where each report was seen (``archive.report_urls``): every URL of a report (agency, year)
    with the version last seen there, first and last seen, and the evidence that it has gone
    (no longer on a fully read list; 404/410 or a soft 404 in a crawl that read the whole list).
    A sighting keeps the URL its list linked to (``listed_url``: a page may redirect), and a
    report's versions keep its first URL as their canonical one."""
    db["sightings"].add_column("listed_url", str)
    db["report_urls"].create(
        {
            "id": int,
            "agency_key": str,
            "year": int,
            "url": str,
            "listed_url": str,
            "portal": str,
            "report_id": int,
            "sha256": str,
            "first_seen": str,
            "last_seen": str,
            "unlisted_run": int,
            "unlisted_at": str,
            "unlisted_list": str,
            "dead_run": int,
            "dead_at": str,
            "dead_how": str,
            "dead_url": str,
        },
        pk="id",
        foreign_keys=[("report_id", "reports", "id")],
    )
    db.execute("create unique index idx_report_urls_identity on report_urls (agency_key, year, url)")
    db["report_urls"].create_index(["portal", "listed_url"], if_not_exists=True)
    db["report_urls"].create_index(["url"], if_not_exists=True)
    # the check reads only the reports with a URL gone: a small index, whatever the archive's size
    db.execute(
        "create index idx_report_urls_gone on report_urls (year, agency_key) "
        "where dead_run is not null or unlisted_run is not null"
    )
    db.execute(
        """insert into report_urls (agency_key, year, url, listed_url, portal, report_id, first_seen, last_seen)
        select r.agency_key, r.year, s.url, s.url, max(s.portal), max(s.report_id), min(s.seen_at), max(s.seen_at)
        from sightings s join reports r on r.id = s.report_id group by r.agency_key, r.year, s.url"""
    )
    db.execute(
        "update reports set url = (select f.url from reports f where f.agency_key = reports.agency_key "
        "and f.year is reports.year and f.version = 1) where version > 1 and exists (select 1 from reports f "
        "where f.agency_key = reports.agency_key and f.year is reports.year and f.version = 1)"
    )


def _v17(db: sqlite_utils.Database) -> None:
    """What each list showed (``list_entries``): every entry of a walk, with the crawl run that
    last listed it and its place in that walk. A later crawl compares with it: an entry missing
    from a list read in full has been taken off the list; one missing from the pages an
    incremental walk read makes that walk read on to the end."""
    db["list_entries"].create(
        {
            "portal": str,
            "walk": str,
            "url": str,
            "title": str,
            "run_id": int,
            "position": int,
            "first_listed": str,
            "last_listed": str,
        },
        pk=("portal", "walk", "url"),
    )
    db["list_entries"].create_index(["portal", "walk", "run_id"], if_not_exists=True)
    db["list_entries"].create_index(["url", "run_id"], if_not_exists=True)


def _v18(db: sqlite_utils.Database) -> None:
    """Records that arrive over a queue (``archive.stream``) carry a key: a record delivered
    twice (a worker or the ingest writer killed before its acknowledgement) is stored once.
    Records written directly by a local crawl have none (NULL keys never collide)."""
    for table in ("captures", "problems", "sightings"):
        db[table].add_column("record_key", str)
        db.execute(f"create unique index if not exists {table}_record_key on {table}(record_key)")


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _v1,
    _v2,
    _v3,
    _v4,
    _v5,
    _v6,
    _v7,
    _v8,
    _v9,
    _v10,
    _v11,
    _v12,
    _v13,
    _v14,
    _v15,
    _v16,
    _v17,
    _v18,
)
VERSION = len(MIGRATIONS)


class SchemaError(NianbaoError):
    pass


def open_archive(path: str | Path, migrate: bool = True, upto: int = VERSION) -> sqlite_utils.Database:
    """Open (and create or upgrade) the archive database (never on a network filesystem:
    ``archive.local_disk``)."""
    path = Path(path)
    if kind := network_filesystem(path.parent):
        raise SchemaError(
            f"归档数据库 {path} 位于网络文件系统（{kind}）上：SQLite 的锁和预写日志在网络文件系统上不可靠，"
            "归档可能被悄悄损坏。请把数据目录（--data）放在本机磁盘上；多台机器抓取时，"
            "其他机器运行 nianbao worker，由本机经队列写入归档（--queue）"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL waits for other processes too
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > VERSION:
        raise SchemaError(f"{path}: schema version {current} is newer than this nianbao ({VERSION}); upgrade nianbao")
    if migrate:
        for number in range(current + 1, upto + 1):
            with db.atomic():
                MIGRATIONS[number - 1](db)
                db.execute(f"PRAGMA user_version = {number}")
    return db
