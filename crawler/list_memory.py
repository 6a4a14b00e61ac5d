"""What earlier crawls saw on each list, read from the archive (read-only) as a walk starts
and ends: what the last crawl listed on it (in list order), when it was last read in full,
and which reports it listed that this walk, read in full, did not.

The spider uses it to decide whether a walk may stop at the first page with nothing new
(``crawler.coverage.Walk.may_stop``) and to ask again for every archived report a list
read in full no longer shows (is its page still there?).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from datetime import datetime

from .families import Entry
from .state import ArchivedReports


class ListMemory:
    def __init__(self, archive: ArchivedReports):
        self._query = archive.query  # one read-only connection to the archive

    def previous(self, portal: str, walk: str) -> list[str]:
        """The entries the last crawl that read this list kept, in list order."""
        return [
            url
            for (url,) in self._query(
                "select url from list_entries where portal = ? and walk = ? and run_id = "
                "(select max(run_id) from list_entries where portal = ? and walk = ?) order by position",
                [portal, walk, portal, walk],
            )
        ]

    def full_walk_due(self, portal: str, walk: str, days: float) -> bool:
        """Whether this list was last read to its end more than ``days`` ago (or never)."""
        rows = self._query("select max(ended_at) from list_walks where portal = ? and url = ? and seen = 'full'", [portal, walk])
        last = rows[0][0] if rows else None
        return last is None or time.time() - datetime.fromisoformat(last).timestamp() >= days * 86400

    def vanished(self, portal: str, walk: str, listed: Collection[str]) -> list[Entry]:
        """Archived reports this list linked to before and not now (their pages not yet found
        gone): each is asked for again, so the archive can say whether it is still there."""
        rows = self._query(
            "select distinct e.url, e.title from list_entries e join report_urls r on r.portal = e.portal "
            "and r.listed_url = e.url where e.portal = ? and e.walk = ? and r.dead_run is null",
            [portal, walk],
        )
        return [Entry(url, title, None) for url, title in rows if url not in listed]
