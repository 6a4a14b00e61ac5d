"""Soak: a crawl of many mock portals of which a fifth misbehave (portal down,
busy then recovering, hanging / reset / truncated pages, a gzip bomb, a 50 MB
attachment, charset lies, endless calendar pagination, one page under many
URLs, links off-site and to internal addresses, poison documents).

    python bench/soak.py [--portals 100] [--delay 0.2]

Prints reports expected vs archived for the healthy portals (must be equal) and
for the faulty ones, failures by class, and the memory of the crawl processes
sampled over the run (must stay flat: the last quarter's peak against the
second quarter's), and apart the parse workers' peak against their budget.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.schema import open_archive
from crawler.config import load_config
from crawler.mock.server import MockServer
from crawler.mock.world import config_yaml

RUN = "import sys; from crawler.runner import crawl; crawl(sys.argv[1], sys.argv[2], log_level='ERROR')"


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a process and its descendants (Linux /proc): the crawl's own, and
    its parse workers' (the multiprocessing fork server and its children), apart: a parse
    worker may legitimately grow to its budget on a hostile document."""
    totals = {False: 0, True: 0}
    todo = [(pid, False)]
    while todo:
        p, parsing = todo.pop()
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                parsing = parsing or b"multiprocessing.forkserver" in f.read()
            with open(f"/proc/{p}/status") as f:
                totals[parsing] += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [(int(c), parsing) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return totals[False] / 1024, totals[True] / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--portals", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, MockServer(f"soak:{args.portals}") as mock:
        tmp = Path(tmp)
        config = tmp / "config.yaml"
        config.write_text(config_yaml(mock.world, delay=args.delay, timeout=5, retries=2), encoding="utf-8")
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-c", RUN, str(config), str(tmp / "data")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        samples: list[tuple[float, float]] = []
        parse_peak = 0.0
        while child.poll() is None:
            crawl_mb, parse_mb = tree_rss_mb(child.pid)
            samples.append((time.monotonic() - started, crawl_mb))
            parse_peak = max(parse_peak, parse_mb)
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        if child.returncode:
            sys.exit(f"crawl failed:\n{child.stderr.read()[-3000:]}")
        db = open_archive(tmp / "data" / "archive.db")
        healthy_expected = healthy_found = faulty_expected = faulty_found = 0
        mismatched = []
        for portal in mock.world.portals:
            expected = {(e["agency_id"], e["year"]) for e in portal.expected_reports()}
            found = {
                (a, y)
                for a, y in db.execute(
                    "select distinct r.agency_id, r.year from reports r join sightings s "
                    "on s.report_id = r.id where s.portal = ?",
                    [portal.id],
                )
            }
            if portal.fault is None:
                healthy_expected += len(expected)
                healthy_found += len(expected & found)
            else:
                faulty_expected += len(expected)
                faulty_found += len(expected & found)
            if found != expected:
                mismatched.append(portal.id)
        faults = Counter(p.fault for p in mock.world.portals if p.fault)
        classes = Counter(k for (k,) in db.execute("select kind from problems"))
        print(
            f"portals                   {args.portals} ({sum(faults.values())} faulty: "
            + ", ".join(f"{k} {v}" for k, v in sorted(faults.items()))
            + ")"
        )
        print(f"crawl + archive           {elapsed:.1f} s, {len(mock.stats())} requests served")
        print(
            f"healthy portals           {healthy_found} / {healthy_expected} reports archived"
            + ("" if healthy_found == healthy_expected else "  ← MISSING")
        )
        print(
            f"faulty portals            {faulty_found} / {faulty_expected} readable reports archived "
            "(unreadable pages and dead portals excluded)"
        )
        print("failures by class         " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
        if mismatched:
            print(f"portals not matching      {', '.join(mismatched)}")
        quarter = max(1, len(samples) // 4)
        peaks = [max((m for _, m in samples[i * quarter : (i + 1) * quarter]), default=0) for i in range(4)]
        flat = peaks[3] <= 1.2 * max(peaks[1], 1)
        print(
            "memory (crawl processes) "
            + "  ".join(f"Q{i + 1} {p:.0f} MB" for i, p in enumerate(peaks))
            + f"  peak {max(m for _, m in samples):.0f} MB  → {'flat' if flat else 'GROWING'}"
        )
        stats = json.loads(db.execute("select stats from crawl_runs order by id desc limit 1").fetchone()[0])
        print(
            f"memory (parse workers)    peak {parse_peak:.0f} MB (budget {load_config(config).parse.memory_mb} MB a worker; "
            f"documents ended by the budget: {stats.get('nianbao/archive/over_budget', 0)})"
        )
        print(f"integrity                 {db.execute('pragma integrity_check').fetchone()[0]}")
        sys.exit(0 if healthy_found == healthy_expected and flat else 1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
