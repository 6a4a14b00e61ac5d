"""Crawls on the queue: a real redis-server, real `nianbao worker` processes and the
`nianbao crawl --queue` writer, against the mock portals (real HTTP on loopback).

Workers are killed with SIGKILL in the middle of their jobs, the writer between its
commit and its acknowledgement; every report must still be archived exactly once,
no capture twice, and no host asked twice within the configured delay by anyone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from archive_helpers import assert_archived_once, count_in_archive
from politeness import assert_polite
from redis import Redis
from rq import Queue, Worker

from archive.schema import open_archive
from crawler.mock.server import MockServer
from crawler.mock.world import config_yaml
from crawler.redis_server import RedisServer
from crawler.workers import CRAWL_QUEUE

if not (shutil.which("redis-server") or os.path.exists("/usr/bin/redis-server") or os.environ.get("NIANBAO_REQUIRE_REDIS")):
    pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it)", allow_module_level=True)

DELAY = 0.5
TIMEOUT = 420  # generous: the machine is shared


@pytest.fixture
def world(tmp_path):
    with MockServer("test") as mock, RedisServer(tmp_path / "redis") as redis:
        config = tmp_path / "config.yaml"
        config.write_text(config_yaml(mock.world, delay=DELAY), encoding="utf-8")
        workers = Workers(redis.url, tmp_path / "logs")
        try:
            yield mock, redis, config, workers
        finally:
            workers.stop()


class Workers:
    """`nianbao worker` processes, by name."""

    def __init__(self, url: str, logs: Path):
        self.url = url
        self.logs = logs
        logs.mkdir(exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *options: str) -> None:
        log = open(self.logs / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "scheduler", "worker", "--queue", self.url, "--name", name, *options], stdout=log, stderr=log
        )

    def registered(self) -> int:
        return len(Worker.all(queue=Queue(CRAWL_QUEUE, connection=Redis.from_url(self.url))))

    def busy(self) -> list[str]:
        workers = Worker.all(queue=Queue(CRAWL_QUEUE, connection=Redis.from_url(self.url)))
        return [w.name for w in workers if w.get_state() == "busy" and self.procs[w.name].poll() is None]

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()


NIANBAO = (sys.executable, "-m", "scheduler")


def _crawl(config: Path, data: Path, url: str, *options: str, command=NIANBAO, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [*command, "crawl", "--config", str(config), "--data", str(data), "--queue", url, "--log-level", "ERROR", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _wait_for(what, timeout: float = TIMEOUT, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while not (result := what()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(poll)
    return result


def test_workers_killed_mid_job_lose_nothing_and_stay_polite(world, tmp_path):
    mock, redis, config, workers = world
    data = tmp_path / "data"
    for name in ("w1", "w2", "w3"):
        workers.start(name)
    workers.start("parser", "--parse")  # reports parsed by a parse worker, stored by the writer
    _wait_for(lambda: workers.registered() == 3, 60)
    crawl = _crawl(config, data, redis.url, "--workers", "3")
    # several moments: early (lists being walked), then with reports arriving
    for n, (sql, at_least) in enumerate(
        [
            ("select count(*) from captures", 5),
            ("select count(*) from sightings", 8),
        ]
    ):
        _wait_for(lambda sql=sql, at_least=at_least: count_in_archive(data, sql) >= at_least or crawl.poll() is not None)
        assert crawl.poll() is None, "the crawl ended before a worker could be killed"
        victim = _wait_for(lambda: workers.busy())[0]
        workers.kill(victim)
        workers.start(f"spare{n}")
    out, err = crawl.communicate(timeout=TIMEOUT)
    assert crawl.returncode == 0, err[-3000:]
    assert_archived_once(data / "archive.db", mock.world)
    assert_polite(mock.stats(), DELAY)
    db = open_archive(data / "archive.db")
    run = db.execute("select finished_at, stats from crawl_runs").fetchone()
    stats = json.loads(run[1])
    assert run[0] is not None and stats["nianbao/queue/jobs"] == 3
    assert stats["nianbao/archive/parsed_remotely"] > 0
    db.close()
    assert not list(tmp_path.rglob("state.sqlite"))  # the crawl state lives in Redis, with the jobs

    # the next crawl is incremental wherever its jobs land: the state travelled
    first = len(mock.stats())
    again = _crawl(config, data, redis.url)
    _, err = again.communicate(timeout=TIMEOUT)
    assert again.returncode == 0, err[-3000:]
    assert len(mock.stats()) - first < first * 0.25
    assert_archived_once(data / "archive.db", mock.world)


def test_a_job_delivered_twice_runs_once_at_a_time(world, tmp_path):
    """The same portals enqueued twice at once (as a retried job beside its first run would
    be): the host leases make the second wait, so each host sees one crawler at a time."""
    from archive import ingest
    from crawler.config import load_config
    from crawler.queue import enqueue_crawl
    from crawler.runner import shards

    mock, redis, config, workers = world
    data = tmp_path / "data"
    cfg = load_config(config)
    portals = ["auto-7", "robots-8"]  # two hosts, little to fetch: the second job waits for both
    db = open_archive(data / "archive.db")
    run_id = ingest.begin_crawl(db, cfg, portals)
    db.close()
    groups = shards(cfg, portals, 1)
    workers.start("w1")
    workers.start("w2")
    _wait_for(lambda: workers.registered() == 2, 60)  # both idle: each takes one of the jobs at once
    jobs = [enqueue_crawl(redis.url, cfg, config, data, data / "blobs", run_id, groups, "ERROR")[0] for _ in range(2)]
    _wait_for(lambda: all(j.get_status(refresh=True) in ("finished", "failed") for j in jobs), TIMEOUT, 0.5)
    assert [j.get_status() for j in jobs] == ["finished", "finished"]
    waits = sorted(j.return_value()["nianbao/queue/lease_wait_seconds"] for j in jobs)
    assert waits[0] < 5 and waits[1] > 2  # both started at once; the second waited for the first's leases
    assert_polite(mock.stats(), DELAY)


def test_writer_killed_between_commit_and_acknowledgement_makes_no_duplicate(world, tmp_path):
    mock, redis, config, workers = world
    data = tmp_path / "data"
    portals = ["auto-7", "comment-11", "script_json-12", "search_api-13", "sibling_dates-15", "jspager-18"]
    only = [option for p in portals for option in ("--portal", p)]
    workers.start("w1")
    workers.start("w2")
    _wait_for(lambda: workers.registered() == 2, 60)
    # the writer dies right after its first commit, before acknowledging what it wrote
    crash = (
        "import os, signal, archive.stream as s; "
        "s.RecordWriter.ack = lambda self, messages: os.kill(os.getpid(), signal.SIGKILL); "
        "from scheduler import cli; cli()"
    )
    killed = _crawl(config, data, redis.url, *only, command=(sys.executable, "-c", crash))
    killed.communicate(timeout=TIMEOUT)
    assert killed.returncode == -signal.SIGKILL
    committed = count_in_archive(data, "select count(*) from captures")
    assert committed > 0
    pending = Redis.from_url(redis.url).xpending("nianbao:records", "archive")["pending"]
    assert pending > 0  # committed, never acknowledged: delivered again to the next writer
    again = _crawl(config, data, redis.url, *only)
    _, err = again.communicate(timeout=TIMEOUT)
    assert again.returncode == 0, err[-3000:]
    # the first crawl's jobs went on without their writer; the second writer took their records
    _wait_for(lambda: Redis.from_url(redis.url).xlen("nianbao:records") == 0 or None, 60)
    assert_archived_once(data / "archive.db", mock.world, portals)
    assert_polite(mock.stats(), DELAY)


def test_hosts_slow_to_connect_get_the_whole_delay_from_two_workers(tmp_path):
    """As tests/test_crawl.py's host slow to connect, crawled by two workers: each job opens its
    own connections, so each host's first request of a job reaches it late."""
    from test_crawl import SLOW_TO_CONNECT

    portals = [*SLOW_TO_CONNECT, "sibling_dates-15"]
    only = [option for p in portals for option in ("--portal", p)]
    delay = 0.3  # the connection's wait (0.2 s) is shorter: a late first request shortens the gap after it
    with MockServer("test", handshake=0.2) as mock, RedisServer(tmp_path / "redis") as redis:
        config = tmp_path / "config.yaml"
        config.write_text(config_yaml(mock.world, delay=delay), encoding="utf-8")
        workers = Workers(redis.url, tmp_path / "logs")
        try:
            workers.start("w1")
            workers.start("w2")
            _wait_for(lambda: workers.registered() == 2, 60)
            crawl = _crawl(config, tmp_path / "data", redis.url, "--workers", "2", *only)
            _, err = crawl.communicate(timeout=TIMEOUT)
            assert crawl.returncode == 0, err[-3000:]
        finally:
            workers.stop()
        log = mock.stats()
    assert {r[0] for r in log} == {mock.world.portal(p).ip for p in portals}
    assert_archived_once(tmp_path / "data" / "archive.db", mock.world, portals)
    assert_polite(log, delay)


