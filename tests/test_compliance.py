"""Deadlines and findings with a frozen clock (``today`` is given, never read), edge days included."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta

import pytest
from archive_helpers import Feeder, html

from archive import ingest, list_walks, report_urls
from archive.compliance import check_year, record
from archive.deadlines import STATUTORY, DeadlineRule, Deadlines
from archive.report import Report
from archive.rules import check_report
from archive.sources import Parsed, Source
from archive.store import store_report
from crawler.config import Agency

AGENCIES = [
    Agency("g", "青山区人民政府", "government", "431201", None, ()),
    Agency("d", "青山区教育局", "department", "431201", "g", ()),
    Agency("t", "青山区城关镇", "township", "431201001000", "g", ()),
    Agency("old", "青山区粮食局", "department", "431201", "g", (), "2023-06-30"),  # merged mid-2023
]
HUAIHUA = DeadlineRule(2, 20, "township", "4312", 2021, None, "怀化：乡镇（街道）2 月 20 日前")
RULES = Deadlines(STATUTORY + (HUAIHUA,), grace_days=14)


def test_statutory_and_local_deadlines():
    d = Deadlines()
    assert d.due(2024, "department", "410702") == date(2025, 1, 31)
    assert d.due(2024, "government", "410702") == date(2025, 3, 31)
    assert d.due(2024, "township", "410702001000") == date(2025, 3, 31)  # no statutory date: 3-31
    assert d.due(2018, "department", "410702") == date(2019, 3, 31)  # before the 2019 revision
    assert d.due(2019, "department", "410702") == date(2020, 1, 31)
    assert RULES.due(2024, "township", "431201001000") == date(2025, 2, 20)  # the local rule wins
    assert RULES.due(2020, "township", "431201001000") == date(2021, 3, 31)  # …only from 2021
    assert RULES.due(2024, "township", "410702001000") == date(2025, 3, 31)  # …only in its region
    assert d.earliest() == "01-31" and Deadlines((DeadlineRule(1, 15, "township"),) + STATUTORY).earliest() == "01-15"


def _cells(carried_over=0, forward=0, broken=False):
    cells = {
        "requests.new.total": 3,
        "requests.carried_over.total": carried_over,
        "requests.granted.total": 3,
        "requests.total_handled.total": 3 + carried_over - forward + (1 if broken else 0),
        "requests.carried_forward.total": forward,
    }
    return cells


def _publish(feeder, agency, year, published, cells, seen=None, url=None):
    a = next(x for x in AGENCIES if x.id == agency)
    url = url or f"http://p/{agency}{year}-{published}.html"
    sha = feeder.capture(url, html(f"{a.name}{year} {url}"), "html")
    sid = ingest.record_sighting(
        feeder.db,
        feeder.run_id,
        {
            "portal": "p",
            "url": url,
            "title": f"{a.name}{year}年政府信息公开工作年度报告",
            "year": year,
            "agency_id": agency,
            "agency_name": a.name,
            "published": published,
            "published_source": "meta" if published else None,
        },
        seen_at=seen or feeder.now(),
    )
    sighting = next(feeder.db.query("select * from sightings where id = ?", [sid]))
    source = Source("page", url, sha, "html", None)
    report = Report(a.name, year, "2021", cells, check_report(cells))
    return store_report(feeder.db, sighting, [source], Parsed(report, source, text=a.name))


@pytest.fixture
def feeder(tmp_path):
    feeder = Feeder(tmp_path, agencies=AGENCIES)
    ingest.sync_portals(feeder.db, {"p": ["g", "d", "t", "old"]})
    feeder.capture("http://p/list.html", b"<html>list</html>", "html", role="list")  # the column was read
    return feeder


def _kinds(feeder, year, today, **kw):
    return sorted((f.kind, f.agency_key) for f in check_year(feeder.db, year, RULES, today, **kw))


def test_deadline_day_is_on_time_and_the_day_after_is_late(feeder):
    _publish(feeder, "d", 2024, "2025-01-31", _cells())
    _publish(feeder, "g", 2024, "2025-04-01", _cells())
    _publish(feeder, "t", 2024, "2025-02-20", _cells())
    findings = check_year(feeder.db, 2024, RULES, date(2025, 6, 1))
    late = [f for f in findings if f.kind == "late"]
    assert [(f.agency_key, f.detail) for f in late] == [("g", "发布日期 2025-04-01，晚于期限 2025-03-31 1 天")]
    assert late[0].confidence == "high"


def test_missing_only_after_grace_and_never_for_retired_agencies(feeder):
    due_d, due_g = date(2025, 1, 31), date(2025, 3, 31)
    assert _kinds(feeder, 2024, due_d + timedelta(days=14)) == []  # grace still running
    assert _kinds(feeder, 2024, due_d + timedelta(days=15)) == [("missing", "d")]
    assert _kinds(feeder, 2024, date(2025, 3, 6)) == [("missing", "d")]  # 2-20 + 14: last grace day
    assert _kinds(feeder, 2024, date(2025, 3, 7)) == [("missing", "d"), ("missing", "t")]
    assert _kinds(feeder, 2024, due_g + timedelta(days=15)) == [("missing", "d"), ("missing", "g"), ("missing", "t")]
    assert ("missing", "old") in _kinds(feeder, 2022, date(2024, 1, 1))  # alive at the end of 2022
    assert ("missing", "old") not in _kinds(feeder, 2023, date(2025, 1, 1))  # merged during 2023


def test_blocked_portal_is_unreachable_not_missing(feeder):
    ingest.record_problem(
        feeder.db,
        feeder.run_id,
        {
            "portal": "p",
            "kind": "blocked",
            "url": "http://p/list.html",
            "detail": "waf:jiasule challenge",
            "role": "list",
            "at": "x",
        },
    )
    assert {k for k, _ in _kinds(feeder, 2024, date(2025, 6, 1))} == {"unreachable"}
    # the next crawl reads the list again: missing reports are missing again
    feeder.run_id = ingest.start_run(feeder.db, ["p"])
    feeder.capture("http://p/list.html", b"<html>list v2</html>", "html", role="list")
    assert {k for k, _ in _kinds(feeder, 2024, date(2025, 6, 1))} == {"missing"}


def test_listed_report_whose_page_fails_is_unreachable_not_missing(feeder):
    ingest.record_problem(
        feeder.db,
        feeder.run_id,
        {
            "portal": "p",
            "kind": "soft_404",
            "url": "http://p/d2024.html",
            "detail": "listed but the page is the home page",
            "role": "other",
            "at": "x",
            "agency_id": "d",
            "year": 2024,
        },
    )
    kinds = {key: kind for kind, key in _kinds(feeder, 2024, date(2025, 6, 1))}
    assert kinds["d"] == "unreachable" and kinds["g"] == "missing"  # only the agency the title named
    assert ("missing", "d") in _kinds(feeder, 2023, date(2025, 6, 1))  # …and only for that year
    _publish(feeder, "d", 2024, "2025-01-20", _cells())  # the page is fixed: nothing to say
    assert "d" not in {key for _, key in _kinds(feeder, 2024, date(2025, 6, 1))}


def test_a_silent_earlier_reporter_is_missing(feeder):
    feeder.capture("http://p/x.html", html("某某县统计局2023年年报"), "html")
    ingest.record_sighting(
        feeder.db,
        feeder.run_id,
        {
            "portal": "p",
            "url": "http://p/x.html",
            "title": "某某县统计局2023年年报",
            "year": 2023,
            "agency_id": None,
            "agency_name": "某某县统计局",
            "published": "2024-01-10",
        },
        seen_at=feeder.now(),
    )
    ingest.ingest(feeder.db, feeder.blobs.root)
    assert ("missing", "name:某某县统计局") in _kinds(feeder, 2024, date(2025, 6, 1))


def _orphan(feeder, name, year, url):
    """A report seen on the portal under a name the registry does not know."""
    feeder.capture(url, html(f"{name}{year}年年报"), "html")
    ingest.record_sighting(
        feeder.db,
        feeder.run_id,
        {"portal": "p", "url": url, "title": f"{name}{year}年政府信息公开工作年度报告", "year": year}
        | {"agency_id": None, "agency_name": name, "published": f"{year + 1}-01-10"},
        seen_at=feeder.now(),
    )
    ingest.ingest(feeder.db, feeder.blobs.root)


def test_a_report_under_a_name_that_can_be_the_agencys_is_no_missing_report(feeder):
    """城关镇's report, titled without its district, is not attributed to 青山区城关镇: the
    town is not accused of 缺报 while a report that can be its own is on its portal."""
    _orphan(feeder, "城关镇", 2024, "http://p/czz2024.html")
    _orphan(feeder, "青山区文化旅游局", 2024, "http://p/wl2024.html")  # can be no registered body's
    found = {f.agency_key: f for f in check_year(feeder.db, 2024, RULES, date(2025, 6, 1))}
    assert found["t"].kind == "unmatched" and found["t"].confidence == "low"
    assert "“城关镇”" in found["t"].detail and "不计为缺报" in found["t"].detail
    assert found["t"].evidence == "http://p/czz2024.html"
    assert found["d"].kind == "missing" and found["g"].kind == "missing"  # 文化旅游局 is not 教育局
    # a body known only by the name it published under last year, publishing this year under the
    # registered name that name abbreviates, is not missing either
    _publish(feeder, "t", 2025, "2026-01-20", _cells())
    later = {f.agency_key: f.kind for f in check_year(feeder.db, 2025, RULES, date(2026, 6, 1))}
    assert later["name:城关镇"] == "unmatched" and later["name:青山区文化旅游局"] == "missing"


def test_no_date_uses_first_capture_with_low_confidence(feeder):
    _publish(feeder, "d", 2024, None, _cells(), seen="2025-02-03T08:00:00+00:00")
    late = [f for f in check_year(feeder.db, 2024, RULES, date(2025, 6, 1)) if f.kind == "late"]
    assert len(late) == 1 and late[0].confidence == "low" and "2025-02-03" in late[0].detail


def test_replaced_after_the_deadline(feeder):
    _publish(feeder, "d", 2024, "2025-01-20", _cells(), seen="2025-01-21T00:00:00+00:00")
    _publish(
        feeder, "d", 2024, "2025-01-20", _cells(forward=1), seen="2025-01-30T00:00:00+00:00", url="http://p/d-fix1.html"
    )  # corrected before the deadline
    assert "replaced" not in {k for k, _ in _kinds(feeder, 2024, date(2025, 6, 1))}
    _publish(feeder, "d", 2024, "2025-01-20", _cells(forward=2), seen="2025-05-02T00:00:00+00:00", url="http://p/d-fix2.html")
    replaced = [f for f in check_year(feeder.db, 2024, RULES, date(2025, 6, 1)) if f.kind == "replaced"]
    assert len(replaced) == 1 and "第 3 版于 2025-05-02" in replaced[0].detail
    assert "requests.carried_forward.total 1→2" in replaced[0].detail


def test_inconsistent_and_cross_year(feeder):
    _publish(feeder, "d", 2023, "2024-01-10", _cells(forward=2))
    _publish(feeder, "d", 2024, "2025-01-10", _cells(carried_over=1, broken=True))
    kinds = _kinds(feeder, 2024, date(2025, 6, 1))
    assert ("inconsistent", "d") in kinds and ("cross_year", "d") in kinds
    cross = next(f for f in check_year(feeder.db, 2024, RULES, date(2025, 6, 1)) if f.kind == "cross_year")
    assert cross.detail == "本年“上年结转” 1 件 ≠ 上年“结转下年度” 2 件"


def test_findings_are_new_once_changed_when_they_change_and_resolved(feeder):
    today = date(2025, 2, 20)
    first = record(feeder.db, 2024, check_year(feeder.db, 2024, RULES, today), "t1")
    assert [f["key"] for f in first["new"]] == ["missing:d:2024"]
    again = record(feeder.db, 2024, check_year(feeder.db, 2024, RULES, today), "t2")
    assert again == {"new": [], "changed": [], "resolved": []}
    _publish(feeder, "d", 2024, "2025-02-21", _cells())  # published, late
    later = record(feeder.db, 2024, check_year(feeder.db, 2024, RULES, today), "t3")
    assert [f["key"] for f in later["new"]] == ["late:d:2024"]
    assert [f["key"] for f in later["resolved"]] == ["missing:d:2024"]


def test_check_cli_json_and_exit_status(feeder, tmp_path):
    _publish(feeder, "g", 2024, "2025-04-02", _cells())
    base = [
        sys.executable,
        "-m",
        "scheduler",
        "check",
        "--data",
        str(feeder.root),
        "--config",
        str(tmp_path / "none.yaml"),
        "--year",
        "2024",
        "--today",
        "2025-06-01",
    ]
    out = subprocess.run(base + ["--json"], capture_output=True, text=True)
    assert out.returncode == 0
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert {(r["kind"], r["agency_key"]) for r in rows} == {("late", "g"), ("missing", "d"), ("missing", "t")}
    assert subprocess.run(base + ["--fail-on", "missing"], capture_output=True).returncode == 1
    assert subprocess.run(base + ["--fail-on", "unparseable"], capture_output=True).returncode == 0
    bad = subprocess.run(base + ["--fail-on", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "未知的类别 nope" in bad.stderr
    text = subprocess.run(base, capture_output=True, text=True).stdout
    assert "431201 湖南省怀化市\n  缺报（1）" in text and "迟报 1" in text  # the nearest named region
    assert "431201001000 湖南省怀化市青山区城关镇\n  缺报（1）" in text


def test_saved_query_deadlines_are_the_same_rules(tmp_path):
    """Datasette's 迟报 query computes deadlines in SQL from the same rule data as ``check``."""
    import sqlite3

    db = sqlite3.connect(":memory:")
    expr = RULES.sql("y", "l", "g")
    for year in range(2015, 2026):
        for level, region in (
            ("department", "431201"),
            ("government", "431201"),
            ("township", "431201001000"),
            ("township", "410702001000"),
        ):
            got = db.execute(f"select {expr} from (select ? as y, ? as l, ? as g)", [year, level, region]).fetchone()[0]
            assert got == RULES.due(year, level, region).isoformat(), (year, level, region)


