"""``nianbao demo``: mock portals on loopback, a real crawl of them, the reports parsed, a summary."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from archive.render import fit

from .mock.server import MockServer
from .mock.world import config_yaml
from .reports import parse_reports, read_feed
from .runner import crawl
from .store import BlobStore

PROBLEM_NAMES = {"blocked": "被防火墙拦截（未破解）", "robots_disallowed": "robots.txt 禁止", "soft_404": "软 404（返回首页）",
                 "offsite": "重定向到站外", "redirect_loop": "重定向循环", "oversize": "附件超过大小上限",
                 "http_error": "HTTP 错误", "unreachable": "无法连接", "fetch_error": "抓取错误"}


def summarize(feed: list[dict], store: BlobStore, portal_names: dict[str, str]) -> list[str]:
    parsed = parse_reports(feed, store)
    problems = [r for r in feed if r["type"] == "problem"]
    lines = []
    by_portal: dict[str, list] = {}
    for p in parsed:
        by_portal.setdefault(p.record["portal"], []).append(p)
    for portal_id, name in portal_names.items():
        reports = sorted(by_portal.get(portal_id, []), key=lambda p: (-p.record["year"], p.record["agency_name"] or ""))
        lines.append(f"\n{portal_id} · {name}：{len(reports)} 份年报")
        if reports:
            lines.append("  " + fit("机关", 30) + fit("年度", 6) + fit("发布日期", 12) + fit("来源", 22)
                         + fit("单元格", 8, ">") + "  核查")
        for p in reports:
            r = p.record
            found = Counter(f.severity for f in p.report.findings) if p.report else Counter()
            check = "、".join(f"{n} {k}" for k, n in (("错误", found["error"]), ("警告", found["warning"])) if n) or "通过"
            if p.report is None:
                check = "未能解析：" + "; ".join(p.errors)[:40]
            sources = "+".join(dict.fromkeys(s.label.split(":")[0] for s in p.sources)) or "—"
            cells = len(p.report.cells) if p.report else 0
            who = r["agency_name"] or "（未识别）"
            if r["agency_id"] is None:
                who += "*"
            lines.append("  " + fit(who, 30) + fit(str(r["year"]), 6) + fit(r["published"] or "?", 12)
                         + fit(f"{sources}（{p.used or '—'}）", 22) + fit(str(cells), 8, ">") + "  " + check)
        for problem in (x for x in problems if x["portal"] == portal_id):
            lines.append(f"  ! {PROBLEM_NAMES.get(problem['kind'], problem['kind'])}：{problem['url']}")
    return lines


def run_demo(workdir: Path, echo=print) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    echo("启动模拟门户（127.0.0.1 回环地址，每个门户一个地址）…")
    with MockServer("demo") as mock:
        config = workdir / "config.yaml"
        config.write_text(config_yaml(mock.world), encoding="utf-8")
        echo(f"{len(mock.world.portals)} 个模拟门户，端口 {mock.port}；配置写入 {config}")
        started = time.monotonic()
        stats, feed_path = crawl(config, workdir / "data", log_level="ERROR")
        elapsed = time.monotonic() - started
    feed = read_feed(feed_path)
    counts = Counter(r["type"] for r in feed)
    echo(f"抓取完成：{stats.get('downloader/request_count', 0)} 次请求，{elapsed:.1f} 秒；"
         f"年报 {counts['report']} 份，原始抓取 {counts['capture']} 份，问题 {counts['problem']} 个")
    echo(f"抓取记录（JSON Lines）：{feed_path}")
    names = {p.id: f"{p.county}政府信息公开年报（{p.configured_family}）" for p in mock.world.portals}
    for line in summarize(feed, BlobStore(workdir / "data" / "blobs"), names):
        echo(line)
    echo("\n* 配置中没有的机关（名称取自标题）")
    return 0 if counts["report"] else 1
