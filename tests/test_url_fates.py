"""What happens to a report after it was published (#19), end to end: ``nianbao run`` three
times against mock portals (real HTTP on loopback) whose world changes between the runs
(``crawler.mock.world.change`` through the mock server's control address), a real archive,
the real check, a real webhook receiver and Datasette.

Run 1 archives everything. Before run 2 (an ordinary incremental crawl): a report is taken
off its list (its page still answers), another moves to a new URL, a third leaves a later
list page an incremental walk does not reach; one portal goes down and another's later list
pages fail, each losing a report from its list too. Before run 3 (every page revalidated,
every list read in full): pages answer 404, 410 and soft 404s (a redirect to the home page, a
page saying it does not exist), and a report is replaced in place under an unchanged page
(its attachment has other numbers).

Withdrawn and moved must be said exactly where there is positive evidence, with it, once.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from servers import webhook_receiver

from archive.blobs import BlobStore
from archive.schema import open_archive
from archive.web import make_datasette
from crawler.mock.families import PER_PAGE, _listed
from crawler.mock.server import MockServer
from crawler.mock.world import Item, Portal, config_yaml
from crawler.selection import judge

YEAR = 2024


def _report(portal: Portal, *, plain: bool = False, later_page: bool = False) -> Item:
    """A report of YEAR on the list's first page (with a kept entry after it there, so that
    its absence shows in the pages an incremental walk reads) or on a later page; ``plain``:
    a page without attachments."""
    listed = _listed(portal)
    per = PER_PAGE[portal.family]
    kept = [k for k, (item, _) in enumerate(listed) if judge(item.title, 2026).kind != "other"]
    for k, (item, _) in enumerate(listed):
        if not item.report or item.year != YEAR or (plain and item.attachments) or k == 0:
            continue
        if later_page and k >= per:
            return item
        if not later_page and any(k < j <= per for j in kept):
            return item
    raise LookupError(f"no such report on {portal.id}")


def _run(config: Path, data: Path) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "scheduler", "run", "--config", str(config), "--data", str(data), "--today", "2025-05-01"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out


def _told(received: list) -> set[tuple[str, str]]:
    return {(f["kind"], f["agency_key"]) for _, body in received if body.get("type") == "detail" for f in body["findings"]}


def _open(data: Path) -> dict[tuple[str, str], dict]:
    db = open_archive(data / "archive.db")
    return {(r["kind"], r["agency_key"]): r for r in db.query("select * from compliance where resolved_at is null")}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    root = tmp_path_factory.mktemp("fates")
    data = root / "data"
    with MockServer("fates") as mock, webhook_receiver() as (base, received):
        world = mock.world
        alerts = f'alerts:\n  log: false\n  webhooks:\n    - {{name: ops, kind: generic, url: "{base}/hook"}}\n'
        config = root / "config.yaml"
        config.write_text(config_yaml(world) + alerts, encoding="utf-8")
        cases = {
            "unlisted": ("trs-0", _report(world.portal("trs-0"))),
            "moved": ("nextlink-1", _report(world.portal("nextlink-1"), plain=True)),
            "http404": ("gdpost-2", _report(world.portal("gdpost-2"), plain=True)),
            "http410": ("vsb-3", _report(world.portal("vsb-3"), plain=True)),
            "soft404_home": ("shtml_uuid-4", _report(world.portal("shtml_uuid-4"), plain=True)),
            "soft404_page": ("gdpost-8", _report(world.portal("gdpost-8"), plain=True)),
            "replaced": ("trs-5", _report(world.portal("trs-5"))),
            "beyond": ("trs-5", _report(world.portal("trs-5"), later_page=True)),
            "down": ("nextlink-6", _report(world.portal("nextlink-6"))),
            "partial": ("trs-7", _report(world.portal("trs-7"))),
        }
        urls = {case: world.portal(p).url(item.path) for case, (p, item) in cases.items()}
        _run(config, data)
        told = [len(received)]
        for case in ("unlisted", "moved", "beyond", "down", "partial"):
            portal, item = cases[case]
            mock.change(portal, "unlisted" if case != "moved" else "moved", item.id)
        mock.change("nextlink-6", "down")
        mock.change("trs-7", "list_tail")
        _run(config, data)
        told.append(len(received))
        after_two = _open(data)
        for case in ("http404", "http410", "soft404_home", "soft404_page", "replaced"):
            portal, item = cases[case]
            mock.change(portal, case, item.id)
        full = root / "full.yaml"  # every page revalidated, every list read to its end
        full.write_text(config_yaml(world, revalidate_days=0, full_walk_days=0) + alerts, encoding="utf-8")
        _run(full, data)
        yield {
            "data": data,
            "config": full,
            "world": world,
            "cases": {case: item.agency.id for case, (_, item) in cases.items()},
            "urls": urls,
            "moved_to": world.portal("nextlink-1").url(cases["moved"][1].path),
            "after_two": after_two,
            "after_three": _open(data),
            "told": [_told(received[: told[0]]), _told(received[told[0] : told[1]]), _told(received[told[1] :])],
        }


def _runs(story) -> list[dict]:
    db = open_archive(story["data"] / "archive.db")
    return list(db.query("select * from crawl_runs order by id"))


def _walks(story, run: int) -> dict[str, dict]:
    db = open_archive(story["data"] / "archive.db")
    return {w["portal"]: w for w in db.query("select * from list_walks where run_id = ?", [_runs(story)[run]["id"]])}


def test_taken_off_a_list_read_in_full_is_withdrawn_with_the_evidence(story):
    agency = story["cases"]["unlisted"]
    f = story["after_two"][("withdrawn", agency)]
    assert f["year"] == YEAR and f["confidence"] == "medium"  # off the list, but the page still answers
    assert story["urls"]["unlisted"] in f["detail"] and "不再列于" in f["detail"] and "原网址仍可访问" in f["detail"]
    assert "最后一次抓到" in f["detail"] and f["evidence"].startswith("/-/capture/")
    assert BlobStore(story["data"] / "blobs").path(f["evidence"].rsplit("/", 1)[1]) is not None  # the archived copy
    # an incremental walk saw the gap on its first page and read on to the end; the others stopped early
    walks = _walks(story, 1)
    assert (walks["trs-0"]["seen"], walks["trs-0"]["ended"]) == ("full", "last_page")
    assert walks["gdpost-2"]["seen"] == "new_only" and walks["vsb-3"]["seen"] == "new_only"
    stats = json.loads(_runs(story)[1]["stats"])
    assert stats["nianbao/list/full_walk_gap"] >= 2 and stats["nianbao/list/rechecked"] >= 2
    assert stats["nianbao/archive/urls_unlisted"] == 2  # the report taken off trs-0's list and the moved one


def test_the_same_report_at_a_new_url_has_moved(story):
    agency = story["cases"]["moved"]
    f = story["after_two"][("moved", agency)]
    old, new = story["urls"]["moved"], story["moved_to"]
    assert old in f["detail"] and "HTTP 404" in f["detail"] and f"现见于 {new}（内容相同）" in f["detail"]
    assert f["evidence"] == new and ("withdrawn", agency) not in story["after_two"]
    db = open_archive(story["data"] / "archive.db")
    reports = list(db.query("select * from reports where agency_key = ? and year = ?", [agency, YEAR]))
    assert len(reports) == 1 and reports[0]["url"] == old  # one version; the first URL stays canonical
    seen = [
        (u["url"], u["dead_how"], bool(u["unlisted_run"]))
        for u in db.query("select * from report_urls where agency_key = ? and year = ? order by first_seen", [agency, YEAR])
    ]
    assert seen == [(old, "http_404", True), (new, None, False)]


def test_no_finding_without_a_list_read_in_full(story):
    """A portal that is down, a list whose later pages fail, and an incremental walk that
    stopped before the page a report left: nothing said, in either run."""
    for findings in (story["after_two"], story["after_three"]):
        for case in ("down", "partial"):
            agency = story["cases"][case]
            assert ("withdrawn", agency) not in findings and ("moved", agency) not in findings, case
    assert ("withdrawn", story["cases"]["beyond"]) not in story["after_two"]
    walks = _walks(story, 1)
    assert walks["nextlink-6"]["seen"] == "partial" and walks["trs-7"]["seen"] == "partial"
    assert walks["trs-5"]["seen"] == "new_only"


def test_a_full_walk_when_due_finds_what_incremental_walks_did_not_reach(story):
    f = story["after_three"][("withdrawn", story["cases"]["beyond"])]
    assert story["urls"]["beyond"] in f["detail"] and "不再列于" in f["detail"]
    assert _walks(story, 2)["trs-5"]["seen"] == "full"


@pytest.mark.parametrize(
    "case, words",
    [
        ("http404", "返回 HTTP 404"),
        ("http410", "返回 HTTP 410"),
        ("soft404_home", "跳转到 http://"),
        ("soft404_page", "页面提示不存在（软 404）"),
    ],
)
def test_a_page_gone_after_publication_is_withdrawn(story, case, words):
    agency = story["cases"][case]
    assert ("withdrawn", agency) not in story["after_two"]
    f = story["after_three"][("withdrawn", agency)]
    assert f["confidence"] == "high" and story["urls"][case] + " 自 " in f["detail"] and words in f["detail"]
    assert f["evidence"].startswith("/-/capture/") and "最后一次抓到" in f["detail"]


def test_replaced_in_place_under_an_unchanged_page_with_both_copies(story):
    agency = story["cases"]["replaced"]
    f = story["after_three"][("replaced", agency)]
    url = story["urls"]["replaced"]
    assert f"在原网址 {url} 替换了第 1 版" in f["detail"] and f["evidence"] == url
    copies = re.findall(r"/-/capture/([0-9a-f]{64})", f["detail"])
    blobs = BlobStore(story["data"] / "blobs")
    assert len(set(copies)) == 2 and all(blobs.path(sha) is not None for sha in copies)
    db = open_archive(story["data"] / "archive.db")
    versions = list(
        db.query("select url, version from reports where agency_key = ? and year = ? order by version", [agency, YEAR])
    )
    assert versions == [{"url": url, "version": 1}, {"url": url, "version": 2}]
    assert ("withdrawn", agency) not in story["after_three"] and ("moved", agency) not in story["after_three"]


def test_each_is_told_once(story):
    first, second, third = story["told"]
    c = story["cases"]
    assert {("withdrawn", c["unlisted"]), ("moved", c["moved"])} <= second
    assert not {k for k, _ in second} - {"withdrawn", "moved"}  # nothing else changed
    assert {("withdrawn", c[x]) for x in ("http404", "http410", "soft404_home", "soft404_page", "beyond")} <= third
    assert ("replaced", c["replaced"]) in third
    assert not second & third  # the findings of run 2 stay as they were: not told again
    assert not {k for k, _ in first} & {"withdrawn", "moved"}


def _get(data: Path, path: str):
    async def get():
        client = make_datasette(data / "archive.db").client
        response = await client.get(path)
        if response.status_code == 302:
            response = await client.get(response.headers["location"])
        assert response.status_code == 200, response.text
        return response

    return asyncio.run(get())


def test_check_and_the_archive_show_them(story):
    data = story["data"]
    out = subprocess.run(
        [sys.executable, "-m", "scheduler", "check", "--data", str(data), "--config", str(story["config"])]
        + ["--year", str(YEAR), "--today", "2025-05-01"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert re.search(r"\n  发布后撤下（\d+）\n", out.stdout) and "\n  网址迁移（1）\n" in out.stdout
    assert "存档副本为证  证据：/-/capture/" in out.stdout and f"现见于 {story['moved_to']}（内容相同）\n" in out.stdout
    assert "410702 河南省新乡市红旗区" in out.stdout  # the region named, as for every kind
    rows = _get(data, f"/archive/withdrawn.json?_shape=array&year={YEAR}").json()
    kinds = {(r["类型"], r["机关"]) for r in rows}
    names = dict(open_archive(data / "archive.db").execute("select id, name from agencies"))
    assert ("网址迁移", names[story["cases"]["moved"]]) in kinds
    assert ("发布后撤下", names[story["cases"]["http410"]]) in kinds
    report = dict(
        open_archive(data / "archive.db").execute("select agency_key, id from reports where is_current = 1 and year = ?", [YEAR])
    )[story["cases"]["moved"]]
    front = _get(data, f"/?year={YEAR}").text
    assert "已发布的年报中：发布后撤下 <strong>6</strong> 份，网址迁移 <strong>1</strong> 份" in front
    page = _get(data, f"/report/{report}").text
    assert "网址记录" in page and story["urls"]["moved"] in page and story["moved_to"] in page
    seen = list(
        open_archive(data / "archive.db").query(
            "select url, first_seen, last_seen from report_urls where agency_key = ? and year = ? order by first_seen",
            [story["cases"]["moved"], YEAR],
        )
    )
    assert len(seen) == 2
    for k, u in enumerate(seen):  # every URL with its first and last seen dates, the first marked as the original
        first = "（原始网址）" if k == 0 else ""
        assert f">{u['url']}</a>{first}</td>\n    <td>{u['first_seen'][:10]}</td>\n    <td>{u['last_seen'][:10]}</td>" in page
    assert "返回 HTTP 404（页面不存在）" in page and "网址迁移" in page


def test_a_queued_job_reads_the_same_list_memory(story, tmp_path):
    """What a crawl asks the archive about its lists (where a walk may stop, which vanished
    reports to ask for again, a page's parts and attachments) is answered alike by the
    extract a queued job carries to a machine that cannot see the archive."""
    from archive.crawl_memory import crawl_memory
    from crawler.list_memory import ListMemory
    from crawler.shared_state import SightedReports
    from crawler.state import ArchivedReports

    path = story["data"] / "archive.db"
    db = open_archive(path)
    walks = db.execute("select distinct portal, walk from list_entries order by 1, 2").fetchall()
    pages = db.execute("select distinct portal, url from sightings").fetchall()
    db.close()
    portals = sorted({p for p, _ in walks} | {p for p, _ in pages})
    extract = tmp_path / "extract.db"
    extract.write_bytes(crawl_memory(path, portals))
    here, there = ListMemory(ArchivedReports(path)), ListMemory(SightedReports(None, extract))
    for portal, walk in walks:
        assert here.previous(portal, walk) == there.previous(portal, walk)
        for days in (0, 1):
            assert here.full_walk_due(portal, walk, days) == there.full_walk_due(portal, walk, days)
        assert set(here.vanished(portal, walk, ())) == set(there.vanished(portal, walk, ()))
    assert all(there.previous(p, w) for p, w in walks) and any(there.vanished(p, w, ()) for p, w in walks)
    assert not any(there.full_walk_due(p, w, 1) for p, w in walks if p != "nextlink-6")  # run 3 read every list in full
    archived, carried = ArchivedReports(path), SightedReports(None, extract)
    assert all(archived.sources(u) == carried.sources(u) for _, u in pages)
    # a job gets its own portals' rows only
    (one, walk), other = walks[0], next(w for w in walks if w[0] != walks[0][0])
    extract.write_bytes(crawl_memory(path, [one]))
    only = ListMemory(SightedReports(None, extract))
    assert only.previous(one, walk) and not only.previous(*other)
