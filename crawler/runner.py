"""Run the crawl: in this process, sharded over several (Scrapy's reactor runs once
per process, and one process is CPU-bound near 160 pages/s), or as jobs on a
queue run by workers on any number of machines (``crawler.queue``).

Sharding keeps politeness intact: portals that share a host always go to the
same process, so per-host delay and concurrency hold; the global concurrency
is divided between the shards. The shards record into one crawl run; the
reports they find are parsed and stored while the crawl goes on, by a
follower process (``archive.follow``), so the crawl's end is nearly the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from archive import ingest
from archive.errors import NianbaoError
from archive.follow import Follower, parse_workers
from archive.progress import Progress
from archive.schema import open_archive

from .config import Config, load_config
from .state import CrawlState


def shards(config: Config, portal_ids: list[str], n: int) -> list[list[str]]:
    """Portal ids in at most ``n`` groups of similar size; portals sharing a host share a group."""
    root = {p: p for p in portal_ids}

    def find(p: str) -> str:
        while root[p] != p:
            root[p] = root[root[p]]
            p = root[p]
        return p

    first_on: dict[str, str] = {}  # host → first portal seen on it
    for portal_id in portal_ids:
        for host in config.portal(portal_id).hosts:
            if host in first_on:
                root[find(portal_id)] = find(first_on[host])
            else:
                first_on[host] = portal_id
    together: dict[str, list[str]] = {}
    for portal_id in portal_ids:
        together.setdefault(find(portal_id), []).append(portal_id)
    bins: list[list[str]] = [[] for _ in range(max(1, min(n, len(together))))]
    for group in sorted(together.values(), key=len, reverse=True):
        min(bins, key=len).extend(group)
    order = {p: i for i, p in enumerate(portal_ids)}
    return [sorted(b, key=order.__getitem__) for b in bins]


class StopRequest:
    """SIGTERM or SIGINT while no crawl has taken the signals over (Scrapy installs its own:
    a crawl in this process ends cleanly on them): remembered, so the run still closes
    cleanly, and passed on to the shard processes."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.requested = False
        self._before: dict = {}

    def _request(self, signum, frame) -> None:
        self.requested = True

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._before = {s: signal.signal(s, self._request) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._before.items():
            signal.signal(s, handler)


def auto_workers(portals: int) -> int:
    """One process per core once there are enough portals to keep each busy."""
    return max(1, min(os.cpu_count() or 1, portals // 50))


def crawl(
    config_path: str | Path,
    data_dir: str | Path,
    portals: list[str] | None = None,
    feed: str | Path | None = None,
    log_level: str = "WARNING",
    workers: int | None = None,
    queue: str | None = None,
    **overrides,
) -> tuple[dict, Path | None]:
    """Crawl the configured portals into the archive (DATA/archive.db, DATA/blobs); return
    Scrapy's stats and the JSON Lines feed written, if one was asked for (the archive
    holds the same records; a feed costs a JSON encoding of every item). With ``queue``
    (a Redis URL) the crawl runs as jobs on the queue's workers (no feed), and this
    process writes their records into the archive as they arrive. SIGTERM or SIGINT end
    the crawl cleanly, whenever they come: the run is closed with what was fetched."""
    with StopRequest() as stop:
        return _crawl(config_path, Path(data_dir), portals, feed, log_level, workers, queue, stop, overrides)


def _crawl(config_path, data_dir: Path, portals, feed, log_level, workers, queue, stop: StopRequest, overrides: dict):
    config = load_config(config_path)  # fails here, cleanly, before Scrapy starts
    ids = portals or list(config.portals)
    for portal_id in ids:
        config.portal(portal_id)
    progress = bool(overrides.pop("NIANBAO_PROGRESS", False))
    if queue:
        from .queue import crawl_on_queue

        return crawl_on_queue(config, Path(config_path), data_dir, queue, ids, log_level, progress, stop, workers), None
    groups = shards(config, ids, workers or config.crawl.workers or auto_workers(len(ids)))
    db = open_archive(data_dir / "archive.db")
    run_id = ingest.begin_crawl(db, config, ids)
    CrawlState(data_dir / "state.sqlite").close()  # created once, not raced for by the shards
    overrides["NIANBAO_RUN_ID"] = run_id
    failed: list[int] = []
    workers = int(overrides.get("NIANBAO_PARSE_WORKERS") or 0) or config.parse_workers or parse_workers()
    follower = Follower(data_dir / "archive.db", data_dir / "blobs", workers, config.parse, run_id, progress)
    with follower:
        if stop.requested:  # asked to stop before the crawl began: nothing fetched, the run closed
            stats = {}
        elif len(groups) > 1:
            stats, feed, failed = _sharded(
                data_dir, Path(config_path), groups, feed, log_level, overrides, run_id, progress, stop
            )
        else:
            stats, feed = run_scrapy(config_path, data_dir, portals, feed, log_level, {**overrides, "NIANBAO_PROGRESS": progress})
        add_figures(stats, follower.finish())
    close_run(db, run_id, stats, [groups[i] for i in failed], len(groups), "crawl processes")
    return stats, feed


def add_figures(stats: dict, figures: dict) -> None:
    """The archive's figures into the crawl's stats (reasons for unstored reports add up)."""
    for key, value in figures.items():
        stats[key] = stats.get(key, 0) + value if key.startswith("nianbao/archive/unstored_reasons/") else value


def close_run(db, run_id: int, stats: dict, failed: list[list[str]], parts: int, what: str) -> None:
    """The crawl run closed with its stats; a crawl some of whose parts failed says so, after
    archiving what they fetched."""
    try:
        ingest.finish_run(db, run_id, stats)
    except (sqlite3.Error, OSError) as e:  # left open: the next run closes it as interrupted
        stats["nianbao/archive/write_errors"] = stats.get("nianbao/archive/write_errors", 0) + 1
        key = f"nianbao/archive/unstored_reasons/{ingest.storage_reason(e)}"
        stats[key] = stats.get(key, 0) + 1
    db.close()
    if failed:
        raise NianbaoError(
            f"{len(failed)} of {parts} {what} failed (portals: {', '.join(p for group in failed for p in group)}); "
            "what was fetched is archived, but the crawl is incomplete: run it again"
        )


def run_scrapy(config_path, data_dir, portals, feed, log_level, overrides) -> tuple[dict, Path | None]:
    """One Scrapy crawl in this process (once per process: Twisted's reactor cannot restart)."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from .spiders.portal import PortalSpider

    values = {
        "NIANBAO_CONFIG": str(config_path),
        "NIANBAO_DATA_DIR": str(data_dir),
        "LOG_LEVEL": log_level,
        "LOG_INSTALL_ROOT_HANDLER": log_level != "NONE",
    }
    if feed is not None:
        feed = Path(feed)
        feed.parent.mkdir(parents=True, exist_ok=True)
        values["FEEDS"] = {str(feed): {"format": "jsonlines", "encoding": "utf8", "overwrite": True}}
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update({**values, **overrides}, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PortalSpider)
    process.crawl(crawler, portal=",".join(portals) if portals else None)
    process.start()
    return crawler.stats.get_stats(), feed


def _sharded(
    data_dir: Path,
    config_path: Path,
    groups: list[list[str]],
    feed,
    log_level: str,
    overrides: dict,
    run_id: int,
    progress: bool,
    stop: StopRequest,
) -> tuple[dict, Path | None, list[int]]:
    """One child process per group; returns the summed stats, the feed and the groups whose process failed."""
    from .progress import crawl_summary

    db = open_archive(data_dir / "archive.db")
    concurrency = -(-load_config(config_path).crawl.concurrency // len(groups))
    with tempfile.TemporaryDirectory(prefix="nianbao-shards-") as tmp:
        children = []
        for i, group in enumerate(groups):
            job = {
                "config": str(config_path),
                "data": str(data_dir),
                "portals": group,
                "log_level": log_level,
                "stats": f"{tmp}/stats-{i}.json",
                "feed": f"{tmp}/feed-{i}.jsonl" if feed else None,
                "settings": {**overrides, "CONCURRENT_REQUESTS": concurrency},
            }
            children.append(subprocess.Popen([sys.executable, "-m", "crawler.runner", json.dumps(job)]))
        bar = Progress("抓取", unit=" 个网址") if progress else None
        forwarded = False
        while any(c.poll() is None for c in children):
            if stop.requested and not forwarded:  # each shard ends its crawl cleanly, its batch written
                for c in children:
                    c.send_signal(signal.SIGTERM)
                forwarded = True
            if bar is not None:
                done = db.execute("select count(*) from captures where run_id = ?", [run_id]).fetchone()[0]
                bar.update(done, None, f"{sum(c.poll() is not None for c in children)}/{len(children)} 个抓取进程结束")
            time.sleep(0.5)
        db.close()
        failed = [i for i, c in enumerate(children) if c.returncode]
        stats: dict = {}
        for i in range(len(groups)):
            path = Path(f"{tmp}/stats-{i}.json")
            for key, value in (json.loads(path.read_text()) if path.exists() else {}).items():
                stats[key] = stats.get(key, 0) + value
        if feed is not None:
            feed = Path(feed)
            feed.parent.mkdir(parents=True, exist_ok=True)
            with open(feed, "wb") as out:
                for i in range(len(groups)):
                    part = Path(f"{tmp}/feed-{i}.jsonl")
                    if part.exists():
                        out.write(part.read_bytes())
    if bar is not None:
        bar.close(f"{crawl_summary(stats)}（{len(groups)} 个进程）")
    stats["nianbao/crawl_processes"] = len(groups)
    stats["nianbao/crawl_processes_failed"] = len(failed)
    return stats, feed, failed


def _shard_main(job: dict) -> None:
    """One shard (a child process): crawl its portals, write numeric stats for the parent."""
    stats, _ = run_scrapy(job["config"], job["data"], job["portals"], job["feed"], job["log_level"], job["settings"])
    Path(job["stats"]).write_text(
        json.dumps({k: v for k, v in stats.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="One shard of a sharded crawl (started by crawler.runner.crawl).")
    parser.add_argument("job", help="JSON: config, data, portals, log_level, stats, feed, settings")
    _shard_main(json.loads(parser.parse_args().job))