def _walk(feeder, seen, warning=None, url="http://p/list.html", ended="last_page", entries=()):
    list_walks.record_walk(
        feeder.db,
        feeder.run_id,
        {
            "portal": "p",
            "url": url,
            "family": "trs",
            "started_at": "s",
            "ended_at": None if seen is None else feeder.now(),
            "pages": 1,
            "items": 0 if warning else 9,
            "kept": 0 if warning else 4,
            "pager": "single",
            "ended": None if seen is None else ended,
            "seen": seen,
            "warning": warning,
            "warning_url": url if warning else None,
            "detail": "第 1 页有列表（列表脚本或数据），但读不出任何条目" if warning else None,
            "entries": [{"url": u, "title": "青山区教育局2024年政府信息公开工作年度报告"} for u in entries],
        },
    )


def test_a_list_not_fully_seen_makes_its_agencies_unreachable_not_missing(feeder):
    _walk(feeder, "partial", "list_unreadable")
    findings = check_year(feeder.db, 2024, RULES, date(2025, 6, 1))
    assert {f.kind for f in findings} == {"unreachable"}
    f = next(f for f in findings if f.agency_key == "d")
    assert f.evidence == "http://p/list.html"
    assert "列表无法解读" in f.detail and "读不出任何条目" in f.detail and "不计为缺报" in f.detail
    assert not list_walks.fully_seen(feeder.db, "p", feeder.run_id)
    # the next crawl reads the whole list: what is not on it is missing
    feeder.run_id = ingest.start_run(feeder.db, ["p"])
    feeder.capture("http://p/list.html", b"<html>list v2</html>", "html", role="list")
    _walk(feeder, "full")
    assert {k for k, _ in _kinds(feeder, 2024, date(2025, 6, 1))} == {"missing"}
    assert list_walks.fully_seen(feeder.db, "p", feeder.run_id)


