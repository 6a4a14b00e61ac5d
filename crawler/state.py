"""What earlier crawls fetched, so an unchanged second run costs only its list pages.

One SQLite file (sqlite-utils): ``fetches`` (per URL: hash, ETag,
Last-Modified, when last checked) and ``listings`` (per portal: whether a run
walked its whole list, which makes it safe to stop paging at the first page
with nothing new).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import sqlite_utils


def fresh(row: dict | None, max_age_days: float) -> bool:
    """Whether a URL's state row says it was fetched (or confirmed unchanged) recently enough."""
    return bool(row) and row["status"] in (200, 304) and time.time() - row["checked_at"] < max_age_days * 86400


def pending_row(pending: dict[str, dict], url: str, values: dict) -> dict:
    """A URL's state row as ``record`` updates it (kept until the next commit)."""
    return {**pending.get(url, {}), "url": url, "checked_at": time.time(), **values}


class CrawlState:
    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA busy_timeout=30000")  # first: shards of one crawl share the file
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db["fetches"].create(
            {
                "url": str,
                "portal": str,
                "role": str,
                "status": int,
                "sha256": str,
                "etag": str,
                "last_modified": str,
                "checked_at": float,
                "report_url": str,
            },
            pk="url",
            if_not_exists=True,
        )
        self.db["listings"].create({"portal": str, "complete_at": float}, pk="portal", if_not_exists=True)
        self._pending: dict[str, dict] = {}

    def get(self, url: str) -> dict | None:
        if url in self._pending:
            return self._pending[url]
        rows = list(self.db.query("select * from fetches where url = ?", [url]))
        return rows[0] if rows else None

    def fresh(self, row: dict | None, max_age_days: float) -> bool:
        return fresh(row, max_age_days)

    def record(self, url: str, **values) -> None:
        """Kept in memory until the next ``commit`` (which the archive pipeline calls right
        after committing the same captures to the archive, so a crash never leaves a URL
        marked fetched here but missing from the archive). Writes are short transactions:
        shards of one crawl share this file."""
        self._pending[url] = pending_row(self._pending, url, values)

    def forget(self) -> None:
        """Drop what was recorded since the last commit (its archive batch could not be
        written): those URLs are fetched again next run."""
        self._pending = {}

    def commit(self) -> None:
        rows, self._pending = list(self._pending.values()), {}
        if not rows:
            return
        with self.db.atomic():
            for row in rows:
                updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "url")
                self.db.conn.execute(
                    f"insert into fetches ({', '.join(row)}) values ({', '.join('?' * len(row))}) "
                    f"on conflict(url) do update set {updates}",
                    list(row.values()),
                )

    def listing_complete(self, portal: str) -> bool:
        return bool(list(self.db.query("select 1 from listings where portal = ?", [portal])))

    def mark_listing_complete(self, portal: str) -> None:
        with self.db.atomic():
            self.db.conn.execute(
                "insert into listings (portal, complete_at) values (?, ?) "
                "on conflict(portal) do update set complete_at = excluded.complete_at",
                [portal, time.time()],
            )

    def close(self) -> None:
        self.commit()
        self.db.close()


class ArchivedReports:
    """Whether a report page fetched before is fully in the archive: its sighting and
    every part and attachment it listed (a capture or a recorded problem each). A
    crawl killed between a page and its sighting, or before its attachments
    arrived, leaves the page incomplete, and the next run asks for it again."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db: sqlite3.Connection | None = None

    def query(self, sql: str, params: list) -> list[tuple]:
        """Rows from the archive (read-only); none before the first crawl made it."""
        if self.db is None:
            if not self.path.exists():
                return []
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        return self.db.execute(sql, params).fetchall()

    def sources(self, url: str) -> tuple[list[str], list[dict]] | None:
        """The continuation pages and attachments (url, name, kind) the page's latest sighting
        listed; None when it has none."""
        rows = self.query("select parts, attachments from sightings where url = ? order by id desc limit 1", [url])
        return (json.loads(rows[0][0] or "[]"), json.loads(rows[0][1] or "[]")) if rows else None

    def complete(self, url: str) -> bool:
        listed = self.sources(url)
        if listed is None:
            return False
        needed = listed[0] + [a["url"] for a in listed[1]]
        return all(
            self.db.execute(
                "select 1 from captures where url = ? or requested_url = ? "
                "union all select 1 from problems where url = ? limit 1",
                [u, u, u],
            ).fetchone()
            for u in needed
        )

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
