"""What a crawl reads of the archive about its portals, for a queued job that cannot see it.

A crawl asks the archive what earlier crawls left: each list's entries and when it
was last read to its end (``crawler.list_memory``: where an incremental walk may
stop, which vanished reports to ask for again), the report URLs not yet found gone,
and the parts and attachments each report page listed (revalidated under an
unchanged page). A job on another machine gets these rows with it: a small SQLite
database with the same tables and columns, made from the archive when the crawl is
enqueued, which the crawler reads with the same queries.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# table → the rows of the archive's table the crawler reads (``?`` is the portals)
_ROWS = {
    "list_entries": "select portal, walk, url, title, run_id, position from archive.list_entries where portal in ({})",
    "list_walks": "select portal, url, seen, max(ended_at) as ended_at from archive.list_walks "
    "where seen = 'full' and portal in ({}) group by portal, url",
    "report_urls": "select portal, listed_url, dead_run from archive.report_urls where portal in ({})",
    # a page's latest sighting (SQLite takes the other columns from the row with max(id))
    "sightings": "select max(id) as id, portal, url, parts, attachments from archive.sightings where portal in ({}) group by url",
}
_INDEXES = (
    "create index list_entries_walk on list_entries (portal, walk, run_id)",
    "create index list_walks_walk on list_walks (portal, url)",
    "create index report_urls_listed on report_urls (portal, listed_url)",
    "create index sightings_url on sightings (url)",
)


def crawl_memory(archive: str | Path, portals: list[str]) -> bytes:
    """The extract for a job crawling ``portals``, as an SQLite database image."""
    db = sqlite3.connect("file::memory:", uri=True)
    try:
        db.execute("attach database ? as archive", [f"file:{Path(archive).resolve()}?mode=ro"])
        marks = ",".join("?" * len(portals))
        for table, select in _ROWS.items():
            db.execute(f"create table {table} as {select.format(marks)}", portals)
        for index in _INDEXES:
            db.execute(index)
        db.commit()
        db.execute("detach database archive")
        return db.serialize()
    finally:
        db.close()
