"""``nianbao demo``: mock portals on loopback, a real crawl of them (with progress),
the reports parsed, a summary per portal, then the check's answer (who is missing,
late, unreachable or inconsistent, by region) and the command to browse it all.

The alerts go out as in a real run; a second run finds nothing new to send, and
``--dry-run`` sends nothing at all."""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from pathlib import Path

import sqlite_utils

from archive.alerts import alert
from archive.answer import answer_lines, counts_line
from archive.compliance import check_year, record
from archive.list_walks import WARNING_NAMES
from archive.names import PROBLEM_NAMES
from archive.render import fit
from archive.schema import open_archive
from archive.store import now

from .config import load_config
from .mock.server import MockServer
from .mock.world import config_yaml
from .runner import crawl

ANSWER_KINDS = ("missing", "late", "unreachable", "inconsistent")


def summarize(db: sqlite_utils.Database, run_id: int, portal_names: dict[str, str]) -> list[str]:
    """What one crawl run found, per portal, read back from the archive."""
    lines = []
    for portal_id, name in portal_names.items():
        reports = list(
            db.query(
                """select r.*, s.agency_id as seen_id,
                      (select group_concat(distinct case role when 'page' then 'page' when 'part' then 'page' else kind end)
                       from report_sources where report_id = r.id) as roles,
                      (select case role when 'page' then 'page' else kind end from report_sources
                       where report_id = r.id and used) as used_role,
                      (select count(*) from cells where report_id = r.id) as n_cells
               from reports r join sightings s on s.report_id = r.id
               where s.run_id = ? and s.portal = ? group by r.id
               order by r.year desc, r.agency_name""",
                [run_id, portal_id],
            )
        )
        lines.append(f"\n{portal_id} · {name}：{len(reports)} 份年报")
        if reports:
            lines.append(
                "  " + fit("机关", 30) + fit("年度", 6) + fit("发布日期", 12) + fit("来源", 22) + fit("单元格", 8, ">") + "  核查"
            )
        for r in reports:
            check = "、".join(f"{n} {k}" for k, n in (("错误", r["errors"]), ("警告", r["warnings"])) if n) or "通过"
            if r["parse_status"] in ("failed", "no_source"):
                check = "未能解析：" + (r["parse_error"] or "没有可读的来源")[:40]
            if r["ocr_pages"]:
                check += f"（扫描件，OCR 识别 {len(json.loads(r['ocr_pages']))} 页）"
            who = (r["agency_name"] or "（未识别）") + ("" if r["seen_id"] else "*")
            sources = "+".join((r["roles"] or "—").split(","))
            lines.append(
                "  "
                + fit(who, 30)
                + fit(str(r["year"]), 6)
                + fit(r["published"] or "?", 12)
                + fit(f"{sources}（{r['used_role'] or '—'}）", 22)
                + fit(str(r["n_cells"]), 8, ">")
                + "  "
                + check
            )
        for problem in db.query(
            "select kind, url from problems where run_id = ? and portal = ? order by id", [run_id, portal_id]
        ):
            lines.append(f"  ! {PROBLEM_NAMES.get(problem['kind'], problem['kind'])}：{problem['url']}")
        for walk in db.query(
            "select * from list_walks where run_id = ? and portal = ? and seen = 'partial' and warning != 'list_failed' "
            "order by id",
            [run_id, portal_id],
        ):
            lines.append(f"  ! {WARNING_NAMES[walk['warning']]}（不计缺报）：{walk['detail']} {walk['warning_url']}")
    return lines


def check_and_alert(db: sqlite_utils.Database, config_path: Path, year: int, dry_run: bool, echo) -> None:
    """The check's answer for the year, by region, then what the alerts did."""
    config = load_config(config_path)
    findings = check_year(db, year, config.deadlines, date.today())
    changes = record(db, year, findings, now())
    echo(f"\n核查结果（{year} 年度，与 nianbao check --year {year} 相同）：")
    for line in answer_lines(db, findings, ANSWER_KINDS):
        echo(line)
    echo("\n" + counts_line(year, findings))
    echo(f"与上次核查相比：新增 {len(changes['new'])}，变化 {len(changes['changed'])}，已解决 {len(changes['resolved'])}")
    logging.getLogger("nianbao.alerts").addHandler(logging.NullHandler())  # the digest is the answer above
    for channel, result in alert(db, config.alerts, now(), year, dry_run).items():
        if dry_run:
            echo(f"提醒（{channel}）：演练，不发送；" + (f"有 {result.untold} 条待发送" if result.untold else "没有新的提醒"))
        elif result.errors:
            echo(f"提醒（{channel}）：{result.untold} 条未送达，下次重发：" + "；".join(result.errors))
        else:
            echo(f"提醒（{channel}）：" + (f"已发送 {result.told} 条" if result.told else "没有新的提醒（已发送过的不再发送）"))


def run_demo(workdir: Path, echo=print, dry_run: bool = False) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    echo("启动模拟门户（127.0.0.1 回环地址，每个门户一个地址）…")
    with MockServer("demo") as mock:
        config = workdir / "config.yaml"
        config.write_text(config_yaml(mock.world), encoding="utf-8")
        echo(f"{len(mock.world.portals)} 个模拟门户，端口 {mock.port}；配置写入 {config}")
        started = time.monotonic()
        crawl(config, workdir / "data", log_level="ERROR", NIANBAO_PROGRESS=True)
        elapsed = time.monotonic() - started
        year = max(i.year for p in mock.world.portals for i in p.items if i.report)
    db = open_archive(workdir / "data" / "archive.db")
    run = next(db.query("select * from crawl_runs order by id desc limit 1"))
    echo(
        f"抓取完成：{run['requests'] or 0} 次请求，{elapsed:.1f} 秒；"
        f"年报 {run['reports']} 份，原始抓取 {run['captures']} 份，问题 {run['problems']} 个"
    )
    names = {p.id: f"{p.county}政府信息公开年报（{p.configured_family}）" for p in mock.world.portals}
    for line in summarize(db, run["id"], names):
        echo(line)
    echo("\n* 配置中没有的机关（名称取自标题）")
    check_and_alert(db, config, year, dry_run, echo)
    echo(f"\n归档数据库：{workdir / 'data' / 'archive.db'}")
    echo(f"浏览归档（首页、年报原样表格、全文检索）：nianbao serve --data {workdir / 'data'}")
    echo("然后在浏览器打开 http://127.0.0.1:8001/")
    return 0 if run["reports"] else 1
