"""Acceptance for alerts at the size of a city: 320 agencies in 10 counties, 317 findings made
by the real path (captures, sightings, reports parsed by ingest, ``check_year``, ``record``),
told to every channel kind at once: strict WeCom, DingTalk (signed, with a keyword) and Feishu
(signed) robots, a generic webhook, a real SMTP server and the log.

Every channel gets exactly the findings its route holds, each once, in the order ``nianbao
check`` prints them, within its robot's limits (the robots refuse anything over them); the
summaries' counts are ``nianbao check``'s; a second run tells nobody anything; a robot that
refuses one part gets that part, and only that part, on the next run.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from archive_helpers import Feeder, html
from click.testing import CliRunner

from archive import ingest
from archive.alert_limits import LIMITS
from archive.alert_text import place
from archive.alerts import AlertConfig, EmailChannel, LogChannel, Route, WebhookChannel, alert
from archive.compliance import KIND_NAMES, KINDS, check_year, record
from archive.deadlines import Deadlines
from crawler.config import Agency
from crawler.mock.corpus import base_texts, report_text
from scheduler import EXIT_UNDELIVERED, cli

REGIONS = ("410702", "410703", "410704", "410705", "410802", "410803", "410804", "431202", "431203", "431204")
TODAY = date(2025, 6, 1)
LINE = re.compile(r"^- (.+?) · (\S+) · (.+?)（(\d{4})）：")  # the place is the code and its name


def _agencies() -> list[Agency]:
    out = []
    for i, region in enumerate(REGIONS):
        county = "甲乙丙丁戊己庚辛壬癸"[i] + "县"
        gov = Agency(f"c{i}", f"{county}人民政府", "government", region, None, ())
        out.append(gov)
        out += [Agency(f"c{i}-d{k:02d}", f"{county}第{k:02d}局", "department", region, gov.id, ()) for k in range(28)]
        out += [Agency(f"c{i}-t{k}", f"{county}第{k}镇", "township", f"{region}{k + 1:03d}000", gov.id, ()) for k in range(3)]
    return out


def _capture(feeder: Feeder, portal: str, url: str, data: bytes, role: str) -> None:
    ingest.record_capture(
        feeder.db,
        feeder.run_id,
        {
            "portal": portal,
            "role": role,
            "url": url,
            "status": 200,
            "fetched_at": feeder.now(),
            "sha256": feeder.blobs.put(data, "html"),
            "size": len(data),
            "kind": "html",
            "headers": {"Content-Type": "text/html"},
        },
    )


def build_world(root) -> Feeder:
    """Ten counties, one portal each. The last portal is behind a WAF (its agencies unreachable,
    never missing); in the first three counties three departments published late and two
    published numbers that do not add up; everyone else published nothing (missing)."""
    agencies = _agencies()
    feeder = Feeder(root, agencies=agencies)
    ingest.sync_portals(feeder.db, {f"p{i}": [a.id for a in agencies if a.region.startswith(r)] for i, r in enumerate(REGIONS)})
    for i in range(len(REGIONS) - 1):
        _capture(feeder, f"p{i}", f"http://p{i}.example.gov.cn/list.html", b"<html>list</html>", "list")
    ingest.record_problem(
        feeder.db,
        feeder.run_id,
        {
            "portal": "p9",
            "kind": "blocked",
            "url": "http://p9.example.gov.cn/list.html",
            "detail": "waf",
            "role": "list",
            "at": "x",
        },
    )
    bases = base_texts()
    for i in range(3):
        for k, (base, published) in enumerate(
            [("seed001.txt", "2025-02-20")] * 3 + [("seed000.txt", "2025-01-20")] * 2 + [("seed001.txt", "2025-01-20")]
        ):
            agency = next(a for a in agencies if a.id == f"c{i}-d{k:02d}")
            title = f"{agency.name}2024年政府信息公开工作年度报告"
            url = f"http://p{i}.example.gov.cn/{agency.id}.html"
            _capture(feeder, f"p{i}", url, html(report_text(bases[base], agency.name, 2024, title)), "report")
            ingest.record_sighting(
                feeder.db,
                feeder.run_id,
                {"portal": f"p{i}", "url": url, "title": title, "year": 2024, "agency_id": agency.id, "agency_name": agency.name}
                | {"published": published, "published_source": "meta"},
                seen_at=feeder.now(),
            )
    feeder.ingest()
    record(feeder.db, 2024, check_year(feeder.db, 2024, Deadlines(), TODAY), "t0")
    return feeder


@pytest.fixture
def world(tmp_path):
    return build_world(tmp_path)


def _routed(db, route: Route) -> list[str]:
    """The keys a route holds, in ``nianbao check``'s order, computed here without the alert code."""
    rows = [
        r
        for r in db.query("select * from compliance where resolved_at is null")
        if (not route.regions or any((r["region"] or "").startswith(p) for p in route.regions))
        and (not route.levels or r["level"] in route.levels)
    ]
    return [r["key"] for r in sorted(rows, key=lambda r: (r["region"], KINDS.index(r["kind"]), r["agency_name"]))]