def test_a_walk_cut_short_or_a_stop_at_nothing_new(feeder):
    _walk(feeder, None)  # started, never ended: the crawl was killed
    findings = check_year(feeder.db, 2024, RULES, date(2025, 6, 1))
    assert {f.kind for f in findings} == {"unreachable"} and all("抓取中断" in f.detail for f in findings)
    # a walk that stopped at the first page with nothing new (earlier crawls walked the rest):
    # enough to say a report is not there, not enough to say one has gone (#19)
    feeder.run_id = ingest.start_run(feeder.db, ["p"])
    feeder.capture("http://p/list.html", b"<html>list v3</html>", "html", role="list")
    _walk(feeder, "new_only", ended="no_news")
    assert {k for k, _ in _kinds(feeder, 2024, date(2025, 6, 1))} == {"missing"}
    assert not list_walks.fully_seen(feeder.db, "p", feeder.run_id)


def test_one_of_two_walks_partial_is_enough_to_withhold_missing(feeder):
    _walk(feeder, "full")
    _walk(feeder, "partial", "pager_unreadable", url="http://p/2024n/")
    kinds = _kinds(feeder, 2024, date(2025, 6, 1))
    assert {k for k, _ in kinds} == {"unreachable"}
    row = next(r for r in list_walks.walks(feeder.db, "p", feeder.run_id) if r["seen"] == "partial")
    assert row["warning"] == "pager_unreadable" and row["warning_url"] == "http://p/2024n/"


