"""What withdrawn / moved detection costs a national crawl: the end-of-crawl review of the
report URLs (``archive.report_urls.review_run``) and the spider's reads of the list memory
at each walk's start and end (``crawler.list_memory``).

    python bench/fates.py [--portals 3000] [--reports 70] [--revalidated 0.1] [--gone 0.01]

A synthetic archive: every portal with one list holding ``--reports`` report entries, each
report seen at one URL, recorded by a first crawl; then a second crawl that read every list
in full, in which ``--gone`` of the entries left their list (half of those answering 404 to
the recheck) and ``--revalidated`` of the report pages answered 304.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.report_urls import review_run
from archive.schema import open_archive
from crawler.list_memory import ListMemory
from crawler.state import ArchivedReports


def _walk(run_id: int, portal: str, at: str) -> tuple:
    url = f"http://{portal}/nb/list.html"
    return (run_id, portal, url, "trs", at, at, 5, 80, 70, "markup", "followed", "last_page", "full")


def fill(db, portals: int, reports: int, revalidated: float, gone: float) -> tuple[int, int]:
    rng = random.Random(1)
    conn = db.conn
    names = json.dumps([f"p{i}" for i in range(portals)])
    first, second = (db["crawl_runs"].insert({"started_at": day, "portals": names}).last_pk for day in ("2025-04", "2025-05"))
    walks, entries, urls, captures = [], [], [], []
    for i in range(portals):
        portal = f"p{i}"
        walk = f"http://{portal}/nb/list.html"
        walks += [_walk(first, portal, "2025-04-01T01:00:00+00:00"), _walk(second, portal, "2025-05-01T01:00:00+00:00")]
        for k in range(reports):
            url = f"http://{portal}/nb/{k}.html"
            off = rng.random() < gone
            entries.append((portal, walk, url, "某县某局2024年政府信息公开工作年度报告", first if off else second, k))
            urls.append((f"{portal}-{k}", 2024, url, url, portal, "2025-04-01T02:00:00+00:00", "2025-04-01T02:00:00+00:00"))
            if off and rng.random() < 0.5:
                captures.append((second, portal, "report", url, url, 404, "2025-05-01T01:30:00+00:00"))
            elif rng.random() < revalidated:
                captures.append((second, portal, "report", url, url, 304, "2025-05-01T00:30:00+00:00"))
    conn.executemany(
        "insert into list_walks (run_id, portal, url, family, started_at, ended_at, pages, items, kept, sources, pager, "
        "ended, seen) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        walks,
    )
    conn.executemany(
        "insert into list_entries (portal, walk, url, title, run_id, position, first_listed, last_listed) "
        "values (?, ?, ?, ?, ?, ?, '2025-04-01', '2025-04-01')",
        entries,
    )
    conn.executemany(
        "insert into report_urls (agency_key, year, url, listed_url, portal, first_seen, last_seen) values (?, ?, ?, ?, ?, ?, ?)",
        urls,
    )
    conn.executemany(
        "insert into captures (run_id, portal, role, url, requested_url, status, fetched_at) values (?, ?, ?, ?, ?, ?, ?)",
        captures,
    )
    conn.commit()
    return second, len(captures)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--portals", type=int, default=3000)
    parser.add_argument("--reports", type=int, default=70)
    parser.add_argument("--revalidated", type=float, default=0.1)
    parser.add_argument("--gone", type=float, default=0.01)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_archive(Path(tmp) / "archive.db")
        run_id, captures = fill(db, args.portals, args.reports, args.revalidated, args.gone)
        db.execute("analyze")
        n = args.portals * args.reports
        print(f"{args.portals} portals, {n} report URLs and list entries, {captures} report captures in the second crawl")
        started = time.perf_counter()
        gone = review_run(db, run_id)
        print(f"review of the second crawl    {time.perf_counter() - started:6.2f} s  (gone: {dict(gone)})")
        archived = ArchivedReports(Path(tmp) / "archive.db")
        memory = ListMemory(archived)
        times = []
        for i in range(0, args.portals, max(1, args.portals // 200)):
            walk, started = f"http://p{i}/nb/list.html", time.perf_counter()
            memory.previous(f"p{i}", walk)
            memory.full_walk_due(f"p{i}", walk, 7)
            memory.vanished(f"p{i}", walk, set())
            times.append(time.perf_counter() - started)
        archived.close()
        print(f"list memory per walk          {statistics.median(times) * 1000:6.2f} ms median (start and end of a walk)")


if __name__ == "__main__":
    main()
