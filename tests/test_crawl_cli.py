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
    assert f"年报 {len(expected)} 份" in out.stdout


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
