"""A full disk, for real: the data directory is a small tmpfs, filled up before a run.
The run fails loudly (exit status 1, how many reports and why), calls nobody 缺报 whose
report was crawled but not stored, holds its alerts, and once space returns the next
run stores everything (counting what it recovered). The same at the SQLite boundary
alone: a database that may not grow (``max_page_count``) is SQLite's own "disk full"."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from archive_helpers import Feeder, html

from archive import ingest
from archive.compliance import check_year
from archive.deadlines import Deadlines
from archive.schema import open_archive
from crawler.mock.world import World, config_yaml

SEED_001 = (Path(__file__).parent / "fixtures" / "seeds" / "001_924043a2ff6d2acf.txt").read_text(encoding="utf-8")
PORTALS = ("trs-0", "gdpost-1", "gkmlpt-2")


@pytest.fixture
def small_disk(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(data)], capture_output=True, text=True)
    if mounted.returncode:
        if os.environ.get("NIANBAO_REQUIRE_MOUNT"):
            pytest.fail(f"cannot mount a tmpfs: {mounted.stderr}")
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    yield data
    for _ in range(50):  # the run's parse workers may take a moment to let go
        if subprocess.run(["umount", str(data)], capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
    subprocess.run(["umount", "--lazy", str(data)], check=True)


def _run(config: Path, data: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "run", "--config", str(config), "--data", str(data), "--today", "2025-05-01"],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _fill(data: Path, leave_kb: int) -> Path:
    filler = data / "filler"
    stat = os.statvfs(data)
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave_kb * 1024))
    return filler


def test_a_full_disk_fails_loudly_calls_nobody_missing_and_loses_nothing(tmp_path, mock, small_disk, hook):
    base, received = hook
    portals = [mock.world.portal(p) for p in PORTALS]
    config = tmp_path / "config.yaml"
    config.write_text(
        config_yaml(World(mock.world.port, portals))
        + f'alerts:\n  log: false\n  webhooks:\n    - {{name: ops, kind: generic, url: "{base}/hook"}}\n',
        encoding="utf-8",
    )
    published = {i.agency.id for p in portals for i in p.items if i.report and i.year == 2024}
    truly_missing = {a.id for p in portals for a in p.agencies} - published
    expected = {(e["agency_id"], e["year"]) for p in portals for e in p.expected_reports()}

    filler = _fill(small_disk, leave_kb=2500)
    full = _run(config, small_disk)
    assert full.returncode == 1, full.stdout[-2000:] + full.stderr[-2000:]
    assert "份年报未能入库" in full.stderr and "磁盘空间不足" in full.stderr
    assert "提醒暂缓" in full.stderr and received == []  # alerts held
    assert "Traceback" not in full.stderr
    db = open_archive(small_disk / "archive.db", migrate=False)
    missing = {k for (k,) in db.execute("select agency_key from compliance where kind = 'missing' and resolved_at is null")}
    assert missing <= truly_missing  # nobody whose report was crawled is 缺报
    pending = db.execute("select count(*) from sightings where ingested_at is null").fetchone()[0]
    db.close()

    filler.unlink()  # space returns
    after = _run(config, small_disk)
    assert after.returncode == 0, after.stderr[-3000:]
    db = open_archive(small_disk / "archive.db")
    stored = {(a, y) for a, y in db.execute("select agency_id, year from reports where is_current = 1 and agency_id is not null")}
    assert stored == expected  # nothing lost
    assert db.execute("select count(*) from sightings where ingested_at is null").fetchone()[0] == 0
    open_findings = {(k, a) for k, a in db.execute("select kind, agency_key from compliance where resolved_at is null")}
    assert {a for k, a in open_findings if k == "missing"} == truly_missing
    assert not any(k == "unstored" for k, _ in open_findings)
    runs = list(db.query("select id, status, recovered from crawl_runs order by id"))
    assert runs[0]["status"] in ("incomplete", "interrupted") and runs[-1]["status"] == "finished"
    assert runs[-1]["recovered"] == pending  # what the failed run found, stored by this one
    assert received and len({m[1]["subject"] for m in received}) == 1  # the held digest goes out, complete
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    db.close()


def test_sqlite_full_leaves_reports_pending_and_found(tmp_path):
    feeder = Feeder(tmp_path)
    feeder.capture("http://a/1.html", html(SEED_001), "html")
    feeder.sight("http://a/1.html", year=2024)
    feeder.capture("http://a/2.html", html(SEED_001.replace("2", "3", 1)), "html")
    feeder.sight("http://a/2.html", year=2024, agency_id="hq", agency_name="红旗区人民政府")
    pages = feeder.db.execute("pragma page_count").fetchone()[0]
    feeder.db.execute(f"pragma max_page_count = {pages}")  # SQLite's own "database or disk is full"
    result = ingest.ingest(feeder.db, feeder.blobs.root)
    assert result.reports == 0 and result.unstored == 2 and result.reasons == {"磁盘空间不足": 2}
    kinds = {f.agency_key: f.kind for f in check_year(feeder.db, 2024, Deadlines(), date(2025, 6, 1))}
    assert kinds == {"hq": "unstored", "hq-cj": "unstored"}  # found, not missing

    feeder.db.execute("pragma max_page_count = 1073741823")  # space returns
    result = ingest.ingest(feeder.db, feeder.blobs.root)
    assert result.reports == 2 and result.unstored == 0
    kinds = {f.agency_key: f.kind for f in check_year(feeder.db, 2024, Deadlines(), date(2025, 6, 1))}
    assert "missing" not in kinds.values() and "unstored" not in kinds.values()
