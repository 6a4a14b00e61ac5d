"""End to end, as cron runs it: ``nianbao run`` against the mock portals (real HTTP on
loopback), alerts to a real SMTP server and a real webhook receiver.

The mock world knows the truth: which agencies published nothing for 2024,
which published after their deadline, which portals are blocked, which reports
are listed but cannot be read, which are scans, and which carry numbers that
do not add up. The findings must be exactly those, and the alerts must tell
each once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from archive.lock import RunLock
from archive.schema import open_archive
from crawler.mock.world import World, config_yaml

EXIT_LOCKED = 75
EXIT_UNDELIVERED = 3
# the mock world's copy of seed 000 misprints 表三's (七) 总计 (crawler/mock/data/bases.json):
# every report made from it fails the table's sums
INCONSISTENT_BASES = {"seed000.txt"}


def expected_findings(world: World, year: int) -> set[tuple[str, str]]:
    out = set()
    for portal in world.portals:
        if portal.hostile:  # robots / WAF: never "missing"
            out |= {("unreachable", a.id) for a in portal.agencies}
            continue
        published = {i.agency.id for i in portal.items if i.report and i.year == year}
        unseen = "unreachable" if portal.hidden else "missing"  # a list not fully read accuses nobody
        out |= {(unseen, a.id) for a in portal.agencies if a.id not in published}
        for item in portal.items:
            if not item.report or item.year != year:
                continue
            if item.id in portal.hidden:  # on the list, where no crawl can read it
                out.add(("unreachable", item.agency.id))
                continue
            if item.special in ("soft404", "offhost", "loop"):  # listed, but the page cannot be read
                out.add(("unreachable" if item.title_agency else "missing", item.agency.id))
                continue
            due = date(year + 1, 1, 31) if item.agency.level == "department" else date(year + 1, 3, 31)
            if item.published > due:
                out.add(("late", item.agency.id))
            if item.fmt == "image":
                out.add(("unparseable", item.agency.id))
            elif item.base.name in INCONSISTENT_BASES:
                out.add(("inconsistent", item.agency.id))
    return out


def _datasette(data: Path, path: str) -> list[dict]:
    """Rows as Datasette serves them (the same metadata as ``nianbao serve``)."""
    import asyncio
    from urllib.parse import quote

    from archive.web import make_datasette

    async def get():
        ds = make_datasette(data / "archive.db")
        response = await ds.client.get(f"/archive/{quote(path, safe='/?=&.')}&_shape=array")
        assert response.status_code == 200, response.text
        return response.json()

    return asyncio.run(get())


def _run(config: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scheduler", "run", "--config", str(config), "--data", str(data), "--today", "2025-05-01", *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def setup(tmp_path, mock, smtp, hook):
    controller, inbox = smtp
    base, received = hook
    config = tmp_path / "config.yaml"
    config.write_text(
        config_yaml(mock.world)
        + f"""alerts:
  log: false
  email: {{host: 127.0.0.1, port: {controller.port}, security: none, from: nianbao@example.org, to: [zwgk@example.gov.cn]}}
  webhooks:
    - {{name: ops, kind: generic, url: "{base}/hook"}}
