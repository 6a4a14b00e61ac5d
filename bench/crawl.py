"""Crawl ≥ 200 mock portals on loopback and compare the user's wall time with the politeness bound.

    python bench/crawl.py [--portals 200] [--delay 1.0] [--concurrency 256] [--queue 1,2,3]

Each portal is its own host (127.42.x.y), so per-host delay and concurrency are
real. The crawler asks a host again only the delay after its previous answer
arrived, so the lower bound a polite crawl cannot beat is the larger of
  * over the hosts, the longest of (requests − 1) × delay + the time the host took
    to answer them (the mock's log: from receiving a request to finishing its answer), and
  * total requests ÷ global concurrency × delay.
The time measured is the user's: from the command's start until every report
found is parsed and stored (crawl + archive; reports are parsed while the crawl
goes on). Target: ≤ 1.3 × bound; an unchanged second run ≤ 10 % of the first
run's requests. With ``--queue`` the same crawl also runs on a real redis-server
with 1, 2, 3 … ``nianbao worker`` processes (`nianbao crawl --queue`), side by
side (``--parsers P`` adds parse workers), for ratios measured under the same load: per run the time against the
bound, the requests each worker made and the peak memory (largest process, and
all of the crawl's processes together at their peak).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.mock.server import MockServer
from crawler.mock.world import config_yaml
from crawler.redis_server import RedisServer

RUN = (
    "import json, sys; from crawler.runner import crawl; "
    "stats, _ = crawl(sys.argv[1], sys.argv[2], log_level='ERROR', queue=sys.argv[3] or None); "
    "print(json.dumps({k: v for k, v in stats.items() if isinstance(v, (int, float))}))"
)


TICK = os.sysconf("SC_CLK_TCK")
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def _processes() -> dict[int, tuple[int, float, float, str]]:
    """Every process: pid → (parent, CPU seconds, resident MB, command line)."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        ppid, cpu, rss = int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, int(fields[21]) * PAGE_MB
        out[int(entry.name)] = (ppid, cpu, rss, cmdline)
    return out


def _role(cmdline: str, parent: str, root: bool) -> str:
    """What a process of the crawl does, from its command line (and its parent's)."""
    if "forkserver" in cmdline:
        return "parse processes" if "forkserver" in parent else "fork servers"
    if "spawn_main" in cmdline:
        return "follower (parse queue, store)"
    if "crawler.runner" in cmdline:
        return "crawl processes"
    if "scheduler worker" in cmdline:
        if "scheduler worker" in parent:  # RQ's work horse: the job itself
            return "parse jobs (queue)" if "--parse" in cmdline else "crawl jobs (queue)"
        return "queue workers (idle)"
    return "crawl's main process (crawl, or shards' parent / queue writer)" if root else "other"


