"""End to end: the spider against the mock portals (real HTTP on loopback), twice.

One mock world serves one county per CMS family plus the hostile cases; the
crawl runs in a child process (Scrapy's reactor runs once per process), a
second time on the same data directory to check that it is incremental.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from politeness import assert_polite

from archive.schema import open_archive
from crawler.mock.server import MockServer
from crawler.mock.world import SPAM_IP, config_yaml

RUN = (
    "import json, sys; from crawler.runner import crawl; "
    "stats, feed = crawl(sys.argv[1], sys.argv[2], feed=sys.argv[3], log_level='ERROR'); "
    "print(json.dumps({k: v for k, v in stats.items() if isinstance(v, (int, float, str))}))"
)


def _crawl(config: Path, data: Path, feed: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(config), str(data), str(feed)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crawl")
    with MockServer("test") as mock:
        config = tmp / "config.yaml"
        config.write_text(config_yaml(mock.world), encoding="utf-8")
        first = _crawl(config, tmp / "data", tmp / "feed1.jsonl")
        log1 = mock.stats()
        second = _crawl(config, tmp / "data", tmp / "feed2.jsonl")
        log2 = mock.stats()[len(log1) :]
        revalidate = tmp / "revalidate.yaml"  # archived pages now count as stale: asked again, conditionally
        revalidate.write_text(config_yaml(mock.world, revalidate_days=0), encoding="utf-8")
        _crawl(revalidate, tmp / "data", tmp / "feed3.jsonl")
        log3 = mock.stats()[len(log1) + len(log2) :]
        feed1 = [json.loads(l) for l in (tmp / "feed1.jsonl").read_text(encoding="utf-8").splitlines()]
        feed2 = [json.loads(l) for l in (tmp / "feed2.jsonl").read_text(encoding="utf-8").splitlines()]
        yield {
            "world": mock.world,
            "feed": feed1,
            "feed2": feed2,
            "stats": first,
            "stats2": second,
            "log": log1,
            "log2": log2,
            "log3": log3,
            "feed3": [json.loads(l) for l in (tmp / "feed3.jsonl").read_text(encoding="utf-8").splitlines()],
            "dir": tmp,
        }


def _of(feed, kind, portal=None):
    return [r for r in feed if r["type"] == kind and (portal is None or r["portal"] == portal)]


FAMILY_PORTALS = ["trs-0", "gdpost-1", "gkmlpt-2", "hanweb-3", "shtml_uuid-4", "vsb-5", "nextlink-6", "auto-7"]
# the list layouts real portals use (crawler/mock/world.LAYOUTS); jspager: only its first page is readable
LAYOUT_PORTALS = [
    "comment-11",
    "script_json-12",
    "search_api-13",
    "hanweb_json-14",
    "sibling_dates-15",
    "year_tabs-16",
    "jspager-18",
]


@pytest.mark.parametrize("portal_id", FAMILY_PORTALS + LAYOUT_PORTALS)
def test_family_finds_exactly_the_reports(crawled, portal_id):
    portal = crawled["world"].portal(portal_id)
    expected = {e["url"]: e for e in portal.expected_reports()}
    found = {r["url"]: r for r in _of(crawled["feed"], "report", portal_id)}
    assert set(found) == set(expected)  # every report, no distractor, no duplicate
    assert len(_of(crawled["feed"], "report", portal_id)) == len(expected)
    for url, e in expected.items():
        r = found[url]
        assert (r["agency_id"], r["year"], r["published"]) == (e["agency_id"], e["year"], e["published"]), r["title"]
        assert r["published_source"] == e["published_source"], r["title"]
        assert r["listed_date"] == e["published"], r["title"]  # the list's own date, wherever the list shows it
        assert sorted(a["url"] for a in r["attachments"]) == e["attachments"]
        assert r["parts"] == e["parts"]
    distractors = {portal.url(i.path) for i in portal.items if not i.report}
    assert not distractors & set(found)


def test_attachments_are_captured_with_their_report(crawled):
    captures = {c["url"]: c for c in _of(crawled["feed"], "capture")}
    for report in _of(crawled["feed"], "report"):
        if report["portal"] == "nextlink-6":
            continue  # holds the oversize attachment
        for link in report["attachments"]:
            cap = captures[link["url"]]
            assert cap["status"] == 200 and cap["report_url"] == report["url"]
            assert cap["kind"] in ("pdf", "docx", "doc", "zip")


def test_vsb_downloads_send_a_referer(crawled):
    downloads = [r for r in crawled["log"] if "download.jsp" in r[2]]
    assert downloads and all(r[3] == 200 and r[6].startswith("http://") for r in downloads)


def test_zip_members_are_kept(crawled):
    zips = [c for c in _of(crawled["feed"], "capture") if c["kind"] == "zip"]
    assert zips
    assert any(m["kind"] == "pdf" and m["name"].endswith(".pdf") for z in zips for m in z["members"])


def test_user_agent_names_project_and_contact(crawled):
    agents = {r[5] for r in crawled["log"]}
    assert len(agents) == 1
    agent = agents.pop()
    assert agent.startswith("nianbao/") and "nianbao@example.org" in agent
    assert agent.isascii() and "%E5%B9%B4%E6%8A%A5" in agent  # the Chinese contact percent-encoded


def test_gbk_page_mislabelled_as_utf8(crawled):
    trs = crawled["world"].portal("trs-0")
    item = next(i for i in trs.items if i.special == "gbk")
    report = next(r for r in _of(crawled["feed"], "report") if r["url"] == trs.url(item.path))
    assert report["title"] == item.title and report["agency_id"] == item.agency.id
    capture = next(c for c in _of(crawled["feed"], "capture") if c["url"] == trs.url(item.path))
    assert "utf-8" in capture["headers"]["Content-Type"]


def test_retry_after_is_honoured(crawled):
    portal = crawled["world"].portal("nextlink-6")
    item = next(i for i in portal.items if i.special == "retry_after")
    hits = [r for r in crawled["log"] if r[0] == portal.ip and r[2] == item.path]
    assert [h[3] for h in hits] == [503, 200]
    assert hits[1][4] - hits[0][4] >= 0.95
    assert portal.url(item.path) in {r["url"] for r in _of(crawled["feed"], "report")}


@pytest.mark.parametrize("portal_id", ["nextlink-6", "robots-8", "waf521-9", "waf412-10"])
def test_problems_are_recorded(crawled, portal_id):
    portal = crawled["world"].portal(portal_id)
    problems = {(p["kind"], p["url"]) for p in _of(crawled["feed"], "problem", portal_id)}
    assert problems == set(portal.expected_problems())


def test_hostile_hosts_yield_no_reports_and_no_solving(crawled):
    for portal_id in ("robots-8", "waf521-9", "waf412-10"):
        assert not _of(crawled["feed"], "report", portal_id)
    robots_ip = crawled["world"].portal("robots-8").ip
    assert [r[2] for r in crawled["log"] if r[0] == robots_ip] == ["/robots.txt"]
    for portal_id in ("waf521-9", "waf412-10"):
        ip = crawled["world"].portal(portal_id).ip
        hits = [r for r in crawled["log"] if r[0] == ip and r[2] != "/robots.txt"]
        assert len(hits) == 1  # the challenge is not answered, nor retried
    assert not [r for r in crawled["log"] if r[0] == SPAM_IP]


def test_second_run_is_cheap(crawled):
    first, second = crawled["stats"]["downloader/request_count"], crawled["stats2"]["downloader/request_count"]
    assert second <= 0.2 * first, (first, second)
    assert not _of(crawled["feed2"], "report")  # nothing new
    fetched_again = {r[2] for r in crawled["log2"]}
    report_paths = {i.path for p in crawled["world"].portals for i in p.items if i.report and not i.special}
    assert not fetched_again & report_paths


def test_stale_pages_are_revalidated_conditionally(crawled):
    trs = crawled["world"].portal("trs-0")
    plain = [trs.url(i.path).split(":", 2)[2].split("/", 1)[1] for i in trs.items if i.report and not i.special]
    answers = {r[2]: r[3] for r in crawled["log3"] if r[0] == trs.ip}
    assert plain and all(answers.get("/" + path) == 304 for path in plain)
    assert not [r for r in crawled["feed3"] if r["type"] == "report" and r["portal"] == "trs-0"]


def test_crawls_land_in_the_archive_once(crawled):
    """Three crawls (first, unchanged, revalidated) → every expected report once, version 1,
    with its sources; 304 answers kept as evidence; each run recorded."""
    db = open_archive(crawled["dir"] / "data" / "archive.db")
    expected = {(r["agency_id"], r["year"]) for p in crawled["world"].portals for r in p.expected_reports()}
    stored = {(r["agency_id"], r["year"]) for r in db.query("select agency_id, year from reports")}
    assert stored == expected
    assert db.execute("select count(*) from reports").fetchone()[0] == len(expected)
    assert db.execute("select max(version), min(is_current) from reports").fetchone() == (1, 1)
    assert (
        db.execute(
            "select count(*) from reports r where not exists (select 1 from report_sources s where s.report_id = r.id)"
        ).fetchone()[0]
        == 0
    )
    assert db.execute("select count(*) from reports where parse_status = 'ok'").fetchone()[0] >= 0.9 * len(expected)
    runs = list(db.query("select * from crawl_runs order by id"))
    assert len(runs) == 3 and all(r["finished_at"] for r in runs)
    assert runs[0]["reports"] == len(expected) and runs[1]["reports"] == 0
    not_modified = db.execute(
        "select count(*) from captures where status = 304 and sha256 is not null and run_id = ?", [runs[2]["id"]]
    ).fetchone()[0]
    assert not_modified > 0  # revalidated copies: evidence they were still there
    problems = {(p["portal"], p["kind"]) for p in db.query("select portal, kind from problems where run_id = ?", [runs[0]["id"]])}
    assert problems == {(p.id, kind) for p in crawled["world"].portals for kind, _ in p.expected_problems()}
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


def _walks(crawled, portal_id):
    return [w for w in _of(crawled["feed"], "list_walk", portal_id) if w["ended_at"]]


@pytest.mark.parametrize(
    "portal_id, sources",
    [
        ("trs-0", "markup"),
        ("comment-11", "comment"),
        ("script_json-12", "script"),
        ("search_api-13", "api,json"),
        ("hanweb_json-14", "api,json"),
        ("sibling_dates-15", "markup"),
    ],
)
def test_every_list_is_walked_in_full_and_says_where_its_items_were(crawled, portal_id, sources):
    portal = crawled["world"].portal(portal_id)
    (walk,) = _walks(crawled, portal_id)
    assert walk["seen"] == "full" and walk["warning"] is None and walk["ended"] == "last_page"
    assert walk["sources"] == sources and walk["pager"] == "followed" and walk["pages"] >= 3
    assert walk["items"] == len(portal.items) and walk["kept"] == len(portal.expected_reports())


def test_per_year_sub_columns_are_walked(crawled):
    portal = crawled["world"].portal("year_tabs-16")
    walks = {w["url"]: w for w in _walks(crawled, "year_tabs-16")}
    column = portal.start_urls[0]
    assert set(walks) == {column, column + "2024n/", column + "2023n/"}
    assert walks[column]["seen"] == "full" and walks[column]["items"] == 0  # tabs only
    for year in (2023, 2024):
        sub = walks[f"{column}{year}n/"]
        assert sub["parent_url"] == column and sub["seen"] == "full" and sub["pager"] == "followed"
        assert sub["kept"] == sum(1 for i in portal.items if i.report and i.year == year)


def test_visible_date_wins_over_a_regenerated_meta_date(crawled):
    portal = crawled["world"].portal("comment-11")
    regenerated = {portal.url(i.path): i for i in portal.items if i.special == "meta_regen"}
    reports = [r for r in _of(crawled["feed"], "report", "comment-11") if r["url"] in regenerated]
    assert len(reports) == len(regenerated) >= 3
    for r in reports:
        item = regenerated[r["url"]]
        assert (r["published"], r["published_source"]) == (item.published.isoformat(), "page")
        assert r["published_meta"] == "2025-06-18" and r["published_visible"] == item.published.isoformat()
        assert "meta PubDate 2025-06-18" in r["published_why"] and "采用页面日期" in r["published_why"]


@pytest.mark.parametrize(
    "portal_id, warning, pager",
    [("unreadable-17", "list_unreadable", "unfollowed"), ("jspager-18", "pager_unreadable", "unfollowed")],
)
def test_a_list_that_cannot_be_fully_read_says_so(crawled, portal_id, warning, pager):
    portal = crawled["world"].portal(portal_id)
    (walk,) = _walks(crawled, portal_id)
    assert (walk["seen"], walk["warning"], walk["pager"]) == ("partial", warning, pager)
    assert walk["warning_url"] == portal.start_urls[0] and walk["pages"] == 1
    assert walk["kept"] == len(portal.expected_reports())


def test_coverage_lands_in_the_archive_per_run(crawled):
    db = open_archive(crawled["dir"] / "data" / "archive.db")
    runs = [r["id"] for r in db.query("select id from crawl_runs order by id")]
    walks = list(db.query("select * from list_walks where run_id = ?", [runs[0]]))
    assert len(walks) == len(_of(crawled["feed"], "list_walk")) - len(walks)  # each walk: started, ended
    assert all(w["ended_at"] and w["seen"] for w in walks)
    partial = {w["portal"] for w in walks if w["seen"] == "partial"}
    # the hostile portals' lists were not read; the unreadable layouts say why
    assert partial == {"robots-8", "waf521-9", "waf412-10", "unreadable-17", "jspager-18"}
    second = {w["portal"]: w["seen"] for w in db.query("select * from list_walks where run_id = ?", [runs[1]])}
    assert second["trs-0"] == "new_only"  # nothing new on its first page: stopped there


def test_one_request_per_host_at_any_delay_and_no_remote_control(tmp_path):
    """DOWNLOAD_DELAY 0 (AutoThrottle off too, so nothing else spaces requests out) with
    every answer taking 50 ms: no host ever has two requests in flight (the server counts
    them), while hosts are crawled side by side. Scrapy's remote-control endpoint stays
    off: no job file with its token appears."""
    portals = ["trs-0", "hanweb-3", "search_api-13", "sibling_dates-15"]
    with MockServer("test", latency=0.05) as mock:
        config = tmp_path / "config.yaml"
        config.write_text(config_yaml(mock.world, delay=0, concurrency=32), encoding="utf-8")
        run = RUN.replace("feed=sys.argv[3]", "portals=sys.argv[3].split(','), feed=sys.argv[4], AUTOTHROTTLE_ENABLED=False")
        home = tmp_path / "home"
        out = subprocess.run(
            [sys.executable, "-c", run, str(config), str(tmp_path / "data"), ",".join(portals), str(tmp_path / "feed.jsonl")],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / "state")},
        )
        assert out.returncode == 0, out.stderr[-2000:]
        log = mock.stats()
    hosts = {mock.world.portal(p).ip for p in portals}
    assert {r[0] for r in log} == hosts and len(log) > 60
    assert max(r[7] for r in log) == 0  # never a second request to a host before the first was answered
    spans = {ip: (min(r[4] for r in log if r[0] == ip), max(r[4] for r in log if r[0] == ip)) for ip in hosts}
    assert max(s for s, _ in spans.values()) < min(e for _, e in spans.values())  # the hosts in parallel
    assert not [p for p in home.rglob("*") if "scrapy" in str(p) or "job_files" in str(p)]  # no remote-control job file


SLOW_TO_CONNECT = ["trs-0", "hanweb-3", "search_api-13"]


def test_a_host_slow_to_connect_still_gets_the_whole_delay(tmp_path):
    """Every new connection to a mock host waits 0.2 s before its first request is read (a far
    host slow to set up a connection, or a crawler paused between taking a request and sending
    it); the next requests on that connection are read at once. Timed from when a request left
    its queue (Scrapy's own way), the request after a connection's first reached the host about
    0.1 s after it at a 0.3 s delay; timed from the host's answer, every gap is the whole delay."""
    delay = 0.3
    with MockServer("test", handshake=0.2) as mock:
        config = tmp_path / "config.yaml"
        config.write_text(config_yaml(mock.world, delay=delay), encoding="utf-8")
        run = RUN.replace("feed=sys.argv[3]", "portals=sys.argv[3].split(','), feed=sys.argv[4]")
        args = [str(config), str(tmp_path / "data"), ",".join(SLOW_TO_CONNECT), str(tmp_path / "feed.jsonl")]
        out = subprocess.run([sys.executable, "-c", run, *args], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        log = mock.stats()
    assert {r[0] for r in log} == {mock.world.portal(p).ip for p in SLOW_TO_CONNECT} and len(log) > 30
    assert_polite(log, delay)
