"""The crawl from the command line: ``nianbao demo``, ``nianbao crawl`` and ``scrapy crawl portal``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from archive.schema import open_archive
from crawler.config import load_config
from crawler.mock.server import MockServer
from crawler.mock.world import config_yaml
from crawler.runner import shards

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, timeout=300)


def test_demo_crawls_parses_and_summarises(tmp_path):
    out = _run(sys.executable, "-m", "scheduler", "demo", "--dir", str(tmp_path / "demo"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "年报 150 份" in out.stdout  # the demo world's 150 reports
    assert "凤泉区人民政府                2021" in out.stdout  # the DOC attachment, parsed
    assert "被防火墙拦截（未破解）" in out.stdout and "robots.txt 禁止" in out.stdout
    assert "! 列表无法解读（不计缺报）" in out.stdout and "! 分页无法跟进（不计缺报）" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr
    # the scanned reports (an image-only PDF of a real report's three tables, a photographed page) read by OCR
    assert "（扫描件，OCR 识别 3 页）" in out.stdout and "（扫描件，OCR 识别 1 页）" in out.stdout
    data = tmp_path / "demo" / "data"
    db = open_archive(data / "archive.db")
    scans = {
        r["ocr_pages"]: r
        for r in db.query(
            "select r.ocr_pages, r.parse_status, r.errors, (select count(*) from cells c where c.report_id = r.id) as n "
            "from reports r where r.ocr_pages is not null"
        )
    }
    assert set(scans) == {"[1, 2, 3]", "[1]"}
    assert scans["[1, 2, 3]"]["n"] == 186 and scans["[1]"]["n"] == 94  # every cell of the tables
    assert all(r["parse_status"] == "ok" and r["errors"] == 0 for r in scans.values())
    db.close()
    again = _run(sys.executable, "-m", "scheduler", "reparse", "--data", str(data), "--workers", "1")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "OCR 4 页（0 秒）" in again.stderr  # read from the OCR cache, not again


def test_crawl_reports_a_bad_config_cleanly(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("portals: []\nagencies:\n  - {id: x, name: 某局, level: ministry, region: '100000'}\n", encoding="utf-8")
    out = _run(sys.executable, "-m", "scheduler", "crawl", "--config", str(bad))
    assert out.returncode == 1
    assert f"{bad}:3: agencies[0].level: unknown level 'ministry'" in out.stderr
    assert "Traceback" not in out.stderr


def test_scrapy_crawl_portal_one_portal(tmp_path):
    with MockServer("test") as mock:
        config = tmp_path / "config.yaml"
        config.write_text(config_yaml(mock.world), encoding="utf-8")
        out = _run(
            sys.executable,  # the scrapy command of the environment under test
            "-m",
            "scrapy",
            "crawl",
            "portal",
            "-a",
            "portal=vsb-5",
            "-s",
            f"NIANBAO_CONFIG={config}",
            "-s",
            f"NIANBAO_DATA_DIR={tmp_path / 'data'}",
            "-s",
            "LOG_LEVEL=ERROR",
            "-o",
            f"{tmp_path / 'feed.jsonl'}:jsonlines",
        )
        assert out.returncode == 0, out.stderr[-2000:]
        feed = [json.loads(line) for line in (tmp_path / "feed.jsonl").read_text(encoding="utf-8").splitlines()]
        reports = {r["url"] for r in feed if r["type"] == "report"}
        assert reports == {e["url"] for e in mock.world.portal("vsb-5").expected_reports()}
        assert {r["portal"] for r in feed} == {"vsb-5"}


def test_crawl_sharded_over_processes_finds_the_same(tmp_path):
    with MockServer("test") as mock:
        config = tmp_path / "config.yaml"
        config.write_text(config_yaml(mock.world), encoding="utf-8")
        out = _run(
            sys.executable,
            "-m",
            "scheduler",
            "crawl",
            "--config",
            str(config),
            "--data",
            str(tmp_path / "data"),
            "--workers",
            "3",
            "--feed",
            str(tmp_path / "feed.jsonl"),
        )
        assert out.returncode == 0, out.stderr[-2000:]
        expected = {e["url"] for p in mock.world.portals for e in p.expected_reports()}
    db = open_archive(tmp_path / "data" / "archive.db")
    run = next(db.query("select * from crawl_runs"))
    assert db.execute("select count(*) from crawl_runs").fetchone()[0] == 1  # one run, three processes
    assert json.loads(run["stats"])["nianbao/crawl_processes"] == 3
    assert {u for (u,) in db.execute("select url from sightings")} == expected
    assert db.execute("select count(*) from sightings where ingested_at is null").fetchone()[0] == 0
    assert (
        db.execute(
            "select count(*) from (select agency_key, year from reports where is_current = 1 group by 1, 2 having count(*) > 1)"
        ).fetchone()[0]
        == 0
    )
    feed = [json.loads(line) for line in (tmp_path / "feed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["url"] for r in feed if r["type"] == "report"} == expected  # the shards' feeds, joined
    assert f"{len(expected)} reports" in out.stdout


def test_shards_keep_a_host_in_one_process(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        """portals:
  - {id: a, owner: x, start_urls: ["http://one.gov.cn/nb/"]}
  - {id: b, owner: x, start_urls: ["http://two.gov.cn/nb/"]}
  - {id: c, owner: x, start_urls: ["http://three.gov.cn/nb/"], hosts: [one.gov.cn]}
  - {id: d, owner: x, start_urls: ["http://four.gov.cn/nb/"]}
agencies:
  - {id: x, name: 某县人民政府, level: government, region: "410702"}
""",
        encoding="utf-8",
    )
    config = load_config(path)
    groups = shards(config, ["a", "b", "c", "d"], 2)
    assert ["a", "c"] in groups and sorted(p for g in groups for p in g) == ["a", "b", "c", "d"]
    assert shards(config, ["a", "b", "c", "d"], 8) == [["a", "c"], ["b"], ["d"]]
    assert shards(config, ["a", "b"], 1) == [["a", "b"]]
