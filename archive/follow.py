"""Reports parsed and stored while the crawl goes on.

A crawl records a report's sighting once everything it fetches for that report
has arrived (``crawler.pipelines``), so every pending sighting is ready to parse.
The follower is a child process that parses and stores pending sightings as they
appear (``ingest.ingest``, the same code as after a crawl). While the crawl goes on,
its parse processes run at a lower CPU priority, so a slow parse (OCR of a scan)
never holds up fetching; when the crawl ends, what its idle CPU could not absorb is
parsed at the usual priority (a lowered priority cannot be raised again without
privileges, so that is a new pool), which on a machine shared with other work is
what keeps the user's wait short. It is the archive's second writer beside the
crawl's record writer; both hold SQLite's write lock for milliseconds at a time.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

from . import ingest
from .errors import NianbaoError
from .isolation import Budget, Isolated
from .schema import open_archive

POLL_SECONDS = 0.5
NICENESS = 10  # parsing during a crawl takes the CPU the crawl leaves: a crawl waits on its delays, parsing never holds it up
_PR_SET_PDEATHSIG = 1


def parse_workers() -> int:
    """Parse processes beside a crawl: one per core (at a lower priority, they take only what
    the crawl leaves; after the crawl, every core)."""
    return os.cpu_count() or 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux): a helper
    process must not go on writing after the process that started it was killed."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _follow(db_path: str, blob_root: str, workers: int, budget: Budget, run_id: int, done, out, progress: bool, queue) -> None:
    die_with_parent()
    db = open_archive(db_path)
    total = ingest.IngestResult()
    started = time.monotonic()
    with Isolated(budget, workers, NICENESS) as pool:  # one pool while the crawl goes on
        remote = None
        if queue:  # a queued crawl: parse workers on other machines take the parsing, when there are any
            from .remote_parse import RemoteParsing

            remote = RemoteParsing(queue, db, blob_root, pool, run_id)
        while not done.is_set() or (remote is not None and remote.outstanding()):
            sent = 0
            if remote is not None and (remote.outstanding() or remote.workers()):
                sent = 0 if done.is_set() else remote.dispatch()
                result = remote.collect()
            elif _pending(db):
                result = ingest.ingest(db, blob_root, run_id=run_id, pool=pool)
            else:
                result = ingest.IngestResult()
            total.add(result)
            if not result.reports and not sent:
                time.sleep(POLL_SECONDS)
    # the crawl is over: the rest at the usual priority, with a progress bar
    total.add(ingest.ingest_with_progress(db, blob_root, workers, progress, budget, run_id=run_id))
    figures = ingest.ingest_figures(total, time.monotonic() - started) | ingest.review_urls(db, run_id)
    db.close()
    out.send(figures)


def _pending(db) -> bool:
    """Sightings to parse (those an earlier, interrupted parse left wait for the crawl's end)."""
    return db.execute("select exists (select 1 from sightings where ingested_at is null and parse_attempts = 0)").fetchone()[0]


class Follower:
    """``with Follower(db, blobs, workers) as f: …crawl…; figures = f.finish()``."""

    def __init__(
        self,
        db_path: str | Path,
        blob_root: str | Path,
        workers: int,
        budget: Budget,
        run_id: int,
        progress: bool = False,
        queue: str | None = None,
    ):
        context = multiprocessing.get_context("spawn")  # nothing of the crawl's process (a reactor) inherited
        self._done = context.Event()
        self._recv, self._send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_follow,
            args=(str(db_path), str(blob_root), workers, budget, run_id, self._done, self._send, progress, queue),
            name="nianbao-follow",  # not a daemon: its parse pool has processes of its own
        )

    def __enter__(self) -> Follower:
        self._process.start()
        self._send.close()  # the child's end only: its death then ends the wait in finish()
        return self

    def finish(self) -> dict:
        """Tell the follower the crawl is over; wait until every pending report is stored."""
        ended = time.monotonic()
        self._done.set()
        try:
            figures = self._recv.recv()
        except EOFError:
            raise NianbaoError(
                f"解析入库进程意外退出（退出码 {self._process.exitcode}）：已抓取的内容都在归档中，"
                "待解析的年报由下次运行（或 nianbao reparse）处理"
            ) from None
        self._process.join()
        figures["nianbao/archive/after_crawl_seconds"] = round(time.monotonic() - ended, 2)
        return figures

    def __exit__(self, *exc) -> None:
        if self._process.is_alive():  # the crawl failed before finish(): nothing more to wait for
            self._process.terminate()
            self._process.join()