def _told(db, texts: list[str]) -> list[str]:
    """The findings named by the detail lines of these messages, in order."""
    index = {
        (place(r["region"]), KIND_NAMES[r["kind"]], r["agency_name"]): r["key"] for r in db.query("select * from compliance")
    }
    return [index[m[1], m[2], m[3]] for text in texts for line in text.splitlines() if (m := LINE.match(line))]


def _check_counts(root, region: str = "") -> str:
    """The counts line ``nianbao check`` prints, without its year."""
    result = CliRunner().invoke(
        cli,
        ["check", "--data", str(root), "--config", str(root / "none.yaml"), "--year", "2024", "--today", "2025-06-01"]
        + (["--region", region] if region else []),
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1].removeprefix("2024 年度：")


def test_every_channel_gets_its_findings_once_in_order_within_its_limits(world, robots, smtp, monkeypatch):
    controller, inbox = smtp
    db, root = world.db, world.root
    assert db.execute("select count(*) from compliance").fetchone()[0] == 317
    assert {k for (k,) in db.execute("select distinct kind from compliance")} == {
        "missing",
        "late",
        "inconsistent",
        "unreachable",
    }
    monkeypatch.setenv("DING_SECRET", "SEC-ding-77aa")
    monkeypatch.setenv("FEISHU_SECRET", "feishu-5e2b")
    wecom_url, wecom = robots.add("wecom")
    ding_url, ding = robots.add("dingtalk", secret="SEC-ding-77aa", keywords=("年报",))
    county_url, county = robots.add("dingtalk")
    feishu_url, feishu = robots.add("feishu", secret="feishu-5e2b")
    generic_url, generic = robots.add("generic")
    routes = {
        "city": Route(),
        "ding-4107": Route(regions=("4107",)),
        "county-410703": Route(regions=("410703",)),
        "feishu-gov": Route(levels=("government", "township")),
        "ops": Route(),
        "mail-4312": Route(regions=("4312",)),
    }
    config = AlertConfig(
        [
            WebhookChannel(wecom_url, "wecom", name="city"),
            WebhookChannel(ding_url, "dingtalk", "DING_SECRET", "ding-4107", routes["ding-4107"]),
            WebhookChannel(county_url, "dingtalk", name="county-410703", route=routes["county-410703"]),
            WebhookChannel(feishu_url, "feishu", "FEISHU_SECRET", "feishu-gov", routes["feishu-gov"]),
            WebhookChannel(generic_url, "generic", name="ops"),
            EmailChannel(
                "127.0.0.1",
                controller.port,
                "n@example.gov.cn",
                ("zwgk@example.gov.cn",),
                "none",
                name="mail-4312",
                route=routes["mail-4312"],
            ),
            LogChannel(),
        ],
        archive_url="https://nianbao.example.gov.cn/",
    )
    results = alert(db, config, "t1", 2024, clock=robots.clock)
    assert all(r.ok for r in results.values()), {n: r.errors for n, r in results.items() if not r.ok}
    for name, robot in (
        ("city", wecom),
        ("ding-4107", ding),
        ("county-410703", county),
        ("feishu-gov", feishu),
        ("ops", generic),
    ):
        expected = _routed(db, routes[name])
        texts = robot.texts()
        assert set(robot.answers) == {0}, (name, robot.answers)  # nothing refused: every message within the limits
        assert _told(db, texts) == expected, name  # each finding once, in check's order
        assert results[name].told == len(expected) and results[name].untold == 0
        summary, details = texts[0], texts[1:]
        assert "年报核查提醒 · 2024 年度" in summary and f"详情 {len(details)} 条消息随后发送" in summary
        for number, text in enumerate(details, 1):
            assert f"年报核查提醒 · 详情 {number}/{len(details)}" in text.splitlines()[0]
    assert len(wecom.accepted) > 8  # a city's digest does not fit one WeCom message
    for body in wecom.accepted:
        assert len(body["markdown"]["content"].encode()) <= LIMITS["wecom"].max_bytes
    assert {k for body in generic.accepted for k in (f["key"] for f in body["findings"])} == set(_routed(db, Route()))
    # a county office hears about its own county only
    assert {r[:6] for t in county.texts() for r in re.findall(r"^- (\d+) ", t, re.M)} == {"410703"}
    assert "410702" not in "".join(county.texts()) and "甲县" not in "".join(county.texts())

    # the summaries say what `nianbao check` says, for the same region
    assert f"当前问题（共 317 条）：{_check_counts(root)}" in wecom.texts()[0]
    assert f"：{_check_counts(root, '4107')}" in ding.texts()[0]
    assert f"：{_check_counts(root, '410703')}" in county.texts()[0]
    link = f"[在归档中查看：{place('4107')} · 2024 年度](https://nianbao.example.gov.cn/-/nianbao?region=4107&year=2024)"
    assert link in ding.texts()[0] and place("4107") == "4107 河南省新乡市"
    # email: one message with the 4312 findings in its table and its CSV
    ((_, message, _),) = inbox.messages
    assert f"：{_check_counts(root, '4312')}" in message.get_body(("plain",)).get_content()
    (attachment,) = list(message.iter_attachments())
    rows = list(csv.DictReader(io.StringIO(attachment.get_content().lstrip("\ufeff"))))
    assert [r["标识"] for r in rows] == _routed(db, routes["mail-4312"])
    html_body = message.get_body(("html",)).get_content()
    assert (
        html_body.index(f"{place('431202')}（")
        < html_body.index(f"{place('431203')}（")
        < html_body.index(f"{place('431204')}（")
    )
    assert results["log"].told == 317

    # a second run tells nobody anything
    before = {name: len(robot.accepted) for name, robot in robots.robots.items()}
    again = alert(db, config, "t2", 2024, clock=robots.clock)
    assert all(r.ok and r.sent == 0 and r.told == 0 for r in again.values())
    assert {name: len(robot.accepted) for name, robot in robots.robots.items()} == before and len(inbox.messages) == 1


