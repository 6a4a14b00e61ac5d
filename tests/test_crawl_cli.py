"""The crawl from the command line: ``nianbao demo``, ``nianbao crawl`` and ``scrapy crawl portal``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crawler.mock.server import MockServer
from crawler.mock.world import config_yaml

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, timeout=300)


def test_demo_crawls_parses_and_summarises(tmp_path):
    out = _run(sys.executable, "-m", "scheduler", "demo", "--dir", str(tmp_path / "demo"))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "年报 99 份" in out.stdout                         # the demo world's 99 reports
    assert "凤泉区人民政府                2021" in out.stdout    # the DOC attachment, parsed
    assert "被防火墙拦截（未破解）" in out.stdout and "robots.txt 禁止" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_crawl_reports_a_bad_config_cleanly(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("portals: []\nagencies:\n  - {id: x, name: 某局, level: ministry, region: '100000'}\n",
                   encoding="utf-8")
    out = _run(sys.executable, "-m", "scheduler", "crawl", "--config", str(bad))
    assert out.returncode == 1
    assert f"{bad}:3: agencies[0].level: unknown level 'ministry'" in out.stderr
    assert "Traceback" not in out.stderr


def test_scrapy_crawl_portal_one_portal(tmp_path):
    with MockServer("test") as mock:
        config = tmp_path / "config.yaml"
        config.write_text(config_yaml(mock.world), encoding="utf-8")
        out = _run("scrapy", "crawl", "portal", "-a", "portal=vsb-5", "-s", f"NIANBAO_CONFIG={config}",
                   "-s", f"NIANBAO_DATA_DIR={tmp_path / 'data'}", "-s", "LOG_LEVEL=ERROR",
                   "-o", f"{tmp_path / 'feed.jsonl'}:jsonlines")
        assert out.returncode == 0, out.stderr[-2000:]
        feed = [json.loads(line) for line in (tmp_path / "feed.jsonl").read_text(encoding="utf-8").splitlines()]
        reports = {r["url"] for r in feed if r["type"] == "report"}
        assert reports == {e["url"] for e in mock.world.portal("vsb-5").expected_reports()}
        assert {r["portal"] for r in feed} == {"vsb-5"}