""",
        encoding="utf-8",
    )
    return config, tmp_path / "data", inbox, received


def test_one_cycle_finds_exactly_what_the_world_holds_and_alerts_once(setup, mock):
    config, data, inbox, received = setup
    first = _run(config, data)
    assert first.returncode == 0, first.stderr[-3000:]
    db = open_archive(data / "archive.db")
    found = {(r["kind"], r["agency_key"]) for r in db.query("select kind, agency_key from compliance where year = 2024")}
    expected = expected_findings(mock.world, 2024)
    assert {k for k, _ in expected} >= {"missing", "late", "unreachable", "inconsistent", "unparseable"}
    assert found == expected
    assert "运行完成" in first.stdout and "与上次核查相比：新增" in first.stdout

    # one digest per channel (for the webhook: a summary, then the details), every finding in it once
    assert len(inbox.messages) == 1 and [body["type"] for _, body in received] == ["summary", "detail"]
    _, message, _ = inbox.messages[0]
    body = message.get_body(("plain",)).get_content()
    names = {r["agency_key"]: r["agency_name"] for r in db.query("select agency_key, agency_name from compliance")}
    for _kind, key in expected:
        assert names[key] in body
    told = [(f["kind"], f["agency_key"]) for f in received[1][1]["findings"]]
    assert sorted(told) == sorted(expected)
    assert "提醒 ops：已告知" in first.stdout

    # an unreadable list: its agencies are unreachable with the evidence (URL and class),
    # in the archive, the email, the webhook and Datasette — never missing
    for portal_id, name in (("unreadable-17", "列表无法解读"), ("jspager-18", "分页无法跟进")):
        portal = mock.world.portal(portal_id)
        url = portal.start_urls[0]
        rows = list(db.query("select * from compliance where year = 2024 and evidence = ?", [url]))
        assert rows and all(r["kind"] == "unreachable" and name in r["detail"] for r in rows)
        assert {r["agency_key"] for r in rows} == {i.agency.id for i in portal.items if i.id in portal.hidden and i.year == 2024}
        assert name in body and url in body
        hooked = [f for f in received[1][1]["findings"] if f["evidence"] == url]
        assert len(hooked) == len(rows) and all(name in f["detail"] for f in hooked)
    assert _datasette(data, "compliance.json?kind=unreachable&evidence=" + mock.world.portal("unreadable-17").start_urls[0])
    walks = _datasette(data, "list_walks.json?warning=list_unreadable")
    assert [w["portal"] for w in walks] == ["unreadable-17"]

    # the next run finds the same and tells nobody anything
    second = _run(config, data)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "新增 0，变化 0，已解决 0" in second.stdout and "提醒 ops：没有新内容" in second.stdout
    assert len(inbox.messages) == 1 and len(received) == 2
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_overlapping_run_is_refused(setup):
    config, data, inbox, received = setup
    with RunLock(data):
        refused = _run(config, data)
    assert refused.returncode == EXIT_LOCKED
    assert "另一次运行正在进行" in refused.stderr and "Traceback" not in refused.stderr
    assert not (data / "archive.db").exists()  # nothing was crawled or written
    assert inbox.messages == [] and received == []


def test_alerts_that_do_not_arrive_fail_the_run_and_say_so(tmp_path, mock, monkeypatch):
    from servers import free_port

    config = tmp_path / "config.yaml"
    config.write_text(
        config_yaml(mock.world)
        + "alerts:\n  log: false\n  webhooks:\n    - {name: office, kind: wecom, url_env: NB_ROBOT_URL}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("NB_ROBOT_URL", f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key=TOKEN-5e2b77aa")
    out = _run(config, tmp_path / "data", "--portal", "trs-0")
    assert out.returncode == EXIT_UNDELIVERED, out.stderr[-3000:]
    assert "运行完成" in out.stdout and "与上次核查相比" in out.stdout  # the rest of the summary is still there
    assert "提醒 office：" in out.stderr and "条未送达（下次运行重发）" in out.stderr and "无法连接" in out.stderr
    assert "TOKEN-5e2b77aa" not in out.stdout + out.stderr and "Traceback" not in out.stderr


def test_run_reports_a_bad_config_line(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("portals: []\nagencies: []\nschedule:\n  jobs:\n    - {id: x, cron: '0 3 * * 1'}\n", encoding="utf-8")
    out = _run(bad, tmp_path / "data")
    assert out.returncode == 1
    assert f"{bad}:5: schedule.jobs[0].cron:" in out.stderr and "mon … sun" in out.stderr


def test_findings_as_json_for_scripts(setup, mock):
    config, data, *_ = setup
    assert _run(config, data, "--no-alert").returncode == 0
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "scheduler",
            "check",
            "--data",
            str(data),
            "--config",
            str(config),
            "--year",
            "2024",
            "--today",
            "2025-05-01",
            "--json",
            "--fail-on",
            "missing",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1  # there is a missing report
    kinds = {json.loads(line)["kind"] for line in out.stdout.splitlines()}
    assert "missing" in kinds and "late" in kinds
    text = subprocess.run([a for a in out.args if a != "--json"], capture_output=True, text=True, timeout=120).stdout
    evidence = mock.world.portal("unreadable-17").start_urls[0]
    assert "门户无法访问" in text and "列表无法解读" in text and f"证据：{evidence}" in text


def test_progress_is_a_bar_on_a_terminal_and_lines_in_a_log():
    import io

    from archive.progress import Progress

    term = io.StringIO()
    bar = Progress("抓取", stream=term, tty=True, interval=0, unit=" 个网址")
    bar.update(5, 20)
    bar.update(20, 20)
    bar.close("20 次请求")
    out = term.getvalue()
    assert out.count("\r\033[K") == 3 and "20/20 个网址 100%" in out and out.endswith("抓取：20 次请求（0.0 秒）\n")
    log = io.StringIO()
    lines = Progress("解析入库", stream=log, tty=False, interval=3600)
    for done in range(1, 101):
        lines.update(done, 100)  # rate-limited: one line, not a hundred
    lines.close("100 份")
    text = log.getvalue()
    assert "\r" not in text and len(text.splitlines()) == 2 and "解析入库：1/100" in text