# ---- after publication: withdrawn, moved, replaced in place (#19) --------------------------

PAGE = "http://p/d2024.html"


def _crawl(feeder, seen="full", listed=(PAGE,), answers=(), blocked=()):
    """One more crawl of portal p: its list walked (``seen``) showing ``listed``, report pages
    answering ``answers`` ((url, HTTP status)), then the crawl's review of the report URLs."""
    feeder.run_id = ingest.start_run(feeder.db, ["p"])
    feeder.capture("http://p/list.html", f"<html>list {feeder.run_id}</html>".encode(), "html", role="list")
    _walk(
        feeder,
        seen,
        "list_failed" if seen == "partial" else None,
        ended="no_news" if seen == "new_only" else "last_page",
        entries=listed,
    )
    for url, status in answers:
        feeder.capture(url, f"<html>{status}</html>".encode(), "html", status=status)
    for url in blocked:
        ingest.record_problem(
            feeder.db,
            feeder.run_id,
            {"portal": "p", "kind": "blocked", "url": url, "detail": "waf", "role": "report", "at": feeder.now()},
        )
    return report_urls.review_run(feeder.db, feeder.run_id)


def _fates(feeder) -> dict[str, object]:
    return {f.kind: f for f in check_year(feeder.db, 2024, RULES, date(2025, 6, 1)) if f.kind in ("withdrawn", "moved")}


