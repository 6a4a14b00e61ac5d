"""Crawl ≥ 200 mock portals on loopback and compare the time with the politeness bound.

    python bench/crawl.py [--portals 200] [--delay 1.0] [--concurrency 256]

Each portal is its own host (127.42.x.y), so per-host delay and concurrency are
real. The lower bound a polite crawl cannot beat is the larger of
  * the busiest host's request count × delay (one request at a time per host), and
  * total requests ÷ global concurrency × delay.
Targets: total time ≤ 1.2 × bound; an unchanged second run ≤ 10 % of the first
run's requests. Prints pages/s, peak memory of the crawl process and both runs.
The reports found are parsed and archived when the crawl ends; that time is
printed on its own line and not counted against the politeness bound. One
crawl process is CPU-bound near 160 pages/s; with 200 portals the crawl is
sharded over one process per core (``crawler.runner.shards``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.mock.server import MockServer
from crawler.mock.world import config_yaml

RUN = (
    "import json, sys; from crawler.runner import crawl; "
    "stats, _ = crawl(sys.argv[1], sys.argv[2], log_level='ERROR'); "
    "print(json.dumps({k: v for k, v in stats.items() if isinstance(v, (int, float))}))"
)


def run_crawl(config: Path, data: Path) -> tuple[dict, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", RUN, str(config), str(data)], capture_output=True, text=True, check=True)
    elapsed = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(out.stdout.strip().splitlines()[-1]), elapsed, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--portals", type=int, default=200)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, MockServer(f"bench:{args.portals}") as mock:
        tmp = Path(tmp)
        config = tmp / "config.yaml"
        config.write_text(config_yaml(mock.world, delay=args.delay, concurrency=args.concurrency), encoding="utf-8")
        stats, elapsed, peak_mb = run_crawl(config, tmp / "data")
        log = mock.stats()
        per_host = Counter(r[0] for r in log)
        total = len(log)
        bound = max(max(per_host.values()) * args.delay, total / args.concurrency * args.delay)
        reports = stats.get("nianbao/reports", 0)
        expected = sum(len(p.expected_reports()) for p in mock.world.portals)
        print(f"portals (hosts)           {args.portals}  delay {args.delay:g} s  global concurrency {args.concurrency}")
        print(f"reports found / expected  {reports} / {expected}")
        print(f"requests (server count)   {total}  (Scrapy: {stats.get('downloader/request_count')})")
        print(
            f"busiest host              {max(per_host.values())} requests; median {sorted(per_host.values())[len(per_host) // 2]}"
        )
        print(f"politeness bound          {bound:.1f} s")
        span = max(r[4] for r in log) - min(r[4] for r in log)
        ingest_s = stats.get("nianbao/archive/ingest_seconds", 0)
        crawl_s = elapsed - ingest_s
        print(f"crawl time                {crawl_s:.1f} s  = {crawl_s / bound:.2f} × bound (process start included)")
        print(f"first to last request     {span:.1f} s  = {span / bound:.2f} × bound")
        print(f"throughput                {total / crawl_s:.0f} pages/s")
        print(
            f"then parse + archive      {ingest_s:.1f} s for {stats.get('nianbao/archive/reports_stored', 0)} reports "
            f"({stats.get('nianbao/archive/reports_stored', 0) / max(ingest_s, 1e-9):.0f}/s) after the crawl"
        )
        processes = stats.get("nianbao/crawl_processes", 1)
        print(f"crawl processes           {processes} (portals sharded by host; crawl.workers / --workers)")
        print(f"peak memory               {peak_mb:.0f} MB (the largest process; ×{processes} crawl processes)")
        stats2, elapsed2, _ = run_crawl(config, tmp / "data")
        second = len(mock.stats()) - total
        print(f"second run (unchanged)    {second} requests = {second / total:.1%} of the first, {elapsed2:.1f} s")


if __name__ == "__main__":
    main()
