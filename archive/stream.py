"""Crawl records over a Redis Stream, into the archive through one idempotent writer.

Workers on any machine publish their records (captures, problems, report
sightings) to one stream, a batch per transaction, after the bytes are in the
shared capture store. The archive's machine runs the one writer: it reads the
stream as the consumer group ``archive``, commits a batch to SQLite in one
transaction and only then acknowledges it. A writer killed between commit and
acknowledgement reads the same messages again when it restarts (its pending
entries come first); each record carries a key made of what identifies it
(run, URL, role, status, hash …), unique in the archive, so a second delivery
— or a retried job fetching the same bytes again — never makes a second row.
SQLite is opened only by the writer, on its own machine's disk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import sqlite_utils
from redis import Redis
from redis.exceptions import ResponseError

from . import ingest, list_walks

STREAM = "nianbao:records"
GROUP = "archive"
CONSUMER = "writer"  # one writer: a restarted writer takes over its own pending entries

KEY_FIELDS = {
    "capture": ("url", "requested_url", "role", "status", "sha256"),
    "problem": ("portal", "kind", "url", "role"),
    "sighting": ("url",),
    "list_walk": ("portal", "url"),  # stored by upsert on (run, portal, URL): started, then ended
}


def record_key(kind: str, run_id: int, record: dict) -> str:
    """What identifies a record within its crawl run: the same record delivered twice, or
    the same bytes fetched again by a retried job, has the same key."""
    identity = [kind, run_id, *(record.get(f) for f in KEY_FIELDS[kind])]
    return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()[:32]


class RecordPublisher:
    """A job's side: batches of ``(kind, record)`` appended to the stream, each batch at once."""

    def __init__(self, redis: Redis, run_id: int):
        self.redis = redis
        self.run_id = run_id

    def publish(self, batch: list[tuple[str, dict]]) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            for kind, record in batch:
                record = {**record, "record_key": record_key(kind, self.run_id, record)}
                body = json.dumps(record, ensure_ascii=False, default=str)
                pipe.xadd(STREAM, {"kind": kind, "run": self.run_id, "record": body})
            pipe.execute()


RECORDERS: dict[str, Callable[[sqlite_utils.Database, int, dict], object]] = {
    "capture": ingest.record_capture,
    "problem": ingest.record_problem,
    "sighting": lambda db, run_id, r: ingest.record_sighting(db, run_id, r, r.get("seen_at")),
    "list_walk": list_walks.record_walk,
}


class RecordWriter:
    """The archive's side: ``step()`` reads a batch, commits it, then acknowledges it."""

    def __init__(self, redis: Redis, db: sqlite_utils.Database, batch: int = 500):
        self.redis = redis
        self.db = db
        self.batch = batch
        self._from = "0"  # first this consumer's pending entries (a crash's leftovers), then new ones
        try:
            redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    def read(self, block_ms: int | None) -> list[tuple[bytes, dict]]:
        answer = self.redis.xreadgroup(GROUP, CONSUMER, {STREAM: self._from}, count=self.batch, block=block_ms)
        messages = answer[0][1] if answer else []
        if self._from == "0" and not messages:
            self._from = ">"
            return self.read(block_ms)
        return messages

    def write(self, messages: list[tuple[bytes, dict]]) -> dict[str, int]:
        """One transaction for the batch; returns the records written, per kind."""
        counts: dict[str, int] = {}
        with self.db.atomic():
            for _, fields in messages:
                kind = fields[b"kind"].decode()
                RECORDERS[kind](self.db, int(fields[b"run"]), json.loads(fields[b"record"]))
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    def ack(self, messages: list[tuple[bytes, dict]]) -> None:
        ids = [message_id for message_id, _ in messages]
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(STREAM, GROUP, *ids)
            pipe.xdel(STREAM, *ids)  # the archive has them: the stream does not keep growing
            pipe.execute()

    def step(self, block_ms: int | None = 1000) -> dict[str, int]:
        """Read, commit, acknowledge one batch (waiting up to ``block_ms`` for one); {} when none came."""
        messages = self.read(block_ms)
        if not messages:
            return {}
        counts = self.write(messages)
        self.ack(messages)
        return counts