@pytest.fixture
def published(feeder):
    _publish(feeder, "d", 2024, "2025-01-20", _cells(), url=PAGE)
    _crawl(feeder, listed=(PAGE,))
    return feeder


def test_off_a_list_is_withdrawn_only_when_the_list_was_read_in_full(published):
    for seen in ("new_only", "partial"):  # stopped at nothing new; a list page failed
        assert _crawl(published, seen, listed=()) == {} and _fates(published) == {}
    assert _crawl(published, "full", listed=()) == {"unlisted": 1}
    f = _fates(published)["withdrawn"]
    assert f.confidence == "high" and f.agency_key == "d" and f.report_id is not None
    assert f"{PAGE} 自 2025-02-01 起不再列于 http://p/list.html（该列表已完整读取）" in f.detail
    sha = published.db.execute("select source_sha256 from reports where agency_key = 'd'").fetchone()[0]
    assert f.evidence == f"/-/capture/{sha}" and f.detail.endswith("最后一次抓到 2025-02-01，存档副本为证")
    _crawl(published, "new_only", listed=(PAGE,))  # listed again: the evidence is gone
    assert _fates(published) == {}


def test_still_answering_after_leaving_the_list_is_said(published):
    _crawl(published, "full", listed=(), answers=[(PAGE, 304)])
    f = _fates(published)["withdrawn"]
    assert f.confidence == "medium" and "原网址仍可访问" in f.detail


