"""The crawl against fault-injecting mock portals (``soak:N``: every fifth portal
misbehaves): it continues, classifies every failure, archives every report the
healthy portals publish, and stores nothing partial."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date

import pytest

from archive.compliance import check_year
from archive.deadlines import Deadlines
from archive.schema import open_archive
from crawler.mock.server import MockServer
from crawler.mock.world import FAULTS, config_yaml

RUN = "import sys; from crawler.runner import crawl; crawl(sys.argv[1], sys.argv[2], log_level='ERROR')"


@pytest.fixture(scope="module")
def soak(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    with MockServer(f"soak:{5 * len(FAULTS)}") as mock:
        config = tmp / "config.yaml"
        config.write_text(config_yaml(mock.world, timeout=2, retries=2), encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-c", RUN, str(config), str(tmp / "data")], capture_output=True, text=True, timeout=600
        )
        assert out.returncode == 0, out.stderr[-3000:]
        yield {"world": mock.world, "db": open_archive(tmp / "data" / "archive.db"), "log": mock.stats()}


def _portal(soak, fault):
    return next(p for p in soak["world"].portals if p.fault == fault)


def _found(db, portal_id: str) -> set[tuple]:
    return {
        (a, y)
        for a, y in db.execute(
            "select distinct r.agency_id, r.year from reports r join sightings s on s.report_id = r.id where s.portal = ?",
            [portal_id],
        )
    }


def _problems(db, portal_id: str) -> Counter:
    return Counter(k for (k,) in db.execute("select kind from problems where portal = ?", [portal_id]))


def test_every_readable_report_is_archived(soak):
    for portal in soak["world"].portals:
        expected = {(e["agency_id"], e["year"]) for e in portal.expected_reports()}
        assert _found(soak["db"], portal.id) == expected, (portal.id, portal.fault)


@pytest.mark.parametrize(
    "fault, problems",
    [
        ("err500", {"http_error": 1}),  # the list, after its retries
        ("err503", {}),  # 503, then 500 + Retry-After, then recovered
        (
            "items",
            {"timeout": 1, "connection_lost": 1, "truncated": 1, "redirect_loop": 1, "oversize": 2},
        ),  # the gzip bomb and the 50 MB file
        ("charset", {}),
        ("calendar", {}),
        ("many_urls", {}),
        ("offsite", {"offsite": 3}),  # the Internet and two internal addresses
    ],
)
def test_failures_are_classified(soak, fault, problems):
    assert dict(_problems(soak["db"], _portal(soak, fault).id)) == problems


def test_the_run_record_counts_failures_by_class(soak):
    stats = json.loads(next(soak["db"].query("select stats from crawl_runs"))["stats"])
    by_class = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("nianbao/problems/")}
    recorded = Counter(k for (k,) in soak["db"].execute("select kind from problems"))
    assert by_class == dict(recorded)


def test_nothing_partial_is_stored(soak):
    db, items = soak["db"], _portal(soak, "items")
    unreadable = {i.path for i in items.items if i.special in ("hang", "reset", "truncate", "gzip_bomb", "loop")}
    stored = {
        u.split(":", 2)[2][u.split(":", 2)[2].index("/") :]
        for (u,) in db.execute("select url from captures where portal = ?", [items.id])
    }
    assert not unreadable & stored  # no capture of a page that never fully arrived
    assert db.execute("select max(size) from documents").fetchone()[0] < 3 * 1024 * 1024  # no 50 MB, no bomb


def test_endless_pagination_stops_and_duplicate_urls_make_one_report(soak):
    calendar = [r for r in soak["log"] if "/nb/cal-" in r[2]]
    assert len(calendar) == 1  # the first empty page ends the walk
    db, portal = soak["db"], _portal(soak, "many_urls")
    rows = db.execute(
        "select r.id, count(s.id) from reports r join sightings s on s.report_id = r.id where s.portal = ? group by r.id",
        [portal.id],
    ).fetchall()
    assert rows and all(n == 4 for _, n in rows)  # four URLs each, one report each


def test_a_portal_that_is_down_is_unreachable_not_missing(soak):
    down = _portal(soak, "err500")
    findings = check_year(soak["db"], 2024, Deadlines(), date(2025, 6, 1), region=down.owner.region)
    assert {(f.kind, f.agency_key) for f in findings} == {("unreachable", a.id) for a in down.agencies}