class Usage:
    """Samples a set of process trees (every 0.2 s) while it runs: peak resident memory, and
    CPU time by role (each process's last reading: parse workers, forked servers and all)."""

    def __init__(self, roots: list[int]):
        self.roots = roots
        self.largest = 0.0  # MB, one process
        self.total = 0.0  # MB, all at once
        self.cpu: dict[int, float] = {}  # pid → CPU seconds
        self.roles: dict[int, str] = {}  # pid → what it does
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        procs = _processes()
        children: dict[int, list[int]] = {}
        for pid, (ppid, *_) in procs.items():
            children.setdefault(ppid, []).append(pid)
        seen, stack = set(), [r for r in self.roots if r in procs]
        while stack:
            pid = stack.pop()
            if pid not in seen:
                seen.add(pid)
                stack += children.get(pid, [])
        if seen:
            self.largest = max(self.largest, max(procs[p][2] for p in seen))
            self.total = max(self.total, sum(procs[p][2] for p in seen))
            for p in seen:
                ppid, cpu, _, cmdline = procs[p]
                self.cpu[p] = cpu
                if p not in self.roles:
                    parent = procs[ppid][3] if ppid in procs else ""
                    self.roles[p] = _role(cmdline, parent, p in self.roots)

    def by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, cpu in self.cpu.items():
            out[self.roles[pid]] = out.get(self.roles[pid], 0.0) + cpu
        return out

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> Usage:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _stolen() -> float:
    """CPU seconds the virtual machine's host has taken from this machine's cores since boot
    (/proc/stat's "steal"; 0 where it is not counted)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / TICK if len(fields) > 8 else 0.0
    except OSError:
        return 0.0


def run_crawl(config: Path, data: Path, queue: str = "", workers: list[int] = ()) -> tuple[dict, float, Usage]:
    started = time.monotonic()
    stats_started, stolen = time.time(), _stolen()
    child = subprocess.Popen([sys.executable, "-c", RUN, str(config), str(data), queue], stdout=subprocess.PIPE, text=True)
    with Usage([child.pid, *workers]) as memory:
        out, _ = child.communicate()
    if child.returncode:
        raise SystemExit(f"the crawl failed (exit status {child.returncode})")
    stats = json.loads(out.strip().splitlines()[-1])
    stats["bench/started"] = stats_started
    stats["bench/stolen"] = _stolen() - stolen
    return stats, time.monotonic() - started, memory


def start_workers(url: str, n: int, logs: Path, parsers: int = 0) -> list[subprocess.Popen]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    procs = []
    for i in range(n + parsers):
        name = f"bench-{n}-{i}" if i < n else f"bench-{n}-parse-{i - n}"
        log = open(logs / f"{name}.log", "w")
        cmd = [sys.executable, "-m", "scheduler", "worker", "--queue", url, "--name", name] + (["--parse"] if i >= n else [])
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=log, env=env))
    time.sleep(3)  # registered before the crawl counts them
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()


def politeness_bound(log: list[tuple], delay: float, concurrency: int) -> float:
    """The shortest crawl that waits the delay after each answer (see the module's docstring)."""
    per_host: dict[str, float] = {}
    for r in log:
        ip, received, answered = r[0], r[4], r[8]
        answering = max(0.0, answered - received) if answered is not None else 0.0
        per_host[ip] = per_host.get(ip, -delay) + delay + answering
    return max(max(per_host.values()), len(log) / concurrency * delay)


def crawl_requests(log: list[tuple]) -> list[tuple]:
    """The crawl's requests in the mock server's log, without this script's own questions to it."""
    return [r for r in log if not r[2].startswith("/__mock__/")]


def describe(label: str, log: list[tuple], stats: dict, elapsed: float, memory: Usage, args, expected: int) -> None:
    log = crawl_requests(log)
    per_host = Counter(r[0] for r in log)
    total = len(log)
    bound = politeness_bound(log, args.delay, args.concurrency)
    span = max(r[4] for r in log) - min(r[4] for r in log)
    after = stats.get("nianbao/archive/after_crawl_seconds", 0)
    print(f"\n== {label}")
    stored = stats.get("nianbao/archive/reports_stored", 0)
    print(f"reports found / expected  {stats.get('nianbao/reports', 0)} / {expected}; stored {stored}")
    print(f"requests (server count)   {total}; busiest host {max(per_host.values())}; politeness bound {bound:.1f} s")
    print(f"end to end (crawl+archive) {elapsed:.1f} s = {elapsed / bound:.2f} × bound   ← the user's wall time")
    first = min(r[4] for r in log) - stats["bench/started"]
    print(
        f"first to last request     {span:.1f} s = {span / bound:.2f} × bound; "
        f"before the first: {first:.1f} s; archive after the crawl: {after:.1f} s"
    )
    workers = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("nianbao/queue/requests/")}
    if workers:
        print("requests per worker       " + ", ".join(f"{w} {n}" for w, n in sorted(workers.items())))
    used = sum(memory.cpu.values())
    print(
        f"CPU                       {used:.1f} s in the crawl's processes (crawl, parse, workers; the mock portals apart); "
        f"{os.cpu_count()} cores × 1.3 × bound = {os.cpu_count() * 1.3 * bound:.0f} s"
    )
    for role, seconds in sorted(memory.by_role().items(), key=lambda x: -x[1]):
        print(f"  {seconds:6.1f} s  {role}")
    print(f"CPU taken by the host     {stats['bench/stolen']:.1f} s of the cores' time during the run (steal: a shared machine)")
    if stats.get("nianbao/archive/parsed_remotely"):
        print(f"parsed by parse workers   {stats['nianbao/archive/parsed_remotely']} reports")
    print(f"peak memory               largest process {memory.largest:.0f} MB; all processes together {memory.total:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--portals", type=int, default=200)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--queue", default="", help="also crawl on a queue with these worker counts, e.g. 1,2,3")
    parser.add_argument("--parsers", type=int, default=0, help="with --queue: parse workers beside the crawl workers")
    parser.add_argument("--no-second", action="store_true", help="skip the unchanged second run")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, MockServer(f"bench:{args.portals}", prebuilt=True) as mock:
        tmp = Path(tmp)
        config = tmp / "config.yaml"
        config.write_text(config_yaml(mock.world, delay=args.delay, concurrency=args.concurrency), encoding="utf-8")
        expected = sum(len(p.expected_reports()) for p in mock.world.portals)
        print(f"portals (hosts) {args.portals}; delay {args.delay:g} s; global concurrency {args.concurrency}; ", end="")
        print(f"{os.cpu_count()} cores, load average {load[0]:.1f} at the start (a shared machine)")
        stats, elapsed, memory = run_crawl(config, tmp / "data")
        log = mock.stats()
        label = f"one machine ({stats.get('nianbao/crawl_processes', 1)} crawl process(es))"
        describe(label, log, stats, elapsed, memory, args, expected)
        if not args.no_second:
            _, elapsed2, _ = run_crawl(config, tmp / "data")
            second, first = len(crawl_requests(mock.stats()[len(log) :])), len(crawl_requests(log))
            print(f"second run (unchanged)    {second} requests = {second / first:.1%} of the first, {elapsed2:.1f} s")
        for n in [int(x) for x in args.queue.split(",") if x]:
            with RedisServer(tmp / f"redis-{n}") as redis:
                before = len(mock.stats())
                workers = start_workers(redis.url, n, tmp, args.parsers)
                try:
                    stats, elapsed, memory = run_crawl(config, tmp / f"data-queue-{n}", redis.url, [w.pid for w in workers])
                finally:
                    stop_workers(workers)
                describe(
                    f"--queue, {n} worker(s)" + (f" and {args.parsers} parse worker(s)" if args.parsers else ""),
                    mock.stats()[before:],
                    stats,
                    elapsed,
                    memory,
                    args,
                    expected,
                )
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