def test_a_dry_run_shows_the_messages_and_changes_nothing(world, robots, tmp_path, monkeypatch):
    url, wecom = robots.add("wecom")
    monkeypatch.setenv("NB_WECOM_URL", url)
    config = tmp_path / "alerts.yaml"
    config.write_text(
        "portals: []\nagencies: []\nalerts:\n  log: false\n  webhooks:\n    - {name: city, kind: wecom, url_env: NB_WECOM_URL}\n"
    )
    command = ["check", "--data", str(world.root), "--config", str(config), "--year", "2024", "--today", "2025-06-01"]
    first = CliRunner().invoke(cli, [*command, "--alert", "--dry-run"])
    assert first.exit_code == 0, first.output
    assert re.search(r"—— 将发送到 city（\d+ 条消息，317 条提醒）——", first.stdout) and "年报核查提醒 · 详情 1/" in first.stdout
    again = CliRunner().invoke(cli, [*command, "--alert", "--dry-run"])
    assert again.stdout == first.stdout and wecom.accepted == []
    assert world.db.execute("select count(*) from alert_parts").fetchone()[0] == 0


def test_a_refused_part_is_the_only_one_sent_on_the_next_run(world, robots, tmp_path, monkeypatch):
    url, wecom = robots.add("wecom")
    refused = []

    def part_three(body) -> bool:
        if "年报核查提醒 · 详情 3/" in body["markdown"]["content"]:
            refused.append(body)
            return True
        return False

    wecom.refuse_once(part_three, 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
    monkeypatch.setenv("NB_WECOM_URL", url)
    config = tmp_path / "alerts.yaml"
    config.write_text(
        "portals: []\nagencies: []\nalerts:\n  log: false\n  webhooks:\n    - {name: city, kind: wecom, url_env: NB_WECOM_URL}\n"
    )
    command = ["check", "--data", str(world.root), "--config", str(config), "--year", "2024", "--today", "2025-06-01", "--alert"]

    first = CliRunner().invoke(cli, command)
    assert first.exit_code == EXIT_UNDELIVERED, first.output
    in_part = _told(world.db, [refused[0]["markdown"]["content"]])
    assert f"提醒 city：{len(in_part)} 条未送达（下次运行重发）" in first.stderr
    assert "第 3/" in first.stderr and "40058" in first.stderr and "8c1f0d2e" not in first.output  # the token never shows
    assert _told(world.db, wecom.texts()) == [k for k in _routed(world.db, Route()) if k not in in_part]
    told = {k for (k,) in world.db.execute("select finding_key from alerts_sent where channel = 'city'")}
    assert told.isdisjoint(in_part) and len(told) == 317 - len(in_part)

    accepted = len(wecom.accepted)
    second = CliRunner().invoke(cli, command)
    assert second.exit_code == 0, second.output
    assert "提醒 city：已告知" in second.stdout
    assert len(wecom.accepted) == accepted + 1 and wecom.accepted[-1] == refused[0]  # that part, unchanged, and nothing else
    third = CliRunner().invoke(cli, command)
    assert third.exit_code == 0 and len(wecom.accepted) == accepted + 1 and "没有新内容" in third.stdout
