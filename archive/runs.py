"""Crawl runs: opened, finished (``finished``, or ``incomplete`` when something found
could not be stored), closed as ``interrupted`` by the next run when their process
died first; and which runs did not finish, for the check (their portals' agencies
are never called missing on their evidence)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable

import sqlite_utils

from .store import now


def start_run(db: sqlite_utils.Database, portals: list[str]) -> int:
    return (
        db["crawl_runs"]
        .insert(
            {
                "started_at": now(),
                "portals": json.dumps(portals),
                "status": "running",
                "pid": os.getpid(),
                "host": socket.gethostname(),
            }
        )
        .last_pk
    )


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _counts(db: sqlite_utils.Database, run_id: int) -> dict:
    return {
        t: db.execute(f"select count(*) from {t} where run_id = ?", [run_id]).fetchone()[0]
        for t in ("captures", "problems", "sightings")
    }


def close_interrupted(db: sqlite_utils.Database) -> list[int]:
    """Close the runs whose process is gone without finishing them (killed, power cut):
    status ``interrupted``, with what they had recorded; the ids returned. What they found
    but did not store is stored by the next ingest, and counted there as recovered."""
    host = socket.gethostname()
    closed = []
    for run in db.query("select id, pid, host from crawl_runs where status = 'running'"):
        if run["host"] in (None, host) and not _alive(run["pid"]):
            counts = _counts(db, run["id"])
            db["crawl_runs"].update(
                run["id"],
                {
                    "status": "interrupted",
                    "finished_at": now(),
                    "captures": counts["captures"],
                    "reports": counts["sightings"],
                    "problems": counts["problems"],
                },
            )
            closed.append(run["id"])
    return closed


def finish_run(db: sqlite_utils.Database, run_id: int, stats: dict) -> None:
    counts = _counts(db, run_id)
    unstored = sum(stats.get(f"nianbao/archive/{k}", 0) for k in ("unstored", "write_errors"))
    db["crawl_runs"].update(
        run_id,
        {
            "finished_at": now(),
            "status": "incomplete" if unstored else "finished",
            "stats": json.dumps(stats, default=str),
            "requests": stats.get("downloader/request_count"),
            "captures": counts["captures"],
            "reports": counts["sightings"],
            "problems": counts["problems"],
            "unstored": unstored,
            "recovered": stats.get("nianbao/archive/recovered", 0),
        },
    )


def unfinished_runs(db: sqlite_utils.Database, also: Iterable[int] = ()) -> set[int]:
    """Runs that did not finish with everything stored: ``incomplete``, open with their
    process gone (its end could not be written), or named in ``also`` (the caller's own
    run, known to have failed its writes)."""
    host = socket.gethostname()
    out = set(also)
    for run in db.query("select id, status, pid, host from crawl_runs where status in ('incomplete', 'running')"):
        if run["status"] == "incomplete" or (run["host"] in (None, host) and not _alive(run["pid"])):
            out.add(run["id"])
    return out
