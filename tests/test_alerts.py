"""Alerts received by real servers on 127.0.0.1: an SMTP server (aiosmtpd; plain with AUTH,
STARTTLS with a self-signed certificate, a size limit), a lenient webhook receiver and strict
robots (tests/servers.py) that refuse what the real WeCom, DingTalk and Feishu robots refuse.
Each finding is told once; again when it changes or is resolved. Pacing runs on a simulated
clock shared with the robots: no test waits for a rate window."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import subprocess
import urllib.parse
from collections import Counter
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from archive_helpers import Feeder, office_mail
from servers import Inbox, free_port

from archive import ingest
from archive.alert_limits import LIMITS
from archive.alert_text import Line, Style, pack, place, summary_text
from archive.alert_transport import Refusal, measure, post, request
from archive.alerts import AlertConfig, EmailChannel, LogChannel, Route, WebhookChannel, alert, pending
from archive.compliance import check_year, record
from archive.deadlines import Deadlines
from crawler.config import Agency

AGENCIES = [
    Agency("g", "青山区人民政府", "government", "431201", None, ()),
    Agency("d", "青山区教育局", "department", "431201", "g", ()),
]


@pytest.fixture
def feeder(tmp_path):
    feeder = Feeder(tmp_path, agencies=AGENCIES)
    ingest.sync_portals(feeder.db, {"p": ["g", "d"]})
    feeder.capture("http://p/list.html", b"<html>list</html>", "html", role="list")
    return feeder


def _check(feeder, today=date(2025, 6, 1)):
    record(feeder.db, 2024, check_year(feeder.db, 2024, Deadlines(), today), today.isoformat())


def _county(tmp_path, regions: int, departments: int) -> Feeder:
    """Agencies in several counties, none of which published: one 缺报 each."""
    agencies = []
    for i in range(regions):
        region = f"{4107 + i // 5}{i % 5 + 1:02d}"
        agencies.append(Agency(f"g{i}", f"县{i}人民政府", "government", region, None, ()))
        agencies += [Agency(f"d{i}-{k}", f"县{i}第{k}局", "department", region, f"g{i}", ()) for k in range(departments)]
    feeder = Feeder(tmp_path, agencies=agencies)
    ingest.sync_portals(feeder.db, {"p": [a.id for a in agencies]})
    feeder.capture("http://p/list.html", b"<html>list</html>", "html", role="list")
    _check(feeder)
    return feeder


def test_email_digest_once_then_resolution(feeder, smtp, monkeypatch):
    controller, inbox = smtp
    config = AlertConfig([office_mail(controller.port, monkeypatch)])
    _check(feeder)
    first = alert(feeder.db, config, "t1")["email"]
    assert (first.told, first.sent, first.ok) == (2, 1, True)
    assert len(inbox.messages) == 1
    rcpt, message, authenticated = inbox.messages[0]
    assert rcpt == ["office@example.gov.cn"] and authenticated
    assert message["Subject"] == "年报核查提醒：缺报 2"
    body = message.get_body(("plain",)).get_content()
    assert "青山区教育局" in body and "青山区人民政府" in body and "s3cret" not in body
    _check(feeder)
    again = alert(feeder.db, config, "t2")["email"]
    assert (again.told, again.sent, again.ok) == (0, 0, True)  # nothing new: nothing sent
    assert len(inbox.messages) == 1
    feeder.db.execute("update agencies set retired = '2024-06-30' where id = 'd'")  # d no longer expected
    _check(feeder)
    assert alert(feeder.db, config, "t3")["email"].told == 1
    resolved = inbox.messages[1][1]
    assert resolved["Subject"] == "年报核查提醒：已解决 1"
    assert "【已解决】" in resolved.get_body(("plain",)).get_content()


def test_email_has_an_html_table_a_text_alternative_and_a_csv(tmp_path, smtp):
    controller, inbox = smtp
    feeder = _county(tmp_path, 3, 4)
    config = AlertConfig([EmailChannel("127.0.0.1", controller.port, "n@example.gov.cn", ("o@example.gov.cn",), "none")])
    assert alert(feeder.db, config, "t1")["email"].told == 15
    message = inbox.messages[0][1]
    assert message.get_content_type() == "multipart/mixed"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    # grouped by region, then kind: each county's header row precedes its own agencies only
    for i, region in enumerate(("410701 河南省新乡市", "410702 河南省新乡市红旗区", "410703 河南省新乡市卫滨区")):
        assert f"{region}（5 条）" in html and "缺报（5）" in html
        assert html.index(f"县{i}人民政府") > html.index(f"{region}（5 条）")
    assert "<table" in html and "按地区" in text and "- 410702 河南省新乡市红旗区：缺报 5" in text
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "nianbao-findings.csv"
    raw = attachment.get_content()
    raw = raw.decode() if isinstance(raw, bytes) else raw
    rows = list(csv.DictReader(io.StringIO(raw.lstrip("\ufeff"))))
    assert len(rows) == 15 and {r["类别"] for r in rows} == {"缺报"} and rows[0]["行政区划"] == "410701 河南省新乡市"
    assert {r["标识"] for r in rows} == {r["key"] for r in feeder.db.query("select key from compliance")}


def test_email_too_large_for_the_server_is_split_into_numbered_messages(tmp_path):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), data_size_limit=40_000)
    controller.start()
    try:
        feeder = _county(tmp_path, 4, 24)
        channel = EmailChannel("127.0.0.1", controller.port, "n@example.gov.cn", ("o@example.gov.cn",), "none", max_bytes=40_000)
        result = alert(feeder.db, AlertConfig([channel]), "t1")["email"]
        assert result.ok and result.told == 100 and result.sent == len(inbox.messages) > 1
        total = len(inbox.messages)
        keys = []
        for number, (_, message, _) in enumerate(inbox.messages, 1):
            assert message["Subject"].endswith(f"（第 {number}/{total} 封）")
            assert len(message.as_bytes()) <= 40_000
            (attachment,) = list(message.iter_attachments())
            raw = attachment.get_content()
            raw = raw.decode() if isinstance(raw, bytes) else raw
            keys += [r["标识"] for r in csv.DictReader(io.StringIO(raw.lstrip("\ufeff")))]
        assert sorted(keys) == sorted(r["key"] for r in feeder.db.query("select key from compliance"))
        assert "按地区" in inbox.messages[0][1].get_body(("plain",)).get_content()  # the summary comes first
    finally:
        controller.stop()


def test_email_starttls(feeder, tmp_path, monkeypatch):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True)
    controller.start()
    try:
        monkeypatch.setenv("NIANBAO_SMTP_CAFILE", str(cert))
        channel = EmailChannel("127.0.0.1", controller.port, "n@example.gov.cn", ("o@example.gov.cn",), "starttls")
        _check(feeder)
        assert alert(feeder.db, AlertConfig([channel]), "t1")["email"].told == 2
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_unreachable_smtp_is_retried_next_run(feeder, smtp):
    controller, inbox = smtp
    dead = EmailChannel("127.0.0.1", 9, "n@example.gov.cn", ("o@example.gov.cn",), "none")
    _check(feeder)
    result = alert(feeder.db, AlertConfig([dead]), "t1")["email"]
    assert not result.ok and result.told == 0 and result.untold == 2 and "127.0.0.1:9" in result.errors[0]
    live = EmailChannel("127.0.0.1", controller.port, "n@example.gov.cn", ("o@example.gov.cn",), "none")
    assert alert(feeder.db, AlertConfig([live]), "t2")["email"].told == 2
    assert len(inbox.messages) == 1


def test_generic_webhook_and_dry_run(feeder, hook):
    base, received = hook
    config = AlertConfig([WebhookChannel(base + "/hook", "generic", name="ops"), LogChannel()])
    _check(feeder)
    dry = alert(feeder.db, config, "t0", dry_run=True)
    assert dry["ops"].untold == 2 and len(dry["ops"].preview) == 2 and "缺报" in dry["ops"].preview[1] and received == []
    results = alert(feeder.db, config, "t1")
    assert (results["ops"].told, results["log"].told) == (2, 2)
    (path, summary), (_, details) = received
    assert path == "/hook" and summary["type"] == "summary" and summary["findings"] == [] and summary["parts"] == 1
    assert details["type"] == "detail" and (details["part"], details["parts"]) == (1, 1)
    assert {f["key"] for f in details["findings"]} == {"missing:d:2024", "missing:g:2024"}
    again = alert(feeder.db, config, "t2")
    assert again["ops"].sent == 0 and again["log"].sent == 0 and len(received) == 2


def test_dingtalk_signature_and_robot_formats(monkeypatch):
    url, body = request("dingtalk", "http://h/robot/send?access_token=t", "SECabc", _part("主题", "正文"), 1700000000.123)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000123\nSECabc", hashlib.sha256).digest()).decode()
    assert query == {"access_token": "t", "timestamp": "1700000000123", "sign": expected}
    assert json.loads(body) == {"msgtype": "markdown", "markdown": {"title": "主题", "text": "正文"}}
    _, body = request("feishu", "http://h/f", "fs", _part("s", "t"), 1700000000)
    expected = base64.b64encode(hmac.new(b"1700000000\nfs", b"", hashlib.sha256).digest()).decode()
    assert json.loads(body) == {"msg_type": "text", "content": {"text": "t"}, "timestamp": "1700000000", "sign": expected}
    _, body = request("wecom", "http://h/w", None, _part("s", "t"), 0)
    assert json.loads(body) == {"msgtype": "markdown", "markdown": {"content": "t"}}


def _part(title: str, text: str) -> dict:
    return {"title": title, "text": text, "role": "detail", "number": 1, "total": 1}


def test_parts_are_whole_lines_within_the_limit_and_an_overlong_line_is_cut():
    style = Style(markdown=True)
    size = lambda text, rows: measure("wecom", False, "s", text, rows)
    rows = [{"key": f"k{i}"} for i in range(60)]
    lines = [Line(f"- 第{i}行" + "长" * (40 + i * 7), "新发现", r) for i, r in enumerate(rows)]
    lines.append(Line("- 超长" + "字" * 3000, "新发现", {"key": "long"}))  # 9 KB: more than a whole WeCom message
    parts = pack(lambda i, n: f"### 详情 {i}/{n}", lines, style, size, 4096)
    assert len(parts) > 3
    carried = [r["key"] for _, part_rows in parts for r in part_rows]
    assert carried == [r["key"] for r in rows] + ["long"]  # every finding once, in order
    for number, (text, part_rows) in enumerate(parts, 1):
        assert len(text.encode()) <= 4096
        assert text.startswith(f"### 详情 {number}/{len(parts)}\n**新发现")
        body = text.split("\n")[2:]
        assert len(body) == len(part_rows)
        for line, row in zip(body, part_rows):
            if row["key"] != "long":
                assert line == next(x.text for x in lines if x.row is row)  # never cut between parts
    assert parts[0][0].split("\n")[1] == "**新发现**" and parts[1][0].split("\n")[1] == "**新发现（续）**"
    assert parts[-1][0].endswith("…")


def test_the_summary_rolls_regions_up_until_it_fits():
    totals = {
        f"{p:02d}{c:02d}{d:02d}": Counter({"missing": 3, "late": 1}) for p in range(11, 41) for c in range(1, 11) for d in (1, 2)
    }
    style = Style(markdown=True)
    fits = lambda text: len(text.encode()) <= 4096
    from archive.alert_text import Scope

    text = summary_text([2024], Scope("全部", ()), Counter(new=2400), totals, 80, style, fits)
    assert fits(text) and "当前问题（共 2400 条）：缺报 1800，迟报 600" in text
    assert "- 11 北京市：缺报 60，迟报 20" in text  # 600 counties rolled up to 30 provinces
    assert "410101" not in text


def test_routes_by_region_level_and_agency(tmp_path):
    feeder = _county(tmp_path, 6, 2)
    everything = {r["key"] for r in pending(feeder.db, "x")}
    assert len(everything) == 18
    city = {r["key"] for r in pending(feeder.db, "x", route=Route(regions=("4108",)))}
    assert city == {k for k in everything if k.split(":")[1] in ("g5", "d5-0", "d5-1")}
    two = {r["key"] for r in pending(feeder.db, "x", route=Route(regions=("410701", "410703"), levels=("government",)))}
    assert two == {"missing:g0:2024", "missing:g2:2024"}
    assert {r["key"] for r in pending(feeder.db, "x", route=Route(agencies=("d1-0",)))} == {"missing:d1-0:2024"}


@pytest.mark.parametrize(
    "kind, text, code",
    [
        ("wecom", "字" * 1366, "40058"),  # 4098 bytes of content
        ("dingtalk", "字" * 6660, "460101"),  # a body over 20000 bytes
        ("feishu", "字" * 6660, "9499"),
    ],
)
def test_the_strict_robots_refuse_what_production_refuses(robots, kind, text, code):
    url, robot = robots.add(kind)
    with pytest.raises(Refusal) as refused:
        post(kind, *request(kind, url, None, _part("年报", text), robots.clock.time()))
    assert f"（{code}：" in refused.value.reason and robot.accepted == []
    post(kind, *request(kind, url, None, _part("年报", "字" * 1000), robots.clock.time()))  # within the limit: accepted
    assert len(robot.accepted) == 1


def test_a_bad_signature_stops_the_channel(feeder, robots, monkeypatch):
    monkeypatch.setenv("WRONG_SECRET", "SEC-not-the-robots")
    _check(feeder)
    for kind, code in (("dingtalk", "310000"), ("feishu", "19021")):
        url, robot = robots.add(kind, secret="SEC-the-robots")
        result = alert(feeder.db, AlertConfig([WebhookChannel(url, kind, "WRONG_SECRET", kind)]), "t1", clock=robots.clock)[kind]
        assert result.untold == 2 and result.sent == 0 and robot.accepted == [] and robot.answers == [int(code)]
        assert f"（{code}：" in result.errors[0] and result.errors[1] == "其余 1 条消息本次未发送"  # not tried: it would fail too
        assert "SEC-not-the-robots" not in str(result)


def test_a_robot_answering_without_its_code_is_not_success(feeder, robots):
    url, robot = robots.add("wecom")
    robot.refuse_once(lambda body: "详情 1/1" in body["markdown"]["content"], 200, {"result": "ok"})  # HTTP 200, no errcode
    _check(feeder)
    result = alert(feeder.db, AlertConfig([WebhookChannel(url, "wecom", name="w")]), "t1", clock=robots.clock)["w"]
    assert not result.ok and result.untold == 2 and "无法识别" in result.errors[0]
    assert result.told == 0 and feeder.db.execute("select count(*) from alerts_sent").fetchone()[0] == 0
    again = alert(feeder.db, AlertConfig([WebhookChannel(url, "wecom", name="w")]), "t2", clock=robots.clock)["w"]
    assert again.ok and again.told == 2 and again.sent == 1  # only the refused part, not the summary again


def test_pacing_keeps_every_robot_under_its_rate_limit(tmp_path, robots):
    feeder = _county(tmp_path, 10, 20)  # 210 findings
    channels = []
    for kind in ("wecom", "dingtalk", "feishu"):
        url, _ = robots.add(kind)
        channels.append(WebhookChannel(url, kind, name=kind, max_bytes=1024))  # small parts: many messages
    results = alert(feeder.db, AlertConfig(channels), "t1", clock=robots.clock)
    for channel in channels:
        robot = next(r for r in robots.robots.values() if r.kind == channel.kind)
        assert results[channel.name].ok and results[channel.name].told == 210
        assert len(robot.accepted) > 25 and set(robot.answers) == {0}  # never refused: paced, not retried
        for i, t in enumerate(robot.arrivals):
            for count, seconds in LIMITS[channel.kind].windows:
                assert sum(t - seconds < u <= t for u in robot.arrivals[: i + 1]) <= count
    assert sum(robots.clock.slept) > 60  # at 20 a minute, the robots took minutes of (simulated) time


def test_pacing_carries_over_to_the_next_run(tmp_path, robots):
    feeder = _county(tmp_path, 10, 20)
    url, robot = robots.add("wecom")
    config = AlertConfig([WebhookChannel(url, "wecom", name="w", max_bytes=2048)])
    first = alert(feeder.db, config, "t1", clock=robots.clock)["w"]
    assert first.ok and 14 <= first.sent <= 20  # a minute's worth, or nearly
    feeder.db.execute("update agencies set retired = '2024-06-30' where id like 'd%'")  # 200 findings resolved
    _check(feeder)
    second = alert(feeder.db, config, "t2", clock=robots.clock)["w"]  # a new run, the same minute
    assert second.ok and second.told == 200 and second.sent > 5
    assert set(robot.answers) == {0}  # the new run knew what the last one had sent: never refused


def test_a_large_digest_continues_on_the_next_runs(tmp_path, robots):
    from archive.alerts import report_lines

    feeder = _county(tmp_path, 4, 20)  # 84 findings
    url, robot = robots.add("wecom")
    config = AlertConfig([WebhookChannel(url, "wecom", name="w", max_bytes=1500, max_messages=3)])
    runs = []
    while not runs or runs[-1].sent:
        runs.append(alert(feeder.db, config, f"t{len(runs)}", clock=robots.clock)["w"])
    assert [r.sent for r in runs[:-1]][:2] == [3, 3] and all(r.ok for r in runs) and runs[-1].untold == 0
    assert runs[0].deferred == len(robot.accepted) - 3 and "每次运行最多发送 3 条消息" in robot.texts()[0]
    assert "下次运行继续发送" in report_lines({"w": runs[0]})[0][0] and report_lines({"w": runs[0]})[1] == []
    assert sorted(r["key"] for r in feeder.db.query("select finding_key as key from alerts_sent")) == sorted(
        r["key"] for r in feeder.db.query("select key from compliance")
    )


def test_too_fast_is_waited_for_and_sent_again(feeder, robots):
    url, wecom = robots.add("wecom")
    wecom.busy(20, robots.clock.time())  # another sender just used up this minute
    d_url, ding = robots.add("dingtalk")
    ding.throttled_until = robots.clock.time() + 600  # DingTalk's 10-minute penalty is running
    f_url, feishu = robots.add("feishu")
    feishu.refuse_once(lambda body: True, 400, {"code": 11232, "msg": "frequency limited"})  # said with HTTP 400
    _check(feeder)
    config = AlertConfig(
        [
            WebhookChannel(url, "wecom", name="w"),
            WebhookChannel(d_url, "dingtalk", name="d"),
            WebhookChannel(f_url, "feishu", name="f"),
        ]
    )
    results = alert(feeder.db, config, "t1", clock=robots.clock)
    assert results["w"].ok and results["d"].ok and results["f"].ok and len(feishu.accepted) == 2
    assert wecom.answers[0] == 45009 and wecom.answers[-1] == 0 and len(wecom.accepted) == 2
    assert ding.answers[:2] == [130101, 130101] and len(ding.accepted) == 2
    assert 600 in robots.clock.slept  # the documented penalty was waited out


def test_a_part_whose_finding_changed_before_it_was_sent_is_never_sent_stale(feeder, robots):
    url, robot = robots.add("wecom")
    robot.refuse_once(lambda body: "青山区教育局" in body["markdown"]["content"], 500)
    _check(feeder)
    config = AlertConfig([WebhookChannel(url, "wecom", name="w")])
    first = alert(feeder.db, config, "t1", clock=robots.clock)["w"]
    assert first.untold == 2 and first.errors == ["第 1/1 部分：HTTP 500"]
    feeder.db.execute("update agencies set retired = '2024-06-30' where id = 'd'")  # d's 缺报 is resolved
    _check(feeder)
    second = alert(feeder.db, config, "t2", clock=robots.clock)["w"]
    assert second.ok and second.told == 1
    sent = robot.texts()[1:]
    assert len(sent) == 2 and all("青山区教育局" not in t for t in sent)  # never told, so its resolution is not news
    assert "青山区人民政府" in sent[1]
    assert feeder.db.execute("select count(*) from alert_parts where status = 'superseded'").fetchone()[0] == 1


def test_text_from_the_archive_cannot_carry_markup_into_a_robot_message():
    from archive.alert_text import finding_line

    row = {
        "region": "410702",
        "kind": "unparseable",
        "agency_name": "某局**[点此领取](http://evil.example/)**\n# 通知",
        "agency_key": "x",
        "year": 2024,
        "detail": '<font color="warning">failed</font>',
        "confidence": "high",
        "evidence": "http://p.example.gov.cn/a (1).html",
    }
    line = finding_line(row, Style(markdown=True))
    assert "\n" not in line and "](http://evil" not in line and "<font" not in line and "**" not in line
    assert line.endswith("[原文](http://p.example.gov.cn/a%20%281%29.html)")  # the one link is ours
    assert "[点此领取](http://evil.example/)" in finding_line(row, Style(markdown=False))  # plain text: shown as written


def test_places_are_rendered_in_one_function():
    assert place("410702") == "410702 河南省新乡市红旗区" and place(None) == "无区划"
    assert place("410799") == "410799 河南省新乡市"  # a code the data does not name: the region containing it


def test_a_withdrawn_report_links_its_archived_copy_at_the_archives_address(feeder, smtp, monkeypatch):
    from archive.compliance import ComplianceFinding

    controller, inbox = smtp
    sha = "ab" * 32
    withdrawn = ComplianceFinding(
        "withdrawn", "d", "青山区教育局", "431201", "department", 2024, "2025-01-31",
        "http://p/d.html 自 2025-05-02 起返回 HTTP 404（页面不存在）；最后一次抓到 2025-03-01，存档副本为证",
        evidence=f"/-/capture/{sha}",
    )  # fmt: skip
    record(feeder.db, 2024, [withdrawn], "t1")
    config = AlertConfig([office_mail(controller.port, monkeypatch)], archive_url="https://nianbao.example.gov.cn/")
    assert alert(feeder.db, config, "t1")["email"].told == 1
    _, message, _ = inbox.messages[0]
    assert message["Subject"] == "年报核查提醒：发布后撤下 1"
    link = f"https://nianbao.example.gov.cn/-/capture/{sha}"
    assert f"存档副本：{link}" in message.get_body(("plain",)).get_content()
    assert f'<a href="{link}">存档副本</a>' in message.get_body(("html",)).get_content()
    stored = feeder.db.execute("select evidence from compliance where kind = 'withdrawn'").fetchone()[0]
    assert stored == f"/-/capture/{sha}"  # the archive keeps its own path; only the message has the address