def test_only_404_410_in_a_crawl_that_read_the_whole_list_is_a_page_gone(published):
    for status in (500, 502, 503, 403, 429):  # the server's trouble, not the report's
        _crawl(published, "full", answers=[(PAGE, status)])
    _crawl(published, "full", answers=[(PAGE, 404)], blocked=[PAGE])  # a firewall's challenge page
    _crawl(published, "partial", answers=[(PAGE, 404)])  # the portal not fully read
    assert _fates(published) == {}
    _crawl(published, "full", answers=[(PAGE, 410)])
    f = _fates(published)["withdrawn"]
    assert f.confidence == "high" and "返回 HTTP 410（已删除）" in f.detail
    _crawl(published, "new_only", answers=[(PAGE, 200)])  # it answers again
    assert _fates(published) == {}


def test_moved_when_still_seen_at_another_url(published):
    _publish(published, "d", 2024, "2025-01-20", _cells(), url="http://p/new/d2024.html")  # the same numbers
    _crawl(published, "full", listed=("http://p/new/d2024.html",), answers=[(PAGE, 404)])
    fates = _fates(published)
    assert set(fates) == {"moved"} and fates["moved"].evidence == "http://p/new/d2024.html"
    assert "返回 HTTP 404（页面不存在），且已不在列表 http://p/list.html 中" in fates["moved"].detail
    assert "现见于 http://p/new/d2024.html（内容相同）" in fates["moved"].detail


def test_a_report_keeps_its_first_url_and_lists_every_url(feeder):
    _publish(feeder, "d", 2024, "2025-01-20", _cells(), url=PAGE, seen="2025-01-21T00:00:00+00:00")
    _publish(feeder, "d", 2024, "2025-01-20", _cells(forward=1), url="http://p/fix.html", seen="2025-05-02T00:00:00+00:00")
    versions = list(feeder.db.query("select id, version, url from reports where agency_key = 'd' order by version"))
    assert [v["url"] for v in versions] == [PAGE, PAGE]
    urls = list(feeder.db.query("select url, report_id, first_seen, last_seen from report_urls order by first_seen"))
    assert [(u["url"], u["report_id"]) for u in urls] == [(PAGE, versions[0]["id"]), ("http://p/fix.html", versions[1]["id"])]
    assert urls[1]["first_seen"] == urls[1]["last_seen"] == "2025-05-02T00:00:00+00:00"
    replaced = next(f for f in check_year(feeder.db, 2024, RULES, date(2025, 6, 1)) if f.kind == "replaced")
    assert replaced.evidence == "http://p/fix.html" and "在原网址" not in replaced.detail  # published anew elsewhere


def test_replaced_in_place_names_both_archived_copies(feeder):
    _publish(feeder, "d", 2024, "2025-01-20", _cells(), url=PAGE, seen="2025-01-21T00:00:00+00:00")
    _publish(feeder, "d", 2024, "2025-01-20", _cells(forward=1), url=PAGE, seen="2025-05-02T00:00:00+00:00")
    shas = [s for (s,) in feeder.db.execute("select source_sha256 from reports where agency_key = 'd' order by version")]
    replaced = next(f for f in check_year(feeder.db, 2024, RULES, date(2025, 6, 1)) if f.kind == "replaced")
    assert f"在原网址 {PAGE} 替换了第 1 版" in replaced.detail
    assert f"替换前的存档副本 /-/capture/{shas[0]}，替换后的 /-/capture/{shas[1]}" in replaced.detail
