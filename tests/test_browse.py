"""Datasette over a fixture archive, as ``nianbao serve`` makes it (archive.web.make_datasette),
through Datasette's own client: the saved queries answer from the stored findings, with
Chinese labels and defaults; the front page, a report as printed and the web search; archived
copies in their real charset; web SQL cannot reach process memory. Also the exports (CSV,
XLSX, WARC) of the same archive, and ``nianbao serve`` as a real server."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from archive_helpers import Feeder, html

from archive import ingest
from archive.compliance import check_year, record
from archive.coverage import coverage
from archive.deadlines import Deadlines
from archive.export import ExportError, columns, export
from archive.report import Report
from archive.rules import check_report
from archive.sources import Parsed, Source
from archive.store import store_report
from archive.template import OUTCOME_ROWS, TABLES
from archive.warc import export_warc
from archive.web import make_datasette
from archive.web.queries import PARAM_LABELS, QUERIES
from crawler.config import Agency

AGENCIES = [
    Agency("g", "红旗区人民政府", "government", "410702", None, ()),
    Agency("a", "红旗区教育局", "department", "410702", "g", ()),
    Agency("b", "红旗区民政局", "department", "410702", "g", ()),  # never reports 2024: missing
    Agency("t", "红旗区城关镇人民政府", "township", "410702001000", "g", ()),
    Agency("x", "卫滨区人民政府", "government", "410703", None, ()),  # another county: blocked portal, unreachable
    Agency("y", "原阳县人民政府", "government", "410725", None, ()),  # missing in a third county
]
TODAY = date(2025, 6, 1)
STATUS_2024 = {
    "红旗区人民政府": "已报",
    "红旗区教育局": "已报",
    "红旗区民政局": "缺报",
    "红旗区城关镇人民政府": "已报",
    "卫滨区人民政府": "门户无法访问",
    "原阳县人民政府": "缺报",
}
GBK_TEXT = "红旗区城关镇2024年政府信息公开工作年度报告：依申请公开，行政复议一件"


def _cells(new: int, granted: int, forward: int = 0, handled: int | None = None) -> dict:
    """A 2021-shape report's totals: every outcome row printed (0 but 予以公开), so its sums
    can be checked."""
    handled = granted if handled is None else handled
    outcomes = {f"requests.{row}.total": 0 for row in OUTCOME_ROWS if row != "other"}
    return {
        "requests.new.total": new,
        "requests.carried_over.total": 0,
        **outcomes,
        "requests.granted.total": granted,
        "requests.total_handled.total": handled,
        "requests.carried_forward.total": forward,
        "appeals.review.total": 1,
    }


def _report(feeder, agency, year, published, cells, url, template="2021", page: bytes | None = None, kind="html") -> int:
    name = next(a.name for a in AGENCIES if a.id == agency)
    page = page or html(f"{name}{year}年政府信息公开工作年度报告 {url}")
    sha = feeder.capture(url, page, kind)
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
            "published_source": "meta",
        },
        seen_at=feeder.now(),
    )
    sighting = next(feeder.db.query("select * from sightings where id = ?", [sighting_id]))
    source = Source("page", url, sha, kind, None)
    figures = coverage(template, cells, set(), 0)  # how much was read, as the parser says it
    report = Report(name, year, template, cells, check_report(cells), title=f"{name}{year}年年报", coverage=figures)
    text = f"{name} 依申请公开 行政复议 城管执法"
    return store_report(feeder.db, sighting, [source], Parsed(report, source, text=text)).report_id


OLD_2020 = {  # a 2019-shape report: its own disclosure columns and （六）其他处理 as one row
    "disclosure.rules.made": 2,
    "disclosure.rules.published": 2,
    "disclosure.rules.public_total": 30,
    "disclosure.procurement.projects": 4,
    "disclosure.procurement.amount": 12.5,
    "requests.new.total": 3,
    "requests.carried_over.total": 0,
    "requests.granted.total": 2,
    "requests.other.total": 1,
    "requests.total_handled.total": 3,
    "requests.carried_forward.total": 0,
}
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    feeder = Feeder(tmp_path_factory.mktemp("browse"), agencies=AGENCIES)
    ingest.sync_portals(feeder.db, {"p": ["g", "a", "b", "t", "y"], "blocked": ["x"]})
    feeder.capture("http://p/list.html", b"<html>list</html>", "html", role="list")
    ingest.record_problem(
        feeder.db,
        feeder.run_id,
        {"portal": "blocked", "kind": "blocked", "url": "http://q/list.html", "detail": "waf", "role": "list", "at": "x"},
    )
    _report(feeder, "a", 2023, "2024-01-20", _cells(2, 2), "http://p/a2023.html")
    _report(feeder, "g", 2024, "2025-03-31", _cells(5, 5), "http://p/g2024.html")  # deadline day: on time
    _report(feeder, "a", 2024, "2025-02-03", _cells(10, 8, handled=9), "http://p/a2024.html")  # late, ×5, 勾稽不符
    _report(feeder, "a", 2024, "2025-02-03", _cells(10, 8, handled=9, forward=2), "http://p/a2024.html")  # version 2
    gbk = f"<html><head><meta charset='gbk'><title>年报</title></head><body><p>{GBK_TEXT}</p></body></html>".encode("gbk")
    _report(feeder, "t", 2024, "2025-03-20", _cells(1, 1), "http://p/t2024.html", page=gbk)
    _report(feeder, "g", 2023, "2024-04-02", _cells(4, 4), "http://p/g2023.html")  # late by 2 days
    _report(feeder, "g", 2020, "2021-03-30", OLD_2020, "http://p/g2020.pdf", template="2019", page=PDF, kind="pdf")
    for year in (2020, 2023, 2024):
        record(feeder.db, year, check_year(feeder.db, year, Deadlines(), TODAY), "2025-06-01T00:00:00+00:00")
    return feeder


def _get(feeder, path: str, **settings):
    async def run():
        return await make_datasette(feeder.root / "archive.db", **settings).client.get(path)

    return asyncio.run(run())


def _query(feeder, name: str, **params) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = _get(feeder, f"/archive/{name}.json?_shape=array&{query}")
    assert response.status_code == 200, response.text
    return response.json()


def _stored(feeder, kind: str, year: int = 2024) -> set[str]:
    return {
        n
        for (n,) in feeder.db.execute(
            "select agency_name from compliance where kind = ? and year = ? and resolved_at is null", [kind, year]
        )
    }


def test_every_saved_query_has_chinese_labels_for_its_parameters():
    assert set(QUERIES) == {
        "missing",
        "late",
        "unreachable",
        "inconsistent",
        "withdrawn",
        "issues",
        "expected",
        "completion",
        "agency_history",
        "jumps",
    }
    for name, q in QUERIES.items():
        assert all("\u4e00" <= ch <= "\u9fff" for ch in q.title[:2]), name
        for param in q.params:
            assert f":{param}" in q.sql and param in PARAM_LABELS, (name, param)


def test_missing_and_unreachable_are_the_stored_findings(archive):
    missing = [r["机关"] for r in _query(archive, "missing", year=2024, region="")]
    assert missing == ["红旗区民政局", "原阳县人民政府"] and set(missing) == _stored(archive, "missing")
    # the blocked portal's agency is unreachable, never missing (a query of its own said 缺报 here)
    unreachable = _query(archive, "unreachable", year=2024, region="")
    assert [(r["机关"], r["地区"]) for r in unreachable] == [("卫滨区人民政府", "河南省新乡市卫滨区")]
    assert "被防火墙拦截" in unreachable[0]["说明"] and "waf" not in unreachable[0]["说明"]
    assert [r["机关"] for r in _query(archive, "missing", year=2024, region="410702")] == ["红旗区民政局"]


def test_a_region_name_or_code_prefix_selects_the_same_agencies(archive):
    by_code = _query(archive, "missing", year=2024, region="4107")
    response = _get(archive, "/archive/missing.json?_shape=array&year=2024&region=%E6%96%B0%E4%B9%A1%E5%B8%82")  # 新乡市
    assert response.status_code == 302 and response.headers["location"].endswith("region=4107")
    assert [r["地区"] for r in by_code] == ["河南省新乡市红旗区", "河南省新乡市原阳县"]
    ambiguous = _get(archive, "/archive/missing?year=2024&region=%E6%9C%9D%E9%98%B3%E5%8C%BA")  # 朝阳区
    assert ambiguous.status_code == 400 and "北京市朝阳区" in ambiguous.text and "吉林省长春市朝阳区" in ambiguous.text


def test_saved_queries_opened_without_parameters_get_the_defaults(archive):
    for name, q in QUERIES.items():
        response = _get(archive, f"/archive/{name}")
        assert response.status_code == 302, name
        location = response.headers["location"]
        if "year" in q.params:
            assert "year=2024" in location, (name, location)  # the latest year checked
        if "region" in q.params:
            assert "region=&" in location + "&", (name, location)  # everywhere
    page = _get(archive, "/archive/missing?year=2024&region=")
    assert "年度" in page.text and "地区（名称或行政区划代码）" in page.text and "Query parameters" not in page.text
    history = _get(archive, "/archive/agency_history?agency=")
    assert "请填写：机关" in history.text  # nothing listed until an agency is given


def test_late_and_inconsistent(archive):
    late = _query(archive, "late", year=2024, region="")
    assert [(r["机关"], r["期限"]) for r in late] == [("红旗区教育局", "2025-01-31")] and "3 天" in late[0]["说明"]
    assert [r["机关"] for r in _query(archive, "late", year=2023, region="")] == ["红旗区人民政府"]
    rows = _query(archive, "inconsistent", year=2024, region="", rule="")
    assert {(r["机关"], r["规则"]) for r in rows} == {("红旗区教育局", "收转办结不平衡"), ("红旗区教育局", "办理结果合计不符")}
    assert [r["规则"] for r in _query(archive, "inconsistent", year=2024, region="", rule="收转办结不平衡")] == ["收转办结不平衡"]


def test_roll_and_completion_per_sub_region(archive):
    roll = {r["机关"]: r["状态"] for r in _query(archive, "expected", year=2024, region="", status="")}
    assert roll == STATUS_2024
    rows = _query(archive, "completion", year=2024, region="4107")
    assert [(r["地区"], r["应报"], r["已报"], r["缺报"], r["无法访问"], r["完成率"]) for r in rows] == [
        ("河南省新乡市卫滨区", 1, 0, 0, 1, 0.0),
        ("河南省新乡市原阳县", 1, 0, 1, 0, 0.0),
        ("河南省新乡市红旗区", 4, 3, 1, 0, 75.0),
    ]
    national = _query(archive, "completion", year=2024, region="")
    assert [(r["行政区划"], r["地区"], r["应报"]) for r in national] == [("41", "河南省", 6)]


def test_agency_history_and_jumps(archive):
    rows = _query(archive, "agency_history", agency="教育局")
    assert [(r["年度"], r["版本"], r["现行"], r["新收申请"]) for r in rows] == [
        (2024, 2, "现行", 10),
        (2024, 1, "旧版", 10),
        (2023, 1, "现行", 2),
    ]
    rows = _query(archive, "jumps", year=2024, region="", factor=3, minimum=5)
    assert [(r["机关"], r["上年新收"], r["本年新收"], r["倍数"]) for r in rows] == [("红旗区教育局", 2, 10, 5.0)]


def test_front_page_counts_link_to_their_lists(archive):
    page = _get(archive, "/?year=2024&region=%E6%96%B0%E4%B9%A1%E5%B8%82").text  # 新乡市
    assert "2024 年度政府信息公开工作年度报告 · 河南省新乡市" in page
    for label, n, query in (("应报", 6, "expected"), ("已报", 3, "expected"), ("缺报", 2, "missing"), ("迟报", 1, "late")):
        assert f"/archive/{query}?year=2024&amp;region=4107" in page and f"{label}<strong>{n}</strong>" in page
    assert "无法访问<strong>1</strong>" in page and "勾稽不符<strong>1</strong>" in page
    assert "河南省新乡市红旗区" in page and "75.0%" in page  # completion by county
    assert "最近发现的问题" in page and "红旗区民政局" in page
    linked = _get(archive, "/-/nianbao?region=4107&year=2024").text  # where the alerts link (archive.alerts.FRONT_PAGE)
    assert "2024 年度政府信息公开工作年度报告 · 河南省新乡市" in linked


def test_report_page_as_printed_2021(archive):
    report_id = archive.db.execute("select id from reports where url = 'http://p/a2024.html' and is_current").fetchone()[0]
    page = _get(archive, f"/report/{report_id}").text
    head = page[: page.index("三、收到和处理政府信息公开申请情况")]
    assert "红旗区教育局" in head and "河南省新乡市红旗区" in head and "2025-02-03（来源：页面元数据）" in head
    assert 'href="http://p/a2024.html"' in head and "存档副本" in head and "第 2 版（现行），共 2 版" in head
    assert "三、收到和处理政府信息公开申请情况 （七）总计 · 总计" not in head
    assert "结转下年度继续办理 · 总计：0 → 2" in page  # the version history names the changed cell
    labels = [r.label for r in TABLES[1].rows if "2021" in r.templates and r.key != "other"]
    table = page.index('<table class="printed">', page.index("<h2>三、收到和处理政府信息公开申请情况"))
    positions = [page.index(f">{label}</th>", table) for label in labels]
    assert positions == sorted(positions)  # printed order
    assert "1.申请人无正当理由逾期不补正" in page and "申请人情况" in page and "法人或其他组织" in page
    assert 'class="error" title="收转办结不平衡' in page  # the flagged cell carries the finding's message
    expected, read = archive.db.execute("select cells_expected, cells_read from reports where id = ?", [report_id]).fetchone()
    given = len(_cells(10, 8, handled=9, forward=2))  # the fixture's cells of the 2021 form
    assert read == given and expected > 100
    assert f'<dd class="coverage">部分读取：模板 {expected} 个单元格中读到 {given} 个</dd>' in head


def test_report_page_as_printed_2019(archive):
    report_id = archive.db.execute("select id from reports where url = 'http://p/g2020.pdf'").fetchone()[0]
    page = _get(archive, f"/report/{report_id}").text
    assert "2019 年格式（试行）" in page and "本年新制作数量" in page and "第二十条第（九）项" in page
    assert "1.申请人无正当理由逾期不补正" not in page and "（六）其他处理" in page
    assert ">12.5<" in page and ">30<" in page


def test_web_search_finds_one_and_two_characters(archive):
    two = _get(archive, "/search?q=%E5%A4%8D%E8%AE%AE").text  # 复议
    assert "<mark>复议</mark>" in two and "红旗区教育局" in two and "找到" in two
    assert "红旗区人民政府" in _get(archive, "/search?q=%E5%9F%8E%E7%AE%A1").text  # 城管
    one = _get(archive, "/search?q=%E5%A4%8D&year=2020").text  # 复, 2020 only
    assert "找到 1 份" in one and "红旗区人民政府" in one
    none = _get(archive, "/search?q=%E5%A4%8D%E8%AE%AE&region=410703").text
    assert "没有找到包含“复议”的年报" in none


def test_archived_copies_keep_their_charset_and_pdfs_open_inline(archive):
    sha = archive.db.execute("select source_sha256 from reports where url = 'http://p/t2024.html'").fetchone()[0]
    copy = _get(archive, f"/-/capture/{sha}")
    assert copy.status_code == 200 and copy.content == archive.blobs.get(sha)
    assert copy.headers["content-type"] == "text/html; charset=gb18030"
    assert copy.content.decode("gb18030").count(GBK_TEXT) == 1
    assert copy.headers["content-security-policy"] == "sandbox" and copy.headers["x-content-type-options"] == "nosniff"
    pdf = archive.db.execute("select source_sha256 from reports where url = 'http://p/g2020.pdf'").fetchone()[0]
    inline = _get(archive, f"/-/capture/{pdf}")
    assert inline.headers["content-type"] == "application/pdf" and inline.headers["content-disposition"].startswith("inline")
    assert _get(archive, "/-/capture/" + "0" * 64).status_code == 404


def test_region_names_and_chinese_values_in_table_pages(archive):
    page = _get(archive, "/archive/reports?url=http://p/a2023.html").text
    assert '410702 <span class="nianbao-region">河南省新乡市红旗区</span>' in page
    assert ">部门</span>" in page and "年报（每个版本一行）" in page
    findings = _get(archive, "/archive/compliance?kind=unreachable").text
    assert ">门户无法访问</span>" in findings
    wide = _get(archive, "/archive/requests?_sort_desc=report_id")  # not counted: 36 M rows at national scale
    assert wide.status_code == 200 and "一、本年新收政府信息公开申请数量" in wide.text


def test_web_sql_is_read_only_and_cannot_reach_process_memory(archive):
    write = _get(archive, "/archive.json?sql=delete+from+reports")
    assert write.status_code == 400 and archive.count("reports") == 7
    for sql in ("select hex(fts3_tokenizer('simple'))", "select fts3_tokenizer('x', x'0000000000000000')"):
        leak = _get(archive, "/archive.json?sql=" + urllib.request.quote(sql))
        assert leak.status_code == 400 and "not authorized" in leak.json()["error"], leak.text
    assert "not authorized" in _get(archive, "/archive?sql=" + urllib.request.quote("select fts3_tokenizer('simple')")).text

    async def saved_query():  # a saved query runs on the same guarded connections
        ds = make_datasette(archive.root / "archive.db")
        ds._metadata_local["databases"]["archive"]["queries"]["leak"] = {"sql": "select hex(fts3_tokenizer('simple')) as p"}
        return await ds.client.get("/archive/leak.json?_shape=array")

    leak = asyncio.run(saved_query())
    assert leak.status_code == 400 and "not authorized" in leak.text
    assert _query(archive, "missing", year=2024, region="")  # the saved queries themselves still run


def test_export_lists_the_roll_with_the_stored_status_and_every_cell(archive, tmp_path):
    assert export(archive.db, 2024, tmp_path / "e.csv", "csv") == 6
    with open(tmp_path / "e.csv", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    by_name = {r["机关"]: r for r in rows}
    assert {n: r["状态"] for n, r in by_name.items()} == STATUS_2024  # the same as the saved query
    assert by_name["红旗区教育局"]["迟报"].startswith("发布日期 2025-02-03") and by_name["红旗区教育局"]["勾稽不符"]
    assert by_name["红旗区教育局"]["地区"] == "河南省新乡市红旗区" and by_name["红旗区教育局"]["层级"] == "部门"
    cell_columns = [k for k in rows[0] if "·" in k]
    assert len(cell_columns) == sum(len(columns(t)) for t in TABLES)
    assert "二、规章·本年新制作数量（2019 格式）" in cell_columns and "二、规章·本年制发件数（2021 格式）" in cell_columns
    new = "三、一、本年新收政府信息公开申请数量·总计"
    assert by_name["红旗区教育局"][new] == "10" and by_name["红旗区民政局"][new] == ""
    # the 2020 report's 2019-only cells are exported too
    old = {r["机关"]: r for r in _csv(archive, tmp_path, 2020)}
    assert old["红旗区人民政府"]["二、政府集中采购·采购项目数量（2019 格式）"] == "4"


def _csv(archive, tmp_path, year):
    export(archive.db, year, tmp_path / f"{year}.csv", "csv")
    with open(tmp_path / f"{year}.csv", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_export_xlsx_is_ready_to_hand_in(archive, tmp_path):
    assert export(archive.db, 2024, tmp_path / "e.xlsx", "xlsx", region="410702") == 4
    book = openpyxl.load_workbook(tmp_path / "e.xlsx")
    assert book.sheetnames == ["核查结果", "主动公开政府信息情况", "收到和处理申请情况", "行政复议、行政诉讼情况"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref.startswith("A1:")
        assert sheet.column_dimensions["B"].width >= 20
    status = list(book["核查结果"].values)
    assert status[0][:6] == ("机关代码", "机关", "层级", "行政区划", "地区", "状态")
    assert {r[1]: r[5] for r in status[1:]}["红旗区民政局"] == "缺报"
    requests = list(book["收到和处理申请情况"].values)
    header, data = requests[0], {r[1]: r for r in requests[1:]}
    assert data["红旗区教育局"][header.index("一、本年新收政府信息公开申请数量·总计")] == 10
    with pytest.raises(ExportError, match="请先运行 nianbao check --year 2019"):
        export(archive.db, 2019, tmp_path / "none.csv", "csv")


def test_export_warc_passes_warcio_check(archive, tmp_path):
    # the same page captured again (unchanged bytes) becomes a revisit record
    archive.capture("http://p/g2024.html", html("红旗区人民政府2024年政府信息公开工作年度报告 http://p/g2024.html"), "html")
    counts = export_warc(archive.db, archive.blobs, tmp_path / "a.warc.gz")
    assert counts == {"response": 7, "revisit": 2, "missing": 0}  # version 2 of a2024 came from the same bytes
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(tmp_path / "a.warc.gz")], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "fail" not in check.stdout and check.stdout.count("response\n    digest pass") == 7


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(archive, tmp_path_factory):
    """``nianbao serve`` on the fixture archive, as a real server on 127.0.0.1, with a
    temporary directory of its own (to see that it writes nothing there)."""
    port = _free_port()
    scratch = tmp_path_factory.mktemp("serve-tmp")
    proc = subprocess.Popen(
        [sys.executable, "-m", "scheduler", "serve", "--data", str(archive.root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/-/versions.json").close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise AssertionError(proc.stdout.read().decode())
    yield base, scratch
    proc.terminate()
    proc.wait(10)


def test_nianbao_serve_opens_the_archive_and_writes_no_files(server, archive):
    server, scratch = server
    with urllib.request.urlopen(server + "/archive/missing.json?year=2024&region=&_shape=array") as r:
        assert [row["机关"] for row in json.load(r)] == ["红旗区民政局", "原阳县人民政府"]
    with urllib.request.urlopen(server + "/archive/missing") as r:  # redirected to the defaults
        assert r.url.endswith("/archive/missing?year=2024&region=")
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(server + "/archive.json?sql=" + urllib.request.quote("select fts3_tokenizer('simple')"))
    assert denied.value.code == 400
    assert list(scratch.iterdir()) == []  # no temporary metadata or config file
    assert not [p for p in archive.root.iterdir() if p.suffix in (".json", ".yaml", ".yml", ".tmp")]


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
MOJIBAKE = re.compile("[\ufffd\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]|锟斤拷")  # Latin-1 letters: UTF-8 read as Latin-1


def _browser() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("NIANBAO_REQUIRE_BROWSER"):
            raise AssertionError("chromium is required here (NIANBAO_REQUIRE_BROWSER) but not installed")
        pytest.skip("chromium not installed (apt-get install chromium; .ci/run installs it)")
    return browser


def _screens(archive) -> list[tuple[str, str, tuple[str, ...]]]:
    """(artifact name, path, Chinese text the page must show)."""
    report = archive.db.execute("select id from reports where url = 'http://p/a2024.html' and is_current").fetchone()[0]
    old = archive.db.execute("select id from reports where url = 'http://p/g2020.pdf'").fetchone()[0]
    gbk = archive.db.execute("select source_sha256 from reports where url = 'http://p/t2024.html'").fetchone()[0]
    screens = [
        (
            "front",
            "/",
            ("2024 年度政府信息公开工作年度报告 · 全国", "应报", "缺报", "无法访问", "各地区完成率", "最近发现的问题"),
        ),
        ("report-2021", f"/report/{report}", ("红旗区教育局", "原文（门户页面）", "存档副本", "（七）总计", "版本历史")),
        ("report-2019", f"/report/{old}", ("2019 年格式（试行）", "本年新制作数量", "（六）其他处理", "第二十条第（九）项")),
        ("capture-gbk", f"/-/capture/{gbk}", (GBK_TEXT,)),
        ("search", "/search?q=%E5%A4%8D%E8%AE%AE", ("全文检索", "复议", "红旗区教育局")),
    ]
    for name, q in QUERIES.items():
        expect = (q.title.split("：")[0], *(PARAM_LABELS[p] for p in q.params))
        screens.append((f"query-{name}", f"/archive/{name}", expect))
    return screens


def test_pages_render_in_headless_chromium(server, archive):
    """Each page as a user sees it (screenshots kept in test-artifacts/): the front page,
    a report in both shapes, an archived GBK page, the search and every saved query with
    its default parameters; their text is Chinese and free of mojibake."""
    server, _ = server
    browser = _browser()
    ARTIFACTS.mkdir(exist_ok=True)
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
        "--window-size=1280,1600",
    ]
    for name, path, expected in _screens(archive):
        url = server + path
        dom = subprocess.run([browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", "", dom, flags=re.S))
        for phrase in expected:
            assert phrase in text, (name, phrase)
        assert not MOJIBAKE.search(text), (name, MOJIBAKE.search(text))
        assert "Query parameters" not in text and "Custom SQL query" not in text, name
        shot = ARTIFACTS / f"{name}.png"
        shot.unlink(missing_ok=True)
        subprocess.run([browser, *flags, f"--screenshot={shot}", url], capture_output=True, timeout=120)
        assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000, name


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scheduler", *args], capture_output=True, text=True, timeout=120)


def test_search_cli_filters_by_year_and_region_and_says_when_nothing_matched(archive):
    data = ("--data", str(archive.root))
    hits = _cli("search", *data, "复议", "--year", "2024", "--region", "红旗区")
    assert hits.returncode == 0, hits.stderr
    assert "2024  红旗区教育局" in hits.stdout and "河南省新乡市红旗区" in hits.stdout and "行政复议" in hits.stdout
    assert "2023" not in hits.stdout and "共 " in hits.stdout
    none = _cli("search", *data, "复议", "--region", "原阳县")
    assert none.returncode == 0 and none.stdout.strip() == "没有找到包含“复议”的年报（原阳县）"


def test_check_takes_a_region_name(archive, tmp_path):
    base = ("check", "--data", str(archive.root), "--config", str(tmp_path / "none.yaml"), "--year", "2024")
    out = _cli(*base, "--today", "2025-06-01", "--region", "新乡市")
    assert out.returncode == 0, out.stderr
    assert "410702 河南省新乡市红旗区\n  缺报（1）\n    红旗区民政局" in out.stdout
    assert "410703 河南省新乡市卫滨区\n  门户无法访问（1）" in out.stdout
    bad = _cli(*base, "--region", "朝阳区")
    assert bad.returncode == 2 and "北京市朝阳区 110105" in bad.stderr


def test_check_answer_is_coloured_on_a_terminal_only(archive, tmp_path):
    from click.testing import CliRunner

    from scheduler import cli

    args = ["check", "--data", str(archive.root), "--config", str(tmp_path / "none.yaml"), "--year", "2024"]
    args += ["--today", "2025-06-01"]
    coloured = CliRunner().invoke(cli, args, color=True).output
    plain = CliRunner().invoke(cli, args).output
    assert "\x1b[31m" in coloured and "\x1b[" not in plain  # 缺报 in red on a terminal; a log gets plain text
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