def test_schedule_enqueues_the_sweeps_for_the_workers(world, tmp_path):
    from test_schedule import Scheduler, _config

    mock, redis, _, workers = world
    config = _config(tmp_path, mock, '  misfire_grace_days: 0\n  jobs:\n    - {id: tick, cron: "*/2 * * * * *"}\n')
    workers.start("w1")
    scheduler = Scheduler(config, tmp_path / "data", "--queue", redis.url)
    scheduler.wait_for("开始运行：nianbao run .*（队列 redis://127.0.0.1", timeout=60)
    scheduler.wait_for("运行结束", timeout=TIMEOUT)
    assert scheduler.stop() == 0
    db = open_archive(tmp_path / "data" / "archive.db")
    run = db.execute("select stats, reports from crawl_runs where finished_at is not null order by id").fetchone()
    assert '"nianbao/queue/jobs": 1' in run[0] and run[1] > 0  # crawled by the worker, archived here
    db.close()


def test_a_queue_password_is_never_shown():
    from scheduler import shown_queue

    assert shown_queue("redis://:s3cret@10.0.0.5:6379/0") == "redis://:***@10.0.0.5:6379/0"
    assert shown_queue("redis://nb:s3cret@queue.example/1") == "redis://nb:***@queue.example/1"
    assert shown_queue("redis://10.0.0.5:6379/0") == "redis://10.0.0.5:6379/0"
