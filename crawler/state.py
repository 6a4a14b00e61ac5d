"""What earlier crawls fetched, so an unchanged second run costs only its list pages.

One SQLite file (sqlite-utils): ``fetches`` (per URL: hash, ETag,
Last-Modified, when last checked) and ``listings`` (per portal: whether a run
walked its whole list, which makes it safe to stop paging at the first page
with nothing new).
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlite_utils


class CrawlState:
    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db["fetches"].create({"url": str, "portal": str, "role": str, "status": int, "sha256": str,
                                   "etag": str, "last_modified": str, "checked_at": float, "report_url": str},
                                  pk="url", if_not_exists=True)
        self.db["listings"].create({"portal": str, "complete_at": float}, pk="portal", if_not_exists=True)

    def get(self, url: str) -> dict | None:
        rows = list(self.db.query("select * from fetches where url = ?", [url]))
        return rows[0] if rows else None

    def fresh(self, row: dict | None, max_age_days: float) -> bool:
        return bool(row) and row["status"] in (200, 304) and time.time() - row["checked_at"] < max_age_days * 86400

    def _begin(self) -> None:
        if not self.db.conn.in_transaction:
            self.db.conn.execute("BEGIN")

    def record(self, url: str, **values) -> None:
        """Recorded in the open batch; durable at the next ``commit`` (which the archive
        pipeline calls right after committing the same captures to the archive, so a
        crash never leaves a URL marked fetched here but missing from the archive)."""
        row = {"url": url, "checked_at": time.time(), **values}
        columns = ", ".join(row)
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "url")
        self._begin()
        self.db.conn.execute(f"insert into fetches ({columns}) values ({', '.join('?' * len(row))}) "
                             f"on conflict(url) do update set {updates}", list(row.values()))

    def commit(self) -> None:
        if self.db.conn.in_transaction:
            self.db.conn.execute("COMMIT")

    def listing_complete(self, portal: str) -> bool:
        return bool(list(self.db.query("select 1 from listings where portal = ?", [portal])))

    def mark_listing_complete(self, portal: str) -> None:
        self._begin()
        self.db.conn.execute("insert into listings (portal, complete_at) values (?, ?) "
                             "on conflict(portal) do update set complete_at = excluded.complete_at",
                             [portal, time.time()])

    def close(self) -> None:
        self.commit()
        self.db.close()
