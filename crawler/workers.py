"""The queue's worker: RQ, one job at a time, each job in a fresh work horse.

RQ was chosen over Celery by a measured trial (``bench/queues.py``): RQ forks one
work horse per job, which is what Scrapy needs (Twisted's reactor cannot be
restarted in a process), and a job whose worker was killed is found abandoned
by its expired heartbeat and retried by another worker within seconds. Celery
on Redis redelivers an unacknowledged task only after its visibility timeout,
which must be longer than the longest crawl (hours), and a task outliving that
timeout is run a second time beside the first.

Two adjustments to RQ's defaults, both through its documented worker class:
* the heartbeat's time to live is three monitoring intervals (RQ adds a fixed
  minute, so an abandoned crawl would wait 90 s to be retried);
* the work horse dies with its worker (``PR_SET_PDEATHSIG``): RQ puts the horse
  in its own process group, so a worker killed with SIGKILL would otherwise leave
  its crawl running unsupervised while the job is retried elsewhere. (The host
  leases, ``crawler.lease``, keep such a crawl and its retry apart regardless.)
"""

from __future__ import annotations

import os
import socket
import sys

from redis import Redis
from rq import Queue, Worker

from archive.follow import die_with_parent

CRAWL_QUEUE = "nianbao-crawl"
MONITOR_SECONDS = 5  # how often a worker checks on its work horse and renews the job's heartbeat


class CrawlWorker(Worker):
    """An RQ worker whose jobs are retried quickly when it dies, and whose work horse dies with it."""

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        return 3 * self.job_monitoring_interval

    def main_work_horse(self, job, queue) -> None:
        die_with_parent()
        super().main_work_horse(job, queue)


def make_worker(redis_url: str, queues: list[str], name: str | None = None) -> CrawlWorker:
    connection = Redis.from_url(redis_url)
    return CrawlWorker(
        [Queue(q, connection=connection) for q in queues],
        connection=connection,
        name=name or f"{socket.gethostname()}.{os.getpid()}",
        job_monitoring_interval=MONITOR_SECONDS,
        maintenance_interval=MONITOR_SECONDS,  # abandoned jobs are looked for this often by an idle worker
        worker_ttl=MONITOR_SECONDS + 15,  # … which wakes from waiting for a job this often
    )


def run_worker(redis_url: str, queues: list[str], burst: bool = False, name: str | None = None) -> bool:
    """Work jobs until stopped (SIGTERM: the current job is finished first; with ``burst``,
    until the queues are empty)."""
    return make_worker(redis_url, queues, name).work(burst=burst, with_scheduler=False, logging_level="WARNING")


if __name__ == "__main__":  # ``python -m crawler.workers REDIS_URL QUEUE…`` (bench/queues.py's trial)
    run_worker(sys.argv[1], sys.argv[2:])
