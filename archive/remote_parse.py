"""Reports parsed on other machines: batches of sightings on the parse queue, worked by
``nianbao worker --parse`` processes, their results stored by the archive's writer.

Parsing is the costly part of archiving (tens of milliseconds a report, seconds a
page for OCR); a queued crawl's writer sends the ready sightings' sources to the
parse workers when there are any, so the archive's machine only stores. A parse
job reads the shared capture store and parses each document under the parse
budget in its own process (``ingest.parse_sightings``, as a local ingest does).
A batch whose job failed for good (its worker lost more than ``RETRIES`` times),
or that no parse worker is left to take, is parsed here instead. Sightings whose
parse was interrupted before, or that have no archived page, are left to the
local ingest, which parks or counts them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import sqlite_utils
from redis import Redis
from rq import Queue, Retry, Worker
from rq.job import Job, JobStatus

from . import ingest
from .isolation import Budget, Isolated
from .sources import Parsed, Source, sighting_sources

PARSE_QUEUE = "nianbao-parse"
BATCH = 16  # sightings per job: a job's fork and bookkeeping cost less than a millisecond a report
RETRIES = 2
JOB_TIMEOUT = 3600  # OCR of a batch of long scans fits
ENDED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def parse_batch(blob_root: str, items: list[tuple[int, list[Source]]], budget: Budget) -> list[tuple[int, Parsed]]:
    """The parse job: each sighting's sources parsed, from the capture store as this machine mounts it."""
    root = os.environ.get("NIANBAO_BLOBS") or blob_root
    with Isolated(budget, 1) as pool:
        return list(ingest.parse_sightings(pool, items, root))


class _Sighting(NamedTuple):
    sighting: dict
    sources: list[Source]


class RemoteParsing:
    def __init__(self, redis_url: str, db: sqlite_utils.Database, blob_root: str | Path, pool: Isolated, run_id: int | None):
        self.queue = Queue(PARSE_QUEUE, connection=Redis.from_url(redis_url))
        self.db = db
        self.pool = pool  # for the batches parsed here
        self.run_id = run_id
        self.blob_root = str(blob_root)
        self.jobs: dict[str, tuple[Job, list[tuple[dict, list[Source]]]]] = {}
        self.last_id = 0  # sightings are sent in id order, each once

    def workers(self) -> int:
        return len(Worker.all(queue=self.queue))

    def dispatch(self) -> int:
        """Send the pending sightings not sent yet, in batches; how many were sent."""
        query = "select * from sightings where ingested_at is null and parse_attempts = 0 and id > ? order by id"
        rows = list(self.db.query(query, [self.last_id]))
        ready = [(s, sources) for s in rows if (sources := sighting_sources(self.db, s))]
        for start in range(0, len(ready), BATCH):
            batch = ready[start : start + BATCH]
            job = self.queue.enqueue(
                "archive.remote_parse.parse_batch",
                self.blob_root,
                [(s["id"], sources) for s, sources in batch],
                self.pool.budget,
                job_timeout=JOB_TIMEOUT,
                retry=Retry(max=RETRIES),
                result_ttl=600,
                failure_ttl=7 * 86400,
            )
            self.jobs[job.id] = (job, batch)
        self.last_id = max([self.last_id, *(s["id"] for s in rows)])
        return len(rows)

    def collect(self) -> ingest.IngestResult:
        """Store what the parse workers have returned; parse here the batches they failed."""
        result = ingest.IngestResult()
        store = ingest.StoreBatch(self.db, lambda r, p, new: result.add_stored(r.sighting, p, new, self.run_id))
        alive = self.workers() > 0  # with none left, nobody would retry a lost batch
        for job_id, (job, batch) in list(self.jobs.items()):
            status = job.get_status(refresh=True)
            if status == JobStatus.FINISHED:
                parsed = dict(job.return_value())
            elif status in ENDED or not alive:
                if status not in ENDED:
                    job.cancel()
                items = [(s["id"], sources) for s, sources in batch]
                parsed = dict(ingest.parse_sightings(self.pool, items, self.blob_root))
            else:
                continue
            for sighting, sources in batch:
                store.add(_Sighting(sighting, sources), parsed[sighting["id"]])
            store.flush()
            result.remote += status == JobStatus.FINISHED and len(batch)
            del self.jobs[job_id]
        return result

    def outstanding(self) -> int:
        return len(self.jobs)
