"""Crawl state that travels with a queued job: kept in Redis, per portal.

A portal's job may run on any machine, so what its earlier crawls fetched (per
URL: hash, ETag, Last-Modified, when checked), whether its list was walked to
the end, and which report pages reached the archive with all their sources
live in Redis, not in a machine's ``state.sqlite``. A job loads its portals'
state when it starts and writes what changed after each batch of records is
published (never before: what the state calls fetched is always on its way to
the archive), so a job retried on another machine goes on where the first
stopped, and the next day's crawl is incremental wherever it runs. What the
archive knows of the portals' lists comes with the job (``archive.crawl_memory``).

Keys: ``nianbao:state:<portal>:fetches`` (hash: URL → JSON row),
``nianbao:state:<portal>:sighted`` (set: report pages whose sighting was
published, sent only once its sources were: ``crawler.hold``) and
``nianbao:state:listings`` (hash: portal → when its list was last walked to the end).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from archive.blobs import BlobStore

from .state import ArchivedReports, CrawlState, fresh, pending_row

if TYPE_CHECKING:
    from redis import Redis

PREFIX = "nianbao:state:"
LISTINGS = PREFIX + "listings"


class RedisCrawlState:
    """``crawler.state.CrawlState``'s interface over Redis, for the portals of one job."""

    def __init__(self, redis: Redis, portals: list[str]):
        self.redis = redis
        self.rows: dict[str, dict] = {}
        self.sighted: set[str] = set()
        for portal in portals:
            self.rows.update((url.decode(), json.loads(row)) for url, row in redis.hgetall(f"{PREFIX}{portal}:fetches").items())
            self.sighted.update(url.decode() for url in redis.smembers(f"{PREFIX}{portal}:sighted"))
        self.complete_lists = {p for p, at in zip(portals, redis.hmget(LISTINGS, portals) if portals else []) if at}
        self._pending: dict[str, dict] = {}
        self._sighted: list[tuple[str, str]] = []

    def get(self, url: str) -> dict | None:
        return self._pending.get(url) or self.rows.get(url)

    def fresh(self, row: dict | None, max_age_days: float) -> bool:
        return fresh(row, max_age_days)

    def record(self, url: str, **values) -> None:
        self._pending[url] = pending_row(self._pending, url, values)

    def mark_sighted(self, portal: str, url: str) -> None:
        """A report page's sighting was published (kept until the next commit, like ``record``)."""
        self._sighted.append((portal, url))

    def forget(self) -> None:
        """Drop what was recorded since the last commit (its batch could not be published)."""
        self._pending, self._sighted = {}, []

    def commit(self) -> None:
        rows, self._pending = self._pending, {}
        sighted, self._sighted = self._sighted, []
        if not rows and not sighted:
            return
        with self.redis.pipeline() as pipe:
            for url, row in rows.items():
                row = {**self.rows.get(url, {}), **row}
                self.rows[url] = row
                pipe.hset(f"{PREFIX}{row['portal']}:fetches", url, json.dumps(row, ensure_ascii=False))
            for portal, url in sighted:
                pipe.sadd(f"{PREFIX}{portal}:sighted", url)
                self.sighted.add(url)
            pipe.execute()

    def listing_complete(self, portal: str) -> bool:
        return portal in self.complete_lists

    def mark_listing_complete(self, portal: str) -> None:
        self.redis.hset(LISTINGS, portal, time.time())
        self.complete_lists.add(portal)

    def close(self) -> None:
        self.commit()


class SightedReports(ArchivedReports):
    """``crawler.state.ArchivedReports`` for a queued job, which cannot see the archive: what
    earlier crawls left in it comes with the job (``archive.crawl_memory``: an extract read
    with the same queries), and a report page is complete once its sighting was published,
    which happens only after every source of it was (``crawler.hold``)."""

    def __init__(self, state: RedisCrawlState, extract: str | Path):
        super().__init__(extract)
        self.state = state

    def complete(self, url: str) -> bool:
        return url in self.state.sighted


def crawl_stores(settings, data_dir: Path, portals: list[str]) -> tuple:
    """A crawl's state, its view of what is archived, and its capture store: on this
    machine's disk, or (a queued job: ``NIANBAO_QUEUE`` set) in Redis and the shared store."""
    queue = settings.get("NIANBAO_QUEUE")
    if not queue:
        return CrawlState(data_dir / "state.sqlite"), ArchivedReports(data_dir / "archive.db"), BlobStore(data_dir / "blobs")
    from redis import Redis  # only a queued job needs it

    state = RedisCrawlState(Redis.from_url(queue), portals)
    return state, SightedReports(state, settings.get("NIANBAO_ARCHIVE_EXTRACT")), BlobStore(settings.get("NIANBAO_BLOBS"))
