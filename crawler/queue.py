"""A crawl as jobs on the queue (RQ on Redis), run by ``nianbao worker`` on any machine,
and its records written into the archive here, as they arrive.

The unit of work is a group of portals, portals sharing a host always in one group
(``runner.shards``), about one group per worker registered when the crawl is
enqueued. This process is the archive's one ingest writer (``archive.stream``): it
commits the records the jobs publish, a parse follower (``archive.follow``) parses
and stores the reports as their sightings arrive, and the crawl run is closed when
every job has ended and the stream is drained. A job killed with its worker is
retried by another (``crawler.workers``) and goes on from the state its first run
left (``crawler.shared_state``); the host leases (``crawler.lease``) keep two runs
of a job, or two crawls, off the same host at the same time.
"""

from __future__ import annotations

from pathlib import Path

from redis import Redis
from rq import Queue, Retry, Worker
from rq.job import Job, JobStatus

from archive import ingest
from archive.crawl_memory import crawl_memory
from archive.follow import Follower
from archive.follow import parse_workers as default_parse_workers
from archive.progress import Progress
from archive.schema import open_archive
from archive.stream import RecordWriter

from .config import Config
from .runner import StopRequest, add_figures, close_run, shards
from .workers import CRAWL_QUEUE

JOB_TIMEOUT = 24 * 3600  # a province's crawl fits; a hung job is ended (and retried) after this
RETRIES = 3  # a job lost with its worker (or failing) is run again this many times
ENDED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def enqueue_crawl(
    queue_url: str,
    config: Config,
    config_path: Path,
    data_dir: Path,
    blobs: Path,
    run_id: int,
    groups: list[list[str]],
    log_level: str,
) -> list[Job]:
    """One job per group; each carries the config's text and what the archive knows of its
    portals' lists, so a worker needs no files of ours."""
    queue = Queue(CRAWL_QUEUE, connection=Redis.from_url(queue_url))
    text = config_path.read_text(encoding="utf-8")
    jobs = []
    for group in groups:
        payload = {
            "config": text,
            "archive": crawl_memory(data_dir / "archive.db", group),
            "run_id": run_id,
            "portals": group,
            "blobs": str(blobs),
            "queue": queue_url,  # a worker's own NIANBAO_QUEUE comes first (its address of the same server)
            "log_level": log_level,
            "settings": {"CONCURRENT_REQUESTS": -(-config.crawl.concurrency // len(groups))},
        }
        jobs.append(
            queue.enqueue(
                "crawler.jobs.crawl_job",
                payload,
                job_timeout=JOB_TIMEOUT,
                retry=Retry(max=RETRIES),
                result_ttl=7 * 86400,
                failure_ttl=30 * 86400,
                description=f"批次 {run_id}：{len(group)} 个门户（{group[0]} …）",
            )
        )
    return jobs


def crawl_on_queue(
    config: Config,
    config_path: Path,
    data_dir: Path,
    queue_url: str,
    ids: list[str],
    log_level: str,
    progress: bool,
    stop: StopRequest,
    jobs: int | None = None,
    parse_workers: int | None = None,
) -> dict:
    """Enqueue the crawl, write its records as they come, wait for every job; the crawl's stats.
    Asked to stop (SIGTERM), it cancels the jobs not started yet and waits for the others."""
    redis = Redis.from_url(queue_url)
    workers = len(Worker.all(queue=Queue(CRAWL_QUEUE, connection=redis)))
    groups = shards(config, ids, jobs or max(1, workers))
    db = open_archive(data_dir / "archive.db")
    run_id = ingest.begin_crawl(db, config, ids)
    blobs = (data_dir / "blobs").resolve()
    enqueued = enqueue_crawl(queue_url, config, config_path, data_dir, blobs, run_id, groups, log_level)
    writer = RecordWriter(redis, db)
    written: dict[str, int] = {}
    bar = Progress("抓取（队列）", unit=" 个任务") if progress else None
    workers = parse_workers or config.parse_workers or default_parse_workers()
    with Follower(data_dir / "archive.db", blobs, workers, config.parse, run_id, progress, queue_url) as follower:
        cancelled = False
        while True:
            if stop.requested and not cancelled:
                for job in enqueued:
                    if job.get_status(refresh=True) in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
                        job.cancel()
                cancelled = True
            counts = writer.step(block_ms=500)
            for kind, n in counts.items():
                written[kind] = written.get(kind, 0) + n
            statuses = [j.get_status(refresh=True) for j in enqueued]
            ended = sum(s in ENDED for s in statuses)
            if bar is not None:
                bar.update(ended, len(enqueued), f"抓取记录 {written.get('capture', 0)}，年报 {written.get('sighting', 0)}")
            if ended == len(enqueued) and not counts:
                while writer.step(block_ms=None):  # what the last jobs published before they ended
                    pass
                break
        if bar is not None:
            bar.close(f"{len(enqueued)} 个任务，抓取记录 {written.get('capture', 0)}，年报 {written.get('sighting', 0)}")
        stats = _job_stats(enqueued)
        add_figures(stats, follower.finish())
    failed = [j for j in enqueued if j.get_status(refresh=True) != JobStatus.FINISHED]
    stats["nianbao/queue/jobs"] = len(enqueued)
    stats["nianbao/queue/jobs_failed"] = len(failed)
    what = f"queued crawl jobs (each tried {RETRIES + 1} times; `rq info` shows their errors)"
    close_run(db, run_id, stats, [j.args[0]["portals"] for j in failed], len(enqueued), what)
    return stats


def _job_stats(jobs: list[Job]) -> dict:
    """The jobs' Scrapy stats summed, and the requests each worker made."""
    stats: dict = {}
    for job in jobs:
        result = job.return_value() or {}
        worker = result.pop("worker", "?")
        for key, value in result.items():
            stats[key] = stats.get(key, 0) + value
        key = f"nianbao/queue/requests/{worker}"
        stats[key] = stats.get(key, 0) + result.get("downloader/request_count", 0)
    return stats
