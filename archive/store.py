"""Parsed reports into the archive: dedup, versions, the wide tables, findings, text.

Identity of a report: (agency, reporting year). Identity of a *version*: what
it says — the hash of its cells (the numbers users compare), or of its
source document when no table could be read. So

* the same bytes at several URLs, or the same report as a page and as an
  attachment, or listed on two portals → one version with several sources;
* the same agency and year published again with other numbers → a new
  version; the newest is current, the old ones stay, and the cells that
  changed are listed on the new one.

A report keeps the first URL it was seen at as its canonical ``url`` (every
version carries it); every URL it was seen at is in ``report_urls``
(:mod:`archive.report_urls`). Every write for one report happens in one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

import sqlite_utils

from . import report_urls
from .coverage import archive_values
from .normalize import nfkc
from .report import Report
from .sources import Parsed, Source
from .template import APPLICANT_COLUMNS, TABLES, TABLES_BY_KEY


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def immediate(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the write lock at its start (``BEGIN IMMEDIATE``): one
    that reads first and writes later would fail at once, not wait, when another process
    (the crawl's record writer) committed in between. Inside a caller's transaction, a
    savepoint of it."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


def agency_key(agency_id: str | None, agency_name: str | None) -> str:
    if agency_id:
        return agency_id
    return "name:" + nfkc(agency_name or "未知机关").replace(" ", "")


def content_hash(parsed: Parsed) -> str:
    if parsed.report is not None and parsed.report.cells:
        canonical = json.dumps(parsed.report.cells, sort_keys=True, ensure_ascii=False)
        return "cells:" + hashlib.sha256(canonical.encode()).hexdigest()
    return "doc:" + (parsed.used.sha256 if parsed.used else "none")


def diff_cells(old: dict, new: dict) -> list[dict]:
    """Cells whose value differs, appeared or disappeared between two versions."""
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key, "absent") != new.get(key, "absent"):
            out.append({"cell": key, "old": old.get(key), "new": new.get(key)})
    return out


def report_cells(db: sqlite_utils.Database, report_id: int) -> dict:
    return {
        f"{t}.{r}.{c}": v
        for t, r, c, v in db.execute('select table_name, row, "column", value from cells where report_id = ?', [report_id])
    }


def _key_figures(report: Report | None) -> dict:
    cells = report.cells if report else {}

    def total(row: str):
        value = cells.get(f"requests.{row}.total")
        if value is None:
            parts = [cells.get(f"requests.{row}.{c}") for c in APPLICANT_COLUMNS]
            value = sum(parts) if all(p is not None for p in parts) else None
        return value

    return {
        "new_requests": total("new"),
        "carried_over": total("carried_over"),
        "handled": total("total_handled"),
        "carried_forward": total("carried_forward"),
        "reviews": cells.get("appeals.review.total"),
        "suits": (
            None
            if cells.get("appeals.suit_direct.total") is None
            else cells.get("appeals.suit_direct.total", 0) + (cells.get("appeals.suit_after_review.total") or 0)
        ),
    }


def _update(db: sqlite_utils.Database, table: str, row_id: int, values: dict) -> None:
    """``values`` into one row, in plain SQL: sqlite-utils' ``update()`` reads the table's
    schema (and the database's list of tables) on every call, which was a third of the cost
    of storing a report."""
    columns = ", ".join(f"[{c}] = ?" for c in values)
    db.execute(f"update [{table}] set {columns} where id = ?", [*values.values(), row_id])


def _insert(db: sqlite_utils.Database, table: str, values: dict) -> int:
    """``values`` as a new row of ``table`` (plain SQL, as ``_update``); its id."""
    columns = ", ".join(f"[{c}]" for c in values)
    marks = ", ".join("?" * len(values))
    return db.execute(f"insert into [{table}] ({columns}) values ({marks})", list(values.values())).lastrowid


_WIDE_COLUMNS = {t.key: ("report_id", "row", "label", "blanks", "ocr", *(c.key for c in t.columns)) for t in TABLES}
_WIDE_INSERT = {
    t: f"insert into [{t}] ({', '.join(f'[{c}]' for c in cols)}) values ({', '.join('?' * len(cols))})"
    for t, cols in _WIDE_COLUMNS.items()
}


def write_parse(db: sqlite_utils.Database, report_id: int, parsed: Parsed, key: str, year: int | None) -> None:
    """The parse-derived rows of one report version (replacing what an earlier parse wrote)."""
    for table in TABLES:
        db.execute(f"delete from [{table.key}] where report_id = ?", [report_id])
    db.execute("delete from findings where report_id = ?", [report_id])
    report = parsed.report
    scores = (report.ocr or {}).get("cells", {}) if report else {}
    rows: dict[tuple[str, str], dict] = {}
    for cell, value in (report.cells if report else {}).items():
        table, row, column = cell.split(".")
        values = rows.setdefault(
            (table, row),
            {"report_id": report_id, "row": row, "blanks": [], "ocr": {}, "label": TABLES_BY_KEY[table].row(row).label},
        )
        values[column] = value
        if value is None:
            values["blanks"].append(column)
        if cell in scores:
            values["ocr"][column] = scores[cell]
    by_table: dict[str, list[tuple]] = {}
    for (table, _), values in rows.items():
        values["blanks"] = json.dumps(values["blanks"]) if values["blanks"] else None
        values["ocr"] = json.dumps(values["ocr"]) if values["ocr"] else None
        by_table.setdefault(table, []).append(tuple(values.get(c) for c in _WIDE_COLUMNS[table]))
    # plain executemany: sqlite-utils' insert() introspects the table on every call,
    # which was most of the cost of storing a report (37 rows each)
    for table, values in by_table.items():
        db.conn.executemany(_WIDE_INSERT[table], values)
    findings = report.findings if report else []
    db.conn.executemany(
        "insert into findings (report_id, agency_key, year, rule, severity, cell, message) values (?, ?, ?, ?, ?, ?, ?)",
        [(report_id, key, year, f.rule, f.severity, f.where, f.message) for f in findings],
    )
    db.execute(
        "insert or replace into report_text (report_id, title, text) values (?, ?, ?)",
        [report_id, report.title if report else None, parsed.text],
    )
    _update(
        db,
        "reports",
        report_id,
        {
            "template": report.template if report else None,
            "parse_status": parsed.status,
            "parse_error": "; ".join(parsed.errors) or None,
            "source_sha256": parsed.used.sha256 if parsed.used else None,
            "content_hash": content_hash(parsed),
            "errors": sum(f.severity == "error" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings),
            "ocr_pages": json.dumps(report.ocr["pages"]) if report and report.ocr and report.ocr["pages"] else None,
            **archive_values(report.coverage if report else None),
            **_key_figures(report),
        },
    )


def _add_sources(db: sqlite_utils.Database, report_id: int, sources: list[Source], used: Source | None) -> None:
    for s in sources:
        db.execute(
            "insert into report_sources (report_id, url, sha256, role, kind, used) values (?, ?, ?, ?, ?, ?) "
            "on conflict (report_id, url, sha256) do update set used = max(used, excluded.used)",
            [report_id, s.url, s.sha256, s.role, s.kind, int(used is not None and s == used)],
        )


class Stored(NamedTuple):
    report_id: int  # the report version the sighting belongs to
    new_version: bool  # whether storing it created that version


def store_report(db: sqlite_utils.Database, sighting: dict, sources: list[Source], parsed: Parsed) -> Stored:
    """Archive one sighting's parse."""
    report = parsed.report
    year = sighting.get("year") or (report.year if report else None)
    key = agency_key(sighting.get("agency_id"), sighting.get("agency_name") or (report.agency if report else None))
    digest = content_hash(parsed)
    seen = sighting["seen_at"]
    with immediate(db):
        versions = list(
            db.query(
                "select id, version, content_hash, is_current, first_seen, url from reports "
                "where agency_key = ? and year is ? order by version",
                [key, year],
            )
        )
        same = next((v for v in versions if v["content_hash"] == digest), None)
        if same is not None:
            report_id = same["id"]
            db.execute(
                "update reports set last_seen = max(coalesce(last_seen, ''), ?), first_seen = min(first_seen, ?) where id = ?",
                [seen, seen, report_id],
            )
        else:
            current = next((v for v in versions if v["is_current"]), None)
            agency = db.execute("select region, level from agencies where id = ?", [sighting.get("agency_id")]).fetchone() or (
                None,
                None,
            )
            report_id = _insert(
                db,
                "reports",
                {
                    "agency_key": key,
                    "agency_id": sighting.get("agency_id"),
                    "agency_name": sighting.get("agency_name") or (report.agency if report else None),
                    "year": year,
                    "version": len(versions) + 1,
                    "is_current": 1,
                    "title": sighting.get("title") or (report.title if report else None),
                    "url": versions[0]["url"] if versions else sighting["url"],  # the first URL stays canonical
                    "published": sighting.get("published"),
                    "published_source": sighting.get("published_source"),
                    "first_seen": seen,
                    "last_seen": seen,
                    "supersedes_id": current["id"] if current else None,
                    "region": agency[0],
                    "level": agency[1],
                },
            )
            write_parse(db, report_id, parsed, key, year)
            if current is not None:
                db.execute("update reports set is_current = 0 where id = ?", [current["id"]])
                changes = diff_cells(report_cells(db, current["id"]), report_cells(db, report_id))
                _update(db, "reports", report_id, {"changed_cells": json.dumps(changes, ensure_ascii=False)})
        _add_sources(db, report_id, sources, parsed.used)
        page = next((s.sha256 for s in sources if s.role == "page"), None)
        report_urls.note_sighting(db, report_id, key, year, sighting, page)
        _update(db, "sightings", sighting["id"], {"report_id": report_id, "ingested_at": now()})
    return Stored(report_id, same is None)
