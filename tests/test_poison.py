"""Acceptance for issue 13: a mock portal serves a poison XLSX (a cell at column
ZZZZZZZ), a glyph-bomb PDF (forms drawing forms, ten million lines of text from 4 KB)
and a decompression bomb (a megabyte inflating to 400 MB) beside good reports.
Every good report is stored in the same run, the poison ones are ``unparseable``
with their reason, no parse goes past its budget, and the next run stores new
reports normally (nothing pending, nothing retried)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from archive_helpers import Feeder, html

from archive import ingest
from archive.isolation import Budget
from archive.schema import open_archive
from crawler.mock.server import MockServer
from crawler.mock.world import POISON, config_yaml

BUDGET = {"wall_seconds": 120, "cpu_seconds": 30, "memory_mb": 1024}
SEED_001 = (Path(__file__).parent / "fixtures" / "seeds" / "001_924043a2ff6d2acf.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def poison_world():
    with MockServer("poison") as server:
        yield server


def _crawl(config: Path, data: Path, *portals: str) -> tuple[subprocess.CompletedProcess, float]:
    args = [a for p in portals for a in ("--portal", p)]
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "scheduler", "crawl", "--config", str(config), "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    return out, time.monotonic() - started


def _stats(db, run_id: int) -> dict:
    return json.loads(db.execute("select stats from crawl_runs where id = ?", [run_id]).fetchone()[0])


def test_poison_documents_cost_only_themselves(tmp_path, poison_world):
    world = poison_world.world
    config = tmp_path / "config.yaml"
    parse = "parse: {" + ", ".join(f"{k}: {v}" for k, v in BUDGET.items()) + "}\n"
    config.write_text(config_yaml(world) + parse, encoding="utf-8")
    data = tmp_path / "data"
    poisoned = next(p for p in world.portals if p.fault == "poison")
    healthy = [p for p in world.portals if p.fault is None]

    first, seconds = _crawl(config, data, poisoned.id, healthy[0].id)
    assert first.returncode == 0, first.stderr[-3000:]
    db = open_archive(data / "archive.db")
    stats = _stats(db, 1)
    expected = {(e["agency_id"], e["year"]) for p in (poisoned, healthy[0]) for e in p.expected_reports()}
    stored = {
        (r["agency_id"], r["year"]): r for r in db.query("select * from reports where is_current = 1 and agency_id is not null")
    }
    assert set(stored) == expected  # every report stored in the same run, the poison ones too
    poison = {(i.agency.id, i.year): i.special for i in poisoned.items if i.special in POISON}
    assert len(poison) == 3
    for key, report in stored.items():
        if key in poison:  # unparseable, with the reason
            assert report["parse_status"] in ("no_tables", "failed") and report["parse_error"], (poison[key], report)
        else:
            assert report["parse_status"] == "ok", report
    reasons = {poison[key]: stored[key]["parse_error"] for key in poison}
    assert "ZZZZZZZ1" in reasons["poison_xlsx"]  # bounded by the cells present: read, and the cut said
    assert "解压炸弹" in reasons["bomb_pdf"]  # refused before PDFium inflates it
    assert any(w in reasons["glyph_pdf"] for w in ("内存超出预算", "解析进程异常终止", "CPU 时间超出预算", "对象超过"))
    assert db.execute("select count(*) from sightings where ingested_at is null").fetchone()[0] == 0
    assert db.execute("select status from crawl_runs where id = 1").fetchone()[0] == "finished"
    # bounded: no parse past its budget
    assert stats["nianbao/archive/parse_peak_mb"] <= BUDGET["memory_mb"]
    assert stats["nianbao/archive/parse_slowest_seconds"] <= BUDGET["wall_seconds"]
    print(
        f"\npoison run: {seconds:.1f} s wall, {len(stored)} reports, over budget {stats['nianbao/archive/over_budget']}, "
        f"largest parse {stats['nianbao/archive/parse_peak_mb']} MB, slowest {stats['nianbao/archive/parse_slowest_seconds']} s"
    )

    # the next run stores new reports normally; the poison ones are not parsed again
    attempts = dict(db.execute("select id, parse_attempts from sightings"))
    second, _ = _crawl(config, data, healthy[1].id)
    assert second.returncode == 0, second.stderr[-3000:]
    new = {(e["agency_id"], e["year"]) for e in healthy[1].expected_reports()}
    ok = {
        (a, y)
        for a, y in db.execute(
            "select agency_id, year from reports where is_current = 1 and parse_status = 'ok' and agency_id is not null"
        )
    }
    assert new <= ok
    assert {i: n for i, n in db.execute("select id, parse_attempts from sightings") if i in attempts} == attempts
    assert db.execute("select count(*) from sightings where ingested_at is null").fetchone()[0] == 0


def test_a_report_whose_parse_keeps_being_interrupted_is_parked_and_goes_last(tmp_path):
    feeder = Feeder(tmp_path)
    feeder.capture("http://a/1.html", html(SEED_001), "html")
    stuck = feeder.sight("http://a/1.html", year=2024)
    feeder.capture("http://a/2.html", html(SEED_001), "html")
    feeder.sight("http://a/2.html", year=2024, agency_id="hq", agency_name="红旗区人民政府")
    # as if the ingest had been killed while parsing it, as many times as the budget allows
    feeder.db.execute("update sightings set parse_attempts = 3 where id = ?", [stuck])
    assert ingest._pending_ids(feeder.db)[-1] == stuck  # it no longer holds up the queue
    result = ingest.ingest(feeder.db, feeder.blobs.root, budget=Budget(attempts=3))
    assert result.reports == 2 and result.parked == 1 and result.unstored == 0
    parked = feeder.db.execute(
        "select r.parse_status, r.parse_error from reports r join sightings s on s.report_id = r.id where s.id = ?", [stuck]
    ).fetchone()
    assert parked[0] == "failed" and "已搁置" in parked[1]
    other = feeder.db.execute("select parse_status from reports where agency_id = 'hq'").fetchone()[0]
    assert other == "ok"
