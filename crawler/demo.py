"""``nianbao demo``: mock portals on loopback, a real crawl of them, the reports parsed, a summary."""

from __future__ import annotations

import json
import time
from pathlib import Path

import sqlite_utils

from archive.list_walks import WARNING_NAMES
from archive.render import fit
from archive.schema import open_archive

from .mock.server import MockServer
from .mock.world import config_yaml
from .runner import crawl

PROBLEM_NAMES = {
    "blocked": "被防火墙拦截（未破解）",
    "robots_disallowed": "robots.txt 禁止",
    "soft_404": "软 404（返回首页）",
    "offsite": "重定向到站外",
    "redirect_loop": "重定向循环",
    "oversize": "附件超过大小上限",
    "http_error": "HTTP 错误",
    "unreachable": "无法连接",
    "fetch_error": "抓取错误",
    "forbidden_address": "解析到内网/本机地址（拒绝访问）",
}


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


def run_demo(workdir: Path, echo=print) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    echo("启动模拟门户（127.0.0.1 回环地址，每个门户一个地址）…")
    with MockServer("demo") as mock:
        config = workdir / "config.yaml"
        config.write_text(config_yaml(mock.world), encoding="utf-8")
        echo(f"{len(mock.world.portals)} 个模拟门户，端口 {mock.port}；配置写入 {config}")
        started = time.monotonic()
        crawl(config, workdir / "data", log_level="ERROR")
        elapsed = time.monotonic() - started
    db = open_archive(workdir / "data" / "archive.db")
    run = next(db.query("select * from crawl_runs order by id desc limit 1"))
    echo(
        f"抓取完成：{run['requests'] or 0} 次请求，{elapsed:.1f} 秒；"
        f"年报 {run['reports']} 份，原始抓取 {run['captures']} 份，问题 {run['problems']} 个"
    )
    echo(f"归档数据库：{workdir / 'data' / 'archive.db'}（nianbao serve --data {workdir / 'data'} 可浏览）")
    names = {p.id: f"{p.county}政府信息公开年报（{p.configured_family}）" for p in mock.world.portals}
    for line in summarize(db, run["id"], names):
        echo(line)
    echo("\n* 配置中没有的机关（名称取自标题）")
    return 0 if run["reports"] else 1
