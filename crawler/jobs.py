"""The queued job, as a worker runs it: crawl a group of portals (portals sharing a host
stay in one group) in this work horse, holding every host's lease while it runs.

The job carries what it needs (the config's text, the run, the portals, what the
archive knows of their lists), so a worker needs only the queue's address and the
shared capture store. Records go to the
archive's stream (``archive.stream``), the crawl state to Redis
(``crawler.shared_state``), the bytes to the capture store; nothing to SQLite.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path

from redis import Redis

from .config import load_config
from .lease import HostLeases

QUEUE_ENV = "NIANBAO_QUEUE"  # the worker's own address of the queue (set by `nianbao worker`)
BLOBS_ENV = "NIANBAO_BLOBS"  # the shared capture store as this machine mounts it


def crawl_job(payload: dict) -> dict:
    """Run one job; returns its numeric Scrapy stats (and which worker ran it)."""
    from .runner import run_scrapy

    queue = os.environ.get(QUEUE_ENV) or payload["queue"]
    blobs = os.environ.get(BLOBS_ENV) or payload["blobs"]
    with tempfile.TemporaryDirectory(prefix="nianbao-job-") as tmp:
        config_path = Path(tmp) / "config.yaml"
        config_path.write_text(payload["config"], encoding="utf-8")
        config = load_config(config_path)
        extract = Path(tmp) / "archive-extract.db"  # what the archive knows of these portals' lists
        extract.write_bytes(payload["archive"])
        hosts = [h for p in payload["portals"] for h in config.portal(p).hosts]
        leases = HostLeases(Redis.from_url(queue), hosts, config.crawl.delay)
        waited = time.monotonic()
        leases.acquire()  # another job on one of these hosts (a crawl beside this one, a lost job's run) ends first
        waited = time.monotonic() - waited
        try:
            settings = {
                **payload.get("settings", {}),
                "NIANBAO_QUEUE": queue,
                "NIANBAO_BLOBS": blobs,
                "NIANBAO_RUN_ID": payload["run_id"],
                "NIANBAO_ARCHIVE_EXTRACT": str(extract),
            }
            stats, _ = run_scrapy(config_path, Path(tmp) / "data", payload["portals"], None, payload["log_level"], settings)
        finally:
            leases.release()
    out = {k: v for k, v in stats.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    out["nianbao/queue/lease_wait_seconds"] = round(waited, 2)
    out["worker"] = os.environ.get("RQ_WORKER_ID") or socket.gethostname()
    return out
