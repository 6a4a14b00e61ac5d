"""Datasette over a fixture archive, through Datasette's own test client: every
saved query returns exactly the expected rows; archived copies are served
sandboxed; the database cannot be written. Also the exports (CSV, XLSX, WARC)
of the same archive, and ``nianbao serve`` as a real server."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openpyxl
import pytest
from archive_helpers import Feeder, html
from datasette.app import Datasette

from archive import ingest
from archive.browse import QUERIES, metadata
from archive.export import export
from archive.report import Report
from archive.rules import check_report
from archive.sources import Parsed, Source
from archive.store import store_report
from archive.warc import export_warc
from crawler.config import Agency

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

AGENCIES = [
    Agency("g", "青山区人民政府", "government", "410701", None, ()),
    Agency("a", "青山区教育局", "department", "410701", "g", ()),
    Agency("b", "青山区民政局", "department", "410701", "g", ()),  # never reports 2024: missing
    Agency("t", "青山区城关镇", "township", "410701001000", "g", ()),
    Agency("x", "白水县人民政府", "government", "410802", None, ()),  # another region, missing
]


def _cells(new: int, granted: int, forward: int = 0, handled: int | None = None) -> dict:
    handled = granted if handled is None else handled
    return {
        "requests.new.total": new,
        "requests.carried_over.total": 0,
        "requests.granted.total": granted,
        "requests.total_handled.total": handled,
        "requests.carried_forward.total": forward,
        "appeals.review.total": 1,
    }


def _report(feeder: Feeder, agency: str, year: int, published: str, cells: dict, url: str) -> int:
    name = next(a.name for a in AGENCIES if a.id == agency)
    page = html(f"{name}{year}年政府信息公开工作年度报告 {url}")
    sha = feeder.capture(url, page, "html")
    sighting_id = ingest.record_sighting(
        feeder.db,
        feeder.run_id,
        {
            "portal": "p",
            "url": url,
            "title": f"{name}{year}年政府信息公开工作年度报告",
            "year": year,
            "agency_id": agency,
            "agency_name": name,
            "published": published,
        },
        seen_at=feeder.now(),
    )
    sighting = next(feeder.db.query("select * from sightings where id = ?", [sighting_id]))
    source = Source("page", url, sha, "html", None)
    report = Report(name, year, "2021", cells, check_report(cells), title=f"{name}{year}年年报")
    return store_report(feeder.db, sighting, [source], Parsed(report, source, text=f"{name} 依申请公开 行政复议"))


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    feeder = Feeder(tmp_path_factory.mktemp("browse"), agencies=AGENCIES)
    _report(feeder, "a", 2023, "2024-01-20", _cells(2, 2), "http://p/a2023.html")
    _report(feeder, "g", 2024, "2025-03-31", _cells(5, 5), "http://p/g2024.html")  # deadline day: on time
    _report(feeder, "a", 2024, "2025-02-03", _cells(10, 8, handled=9), "http://p/a2024.html")  # late, ×5, 勾稽不符
    _report(feeder, "t", 2024, "2025-03-20", _cells(1, 1), "http://p/t2024.html")
    _report(feeder, "g", 2023, "2024-04-02", _cells(4, 4), "http://p/g2023.html")  # late by 2 days
    return feeder


def _query(feeder: Feeder, name: str, **params) -> list[dict]:
    async def run():
        ds = Datasette([str(feeder.root / "archive.db")], metadata=metadata())
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = await ds.client.get(f"/archive/{name}.json?_shape=array&{query}")
        assert response.status_code == 200, response.text
        return response.json()

    return asyncio.run(run())


def test_every_saved_query_is_declared_with_its_parameters():
    declared = metadata()["databases"]["archive"]["queries"]
    assert set(declared) == {"missing", "late", "inconsistent", "completion", "agency_history", "jumps"}
    for name, q in QUERIES.items():
        for param in q["params"]:
            assert f":{param}" in q["sql"], (name, param)


def test_missing(archive):
    assert [r["机关"] for r in _query(archive, "missing", year=2024, region="")] == ["青山区民政局", "白水县人民政府"]
    assert [r["机关"] for r in _query(archive, "missing", year=2024, region="4107")] == ["青山区民政局"]


def test_late_counts_the_deadline_day_as_on_time(archive):
    rows = _query(archive, "late", year=2024, region="")
    assert [(r["机关"], r["期限"], r["逾期天数"]) for r in rows] == [("青山区教育局", "2025-01-31", 3)]
    assert [(r["机关"], r["逾期天数"]) for r in _query(archive, "late", year=2023, region="")] == [("青山区人民政府", 2)]


def test_inconsistent(archive):
    rows = _query(archive, "inconsistent", year=2024, rule="", region="")
    assert {(r["机关"], r["规则"]) for r in rows} == {
        ("青山区教育局", "requests.balance"),
        ("青山区教育局", "requests.outcome_sum"),
    }
    only = _query(archive, "inconsistent", year=2024, rule="requests.balance", region="")
    assert [r["规则"] for r in only] == ["requests.balance"]


def test_completion_rate_per_region(archive):
    rows = _query(archive, "completion", year=2024, region="")
    assert [(r["行政区划"], r["应报机关"], r["已报"], r["完成率"]) for r in rows] == [
        ("410802", 1, 0, 0.0),
        ("410701", 4, 3, 75.0),
    ]


def test_agency_history(archive):
    rows = _query(archive, "agency_history", agency="教育局")
    assert [(r["年度"], r["新收申请"]) for r in rows] == [(2024, 10), (2023, 2)]


def test_year_on_year_jumps(archive):
    rows = _query(archive, "jumps", year=2024, region="", factor=3, minimum=5)
    assert [(r["机关"], r["上年新收"], r["本年新收"], r["倍数"]) for r in rows] == [("青山区教育局", 2, 10, 5.0)]
    assert _query(archive, "jumps", year=2024, region="", factor=6, minimum=5) == []


def test_archived_copy_is_served_sandboxed_and_the_database_is_read_only(archive):
    sha = archive.db.execute("select source_sha256 from reports where url = 'http://p/g2024.html'").fetchone()[0]

    async def run():
        meta = metadata()
        meta["plugins"]["nianbao"]["blobs"] = str(archive.blobs.root)
        ds = Datasette([str(archive.root / "archive.db")], metadata=meta)
        copy = await ds.client.get(f"/-/capture/{sha}")
        page = await ds.client.get("/archive/reports?url=http://p/g2024.html")
        write = await ds.client.get("/archive.json?sql=delete+from+reports")
        missing = await ds.client.get("/-/capture/" + "0" * 64)
        return copy, page, write, missing

    copy, page, write, missing = asyncio.run(run())
    assert copy.status_code == 200 and copy.content == archive.blobs.get(sha)
    assert copy.headers["content-security-policy"] == "sandbox"
    assert f'href="/-/capture/{sha}"' in page.text and "存档副本" in page.text
    assert "年报（每个版本一行）" in page.text
    assert write.status_code == 400 and archive.count("reports") == 5
    assert missing.status_code == 404


def test_export_csv_and_xlsx_list_every_agency(archive, tmp_path):
    assert export(archive.db, 2024, tmp_path / "e.csv", "csv") == 5
    with open(tmp_path / "e.csv", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    by_name = {r["机关"]: r for r in rows}
    assert by_name["青山区民政局"]["状态"] == "缺报"
    column = next(k for k in rows[0] if k.startswith("三、一、本年新收") and k.endswith("总计"))
    assert by_name["青山区教育局"][column] == "10" and by_name["青山区民政局"][column] == ""
    assert export(archive.db, 2024, tmp_path / "e.xlsx", "xlsx", region="4107") == 4
    book = openpyxl.load_workbook(tmp_path / "e.xlsx", read_only=True)
    assert len(book.sheetnames) == 3
    sheet = list(book.worksheets[1].values)
    header, data = sheet[0], {r[1]: r for r in sheet[1:]}
    assert data["青山区教育局"][header.index("一、本年新收政府信息公开申请数量·总计")] == 10


def test_export_warc_passes_warcio_check(archive, tmp_path):
    # the same page captured again (unchanged bytes) becomes a revisit record
    archive.capture("http://p/g2024.html", html("青山区人民政府2024年政府信息公开工作年度报告 http://p/g2024.html"), "html")
    counts = export_warc(archive.db, archive.blobs, tmp_path / "a.warc.gz")
    assert counts == {"response": 5, "revisit": 1, "missing": 0}
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(tmp_path / "a.warc.gz")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "fail" not in check.stdout and check.stdout.count("response\n    digest pass") == 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(archive):
    """``nianbao serve`` on the fixture archive, as a real server on 127.0.0.1."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "serve", "--data", str(archive.root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/-/versions.json").close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise AssertionError(proc.stdout.read().decode())
    yield base
    proc.terminate()
    proc.wait(10)


def test_nianbao_serve_opens_the_archive(server):
    with urllib.request.urlopen(server + "/archive/missing.json?year=2024&region=&_shape=array") as r:
        assert [row["机关"] for row in json.load(r)] == ["青山区民政局", "白水县人民政府"]


def test_report_page_renders_in_headless_chromium(server, archive):
    """The report page as a user sees it; the screenshot is kept in test-artifacts/."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("NIANBAO_REQUIRE_BROWSER"):
            raise AssertionError("chromium is required here (NIANBAO_REQUIRE_BROWSER) but not installed")
        pytest.skip("chromium not installed (apt-get install chromium; .ci/run installs it)")
    report_id = archive.db.execute("select id from reports where url = 'http://p/a2024.html'").fetchone()[0]
    url = f"{server}/archive/reports/{report_id}"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-page.png"
    shot.unlink(missing_ok=True)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={archive.root / 'chromium-profile'}",
        "--window-size=1280,1000",
    ]
    dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=60)
    assert "青山区教育局" in dom.stdout and "存档副本" in dom.stdout and 'href="http://p/a2024.html"' in dom.stdout
    subprocess.run([browser, *flags, f"--screenshot={shot}", url], capture_output=True, timeout=60)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
