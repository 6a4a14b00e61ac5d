"""The ``nianbao`` command line and its APScheduler jobs."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import click

from archive.cli_help import Group, option
from archive.errors import NianbaoError
from archive.isolation import Budget

EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the data directory; try again later
EXIT_UNDELIVERED = 3  # some alerts did not arrive (they are sent again by the next run)
log = logging.getLogger("nianbao.schedule")

REPORT_SUFFIXES = {".pdf", ".html", ".htm", ".shtml", ".txt", ".md", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et"}
REPORT_SUFFIXES |= {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}  # scanned pages, read by OCR


def shown_queue(url: str) -> str:
    """A queue's address as printed or logged: its password replaced by ***."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _expand(paths: tuple[str, ...]) -> list[Path]:
    """Files as given, and report files under directories (sorted, recursive; READMEs skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() in REPORT_SUFFIXES and not f.name.upper().startswith("README")
            )
        else:
            out.append(p)
    return out


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nianbao", message="%(prog)s %(version)s", help="显示版本号并退出。")
def cli() -> None:
    """nianbao（年报）：政府信息公开工作年度报告的归档、解析与核查。"""


def _budget_options(fn):
    """--wall-seconds, --cpu-seconds, --memory-mb: one document's parse budget."""
    default = Budget()
    for name, metavar, kind, what in reversed(
        (
            (
                "--wall-seconds",
                "秒数",
                click.FloatRange(min=1),
                f"解析一份文件最多用时（秒，按实际经过的时间计；默认 {default.wall_seconds:g}）。",
            ),
            (
                "--cpu-seconds",
                "秒数",
                click.FloatRange(min=1),
                f"解析一份文件最多占用的 CPU 时间（秒；默认 {default.cpu_seconds:g}）。",
            ),
            ("--memory-mb", "MB", click.IntRange(min=256), f"每个解析进程最多使用的内存（MB；默认 {default.memory_mb}）。"),
        )
    ):
        fn = option(name, metavar=metavar, type=kind, help=what)(fn)
    return fn


def _budget(base, wall_seconds: float | None, cpu_seconds: float | None, memory_mb: int | None):
    """``base`` (the config's parse budget) with the options given on the command line."""
    from dataclasses import replace

    given = {"wall_seconds": wall_seconds, "cpu_seconds": cpu_seconds, "memory_mb": memory_mb}
    return replace(base, **{k: v for k, v in given.items() if v is not None})


_OCR_PAGES = option(
    "--ocr-pages",
    metavar="页数",
    type=click.IntRange(min=0),
    envvar="NIANBAO_OCR_MAX_PAGES",
    show_envvar=True,
    help="每份文件最多用 OCR 识别多少页扫描页（默认 30；0 表示不做 OCR）。",
)


class _OcrProgress:
    """A progress line for the OCR of one file, drawn (by the parse worker, on the same
    terminal) once OCR starts: it is slow."""

    def __init__(self, name: str):
        self.name = name
        self.bar = None

    def __call__(self, done: int) -> None:
        from archive.progress import Progress

        if self.bar is None:
            self.bar = Progress(f"OCR 识别 {self.name}", unit=" 页")
        self.bar.update(done, force=True)


def _parse_one(path: Path, ocr_pages: int | None):
    """One file parsed, with OCR's progress (a parse worker's job)."""
    from archive.extract import OcrOptions
    from archive.parse import parse_file

    progress = _OcrProgress(path.name)
    ocr = OcrOptions(on_page=progress)
    if ocr_pages is not None:
        ocr.max_pages = ocr_pages
    try:
        report = parse_file(path, ocr)
    except BaseException:
        if progress.bar is not None:
            progress.bar.close("中断")
        raise
    if progress.bar is not None:
        progress.bar.close(f"{len(report.ocr['pages'])} 页" if report.ocr else "完成")
    return report


@cli.command()
@click.argument("files", metavar="文件或目录...", nargs=-1, required=True, type=click.Path())
@option("--json", "as_json", is_flag=True, help="以 JSON Lines 输出：每行一份年报的标准数据对象。")
@_OCR_PAGES
@_budget_options
def parse(files: tuple[str, ...], as_json: bool, ocr_pages: int | None, wall_seconds, cpu_seconds, memory_mb) -> None:
    """把年报文件解析成标准表格。

    可以给出文件，也可以给出目录（递归查找其中的年报文件）。支持 PDF、HTML、DOCX、DOC/WPS、
    XLSX、纯文本和扫描图片。每个文件在单独的解析进程中、按预算（用时、CPU、内存）解析：
    打不开、超出预算或使解析进程崩溃的文件会在标准错误中说明，退出码为 1，其余文件照常解析。
    扫描页（没有文字层的 PDF 页面、JPG/PNG/TIFF 图片、Word 文件中的图片）用 OCR 识别；
    加 --json 时，OCR 读出的单元格及其置信度放在附加键 "ocr" 下。

    示例：

    \b
        nianbao parse report.pdf scans/ --json > reports.jsonl
        nianbao parse --cpu-seconds 600 big-scan.pdf
    """
    from archive.isolation import Isolated
    from archive.render import render

    failed = 0
    paths = _expand(files)
    if not paths:
        raise click.UsageError("没有找到年报文件")
    with Isolated(_budget(Budget(), wall_seconds, cpu_seconds, memory_mb)) as pool:
        for i, path in enumerate(paths):
            try:
                report = pool.submit(_parse_one, path, ocr_pages).result().result()
            except NianbaoError as e:
                failed += 1
                click.echo(f"nianbao: {path}: {e}", err=True)
                continue
            _echo_report(report, path, i, as_json, render)
    if failed:
        sys.exit(1)


def _echo_report(report, path: Path, i: int, as_json: bool, render) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        if i:
            click.echo()
        click.echo(render(report, str(path)))


_QUEUE = option(
    "--queue",
    metavar="队列地址",
    envvar="NIANBAO_QUEUE",
    show_envvar=True,
    help="把抓取拆成任务放进这个队列（如 redis://host:6379/0），由任意机器上的 `nianbao worker` 执行，"
    "本进程负责写入归档；不给出时全部在本机运行。",
)
_PORTAL = option("--portal", "portals", metavar="门户编号", multiple=True, help="只处理这个门户网站（可多次给出）。")
_LOG_LEVEL = option(
    "--log-level",
    metavar="级别",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    help="日志详细程度：DEBUG、INFO、WARNING 或 ERROR。",
)


def config_option(help: str):
    """``--config``, the same everywhere but for what the command reads from it."""
    return option(
        "--config", "config_path", metavar="文件", default="config.yaml", show_default=True, type=click.Path(), help=help
    )


def data_option(help: str):
    """``--data``, the same everywhere but for what the command keeps there."""
    return option("--data", "data_dir", metavar="目录", default="data", show_default=True, type=click.Path(), help=help)


@cli.command("crawl")
@config_option("配置文件：要抓取的门户网站和机关（见 config.yaml）。")
@_PORTAL
@data_option("存放原始抓取内容、抓取状态和记录文件的目录。")
@option("--feed", metavar="文件", type=click.Path(), help="另把本次抓取的记录以 JSON Lines 写到这个文件。")
@option(
    "--workers",
    metavar="个数",
    type=int,
    help="抓取进程数（默认取配置中的 crawl.workers；未配置时，每个进程超过 50 个门户网站才按 CPU 核数增加进程）；"
    "加 --queue 时为任务数（默认：每个在线的 worker 一个）。",
)
@_QUEUE
@_LOG_LEVEL
def crawl_command(
    config_path: str,
    portals: tuple[str, ...],
    data_dir: str,
    feed: str | None,
    workers: int | None,
    queue: str | None,
    log_level: str,
) -> None:
    """抓取配置中各门户网站的年报栏目。

    抓取遵守礼貌限速；再次运行时只抓新增和变化的内容。年报边抓取边解析入库。
    加 --queue 时由队列的 worker 抓取，本进程把它们陆续送回的记录写入归档（进度显示已完成的任务）。

    示例：

    \b
        nianbao crawl --config config.yaml --data data
        nianbao crawl --queue redis://10.0.0.5:6379/0 --data data
    """
    from archive.lock import RunLock, RunLocked
    from crawler.runner import crawl

    if queue and feed:
        raise click.UsageError("--feed 不能与 --queue 同时使用（所有记录都在归档中）")
    try:
        with RunLock(data_dir):
            stats, feed_path = crawl(
                config_path, data_dir, list(portals) or None, feed, log_level, workers, queue, NIANBAO_PROGRESS=True
            )
    except RunLocked as e:
        click.echo(f"nianbao: {e}", err=True)
        sys.exit(EXIT_LOCKED)
    except NianbaoError as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"年报 {stats.get('nianbao/reports', 0)} 份，请求 {stats.get('downloader/request_count', 0)} 次；"
        f"归档：{Path(data_dir) / 'archive.db'}" + (f"；记录文件：{feed_path}" if feed_path else "")
    )
    _exit_if_unstored(stats)


def _exit_if_unstored(stats: dict) -> None:
    """Exit status 1, saying how many and why, when reports found could not be stored."""
    from crawler.cycle import unstored_text

    text = unstored_text(stats)
    if text:
        click.echo(f"nianbao: 归档不完整：{text}；已抓取的内容不会丢失，腾出空间或排除故障后再次运行即可补存", err=True)
        sys.exit(1)


@cli.command()
@option(
    "--dir",
    "workdir",
    metavar="目录",
    default="nianbao-demo",
    show_default=True,
    type=click.Path(),
    help="演示用的工作目录：存放演示配置、抓取内容和记录文件。",
)
@option("--dry-run", is_flag=True, help="不发送提醒，只显示将会发送的内容。")
def demo(workdir: str, dry_run: bool) -> None:
    """用本机模拟的门户网站完整演示一遍。

    在 127.0.0.1 上启动模拟门户网站，抓取并解析其中的年报，核查缺报、迟报、无法访问和勾稽不符，
    最后说明如何浏览结果。

    示例：

    \b
        nianbao demo
        nianbao demo --dir /tmp/nianbao-demo --dry-run
    """
    from crawler.demo import run_demo

    sys.exit(run_demo(Path(workdir), click.echo, dry_run))


def _archive(data_dir: str):
    from archive.schema import SchemaError, open_archive

    path = Path(data_dir) / "archive.db"
    if not path.exists():
        raise click.ClickException(f"{path}：这里没有归档（请先运行 `nianbao crawl`，或用 --data 指定数据目录）")
    try:
        return open_archive(path)
    except SchemaError as e:
        raise click.ClickException(str(e)) from None


_CONFIG = config_option("配置文件：门户网站、机关、发布期限、提醒和运行计划。")
_DATA = data_option("数据目录（存放 archive.db 和 blobs/）。")
_YEAR = option("--year", metavar="年度", type=int, required=True, help="年报的报告年度。")
_TODAY = option("--today", metavar="年-月-日", type=click.DateTime(["%Y-%m-%d"]), help="按这一天判断（默认今天）。")
_REGION = option(
    "--region",
    metavar="地区",
    default="",
    help="只看这个地区：地区名称（新乡市、河南省新乡市红旗区）或行政区划代码前缀（4107）；默认不限地区。",
)


def _region_prefix(db, region: str) -> str:
    """The code prefix for --region (a name or a code), or a usage error saying why not."""
    from archive.regions import RegionError, resolve

    try:
        return resolve(db, region)
    except RegionError as e:
        raise click.BadParameter(str(e), param_hint="--region") from None


@cli.command()
@_DATA
@option("--host", metavar="地址", default="127.0.0.1", show_default=True, help="监听的地址；0.0.0.0 表示允许其他机器访问。")
@option("--port", metavar="端口", default=8001, show_default=True, type=int, help="监听的端口。")
def serve(data_dir: str, host: str, port: int) -> None:
    """在浏览器中查阅归档（Datasette，只读）。

    首页按年度和地区汇总；每份年报按原样排版显示；另有全文检索、预置查询和存档原件。

    示例：

    \b
        nianbao serve --data data/ --port 8001
    """
    import asyncio

    import uvicorn

    from archive.web import make_datasette

    _archive(data_dir).close()  # create/upgrade the schema before Datasette opens it
    ds = make_datasette((Path(data_dir) / "archive.db").resolve())
    asyncio.run(ds.invoke_startup())
    click.echo(f"年报归档：http://{host}:{port}/ （只读；Ctrl-C 结束）")
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")


@cli.command()
@_DATA
@_CONFIG
@option(
    "--workers", metavar="个数", type=int, default=0, help="解析进程数（默认取配置中的 parse.workers；未配置时为 CPU 核数减一）。"
)
@_OCR_PAGES
@_budget_options
def reparse(data_dir: str, config_path: str, workers: int, ocr_pages: int | None, wall_seconds, cpu_seconds, memory_mb) -> None:
    """用当前的解析程序重新解析已归档的全部年报。

    同时把尚未入库的抓取内容入库。此前 OCR 识别过的扫描页取自缓存（data/ocr），不再重新识别。
    某份年报若有文件超出解析预算，保留原先的解析结果（除非原先也解析失败）；提高预算即可解析。

    示例：

    \b
        nianbao reparse --data data --workers 2
        nianbao reparse --data data --cpu-seconds 600 --memory-mb 4096
    """
    from archive.ingest import default_workers, ingest
    from archive.ingest import reparse as run_reparse
    from archive.progress import Progress
    from crawler.config import load_config

    config = None
    if Path(config_path).exists():
        try:
            config = load_config(config_path)
        except NianbaoError as e:
            raise click.ClickException(str(e)) from None
    budget = _budget(config.parse if config else Budget(), wall_seconds, cpu_seconds, memory_mb)
    workers = workers or (config.parse_workers if config else 0) or default_workers()
    db = _archive(data_dir)
    bar = Progress("重新解析", unit=" 份")
    show = lambda result, total: bar.update(result.reports, total, result.ocr_note())
    pending = ingest(db, Path(data_dir) / "blobs", workers=workers, budget=budget, ocr_max_pages=ocr_pages)
    done = run_reparse(db, Path(data_dir) / "blobs", workers=workers, budget=budget, on_progress=show, ocr_max_pages=ocr_pages)
    note = "，" + done.ocr_note() if done.ocr_pages else ""
    kept = f"；{done.kept} 份因超出解析预算保留原解析结果" if done.kept else ""
    bar.close(f"{done.reports} 份年报（另入库待处理 {pending.reports} 份{note}）{kept}")
    if pending.unstored:
        click.echo(f"nianbao: {pending.unstored} 份年报仍未能入库", err=True)
        sys.exit(1)


@cli.command("export")
@_DATA
@_YEAR
@_REGION
@option(
    "--format", "fmt", metavar="格式", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True, help="csv 或 xlsx。"
)
@option("--out", metavar="文件", type=click.Path(), help="输出文件（默认 nianbao-年度[-地区代码].格式）。")
def export_command(data_dir: str, year: int, region: str, fmt: str, out: str | None) -> None:
    """导出某年度的年报数据表，每个应报机关一行。

    每行包括该机关的核查结论（即 `nianbao check` 的结果）和三张表格的全部单元格。

    示例：

    \b
        nianbao export --data data/ --year 2024 --region 新乡市 --format xlsx
    """
    from archive.export import ExportError, export

    db = _archive(data_dir)
    prefix = _region_prefix(db, region)
    out = out or f"nianbao-{year}{'-' + prefix if prefix else ''}.{fmt}"
    try:
        rows = export(db, year, out, fmt, prefix)
    except ExportError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{rows} 个机关 → {out}")


@cli.command("export-warc")
@_DATA
@click.argument("out", metavar="输出文件", type=click.Path())
@option("--run", "run_id", metavar="批次", type=int, help="只导出这一抓取批次的内容。")
def export_warc_command(data_dir: str, out: str, run_id: int | None) -> None:
    """把原始抓取内容导出为 WARC 文件，供网页存档工具使用。

    每条记录单独以 gzip 压缩，可通过 `warcio check` 校验。

    示例：

    \b
        nianbao export-warc --data data/ nianbao-2024.warc.gz
        nianbao export-warc --data data/ --run 12 run-12.warc.gz
    """
    from archive.blobs import BlobStore
    from archive.warc import export_warc

    counts = export_warc(_archive(data_dir), BlobStore(Path(data_dir) / "blobs"), out, run_id)
    click.echo(
        f"{counts['response']} 条 response 记录、{counts['revisit']} 条 revisit 记录 → {out}"
        + (f"；{counts['missing']} 份抓取内容在 blobs/ 中缺失" if counts["missing"] else "")
    )


def _deadlines(config_path: str):
    from archive.deadlines import Deadlines
    from crawler.config import load_config

    if not Path(config_path).exists():
        return Deadlines()
    try:
        return load_config(config_path).deadlines
    except NianbaoError as e:
        raise click.ClickException(str(e)) from None


@cli.command()
@_DATA
@config_option("配置文件，取其中的发布期限规则（文件不存在时按法定期限）。")
@_YEAR
@_REGION
@option("--json", "as_json", is_flag=True, help="以 JSON Lines 输出：每行一条核查结论。")
@option(
    "--fail-on",
    metavar="类别",
    default="",
    help="出现这些类别（用逗号分隔，如 missing,late）的结论时，退出码为 1。",
)
@_TODAY
@option("--alert", "send_alerts", is_flag=True, help="发送提醒：新增、变化和已解决的结论汇总。")
@option("--dry-run", is_flag=True, help="与 --alert 同用：只显示将会发送的内容，不发送。")
def check(
    data_dir: str, config_path: str, year: int, region: str, as_json: bool, fail_on: str, today, send_alerts: bool, dry_run: bool
) -> None:
    """核查某年度的缺报、迟报、勾稽不符等问题。

    核查的类别：缺报、无法访问、已撤下、已迁移、迟报、被替换、无法解析、勾稽不符和跨年度不符。
    结论会保存下来，各处（Datasette、导出文件、提醒）显示的都是这一结论。
    加 --alert 时，每个已配置的提醒渠道收到它尚未收到的内容；有提醒未送达时退出码为 3
    （下次会重发）。

    示例：

    \b
        nianbao check --year 2024 --region 新乡市
        nianbao check --year 2024 --alert --dry-run
    """
    from datetime import date

    from archive.answer import answer_lines, counts_line
    from archive.compliance import KINDS, archive_gap, check_year, record
    from archive.store import now

    wanted = {k.strip() for k in fail_on.split(",") if k.strip()}
    if wanted - set(KINDS):
        raise click.BadParameter(
            f"未知的类别 {', '.join(sorted(wanted - set(KINDS)))}（可用：{', '.join(KINDS)}）", param_hint="--fail-on"
        )
    db = _archive(data_dir)
    prefix = _region_prefix(db, region)
    findings = check_year(db, year, _deadlines(config_path), today.date() if today else date.today(), prefix)
    record(db, year, findings, now(), prefix)
    gap = archive_gap(db)
    if gap:
        click.echo(f"注意：归档不完整（{gap}），相关机关记为“已抓取未入库”，不计为缺报", err=True)
    findings.sort(key=lambda f: (f.region or "", KINDS.index(f.kind), f.agency_name or ""))
    if as_json:
        for f in findings:
            click.echo(json.dumps(f.to_dict(), ensure_ascii=False))
    else:
        for line in answer_lines(db, findings):
            click.echo(line)
        click.echo("\n" + counts_line(year, findings))
    if send_alerts and gap:
        click.echo("提醒暂缓：归档完整后（下次运行）再发送", err=True)
    elif send_alerts and not _send_alerts(db, config_path, year, dry_run):
        sys.exit(EXIT_UNDELIVERED)
    if any(f.kind in wanted for f in findings):
        sys.exit(1)


def _send_alerts(db, config_path: str, year: int | None, dry_run: bool) -> bool:
    from archive.alerts import AlertConfig, alert
    from archive.store import now
    from crawler.config import load_config

    config = load_config(config_path).alerts if Path(config_path).exists() else AlertConfig()
    return _echo_alerts(alert(db, config, now(), year, dry_run), dry_run)


def _echo_alerts(results: dict, dry_run: bool) -> bool:
    """Say what each channel got and what did not arrive; False when something did not."""
    from archive.alerts import report_lines

    if dry_run:
        for name, result in results.items():
            if result.preview:
                click.echo(f"\n—— 将发送到 {name}（{len(result.preview)} 条消息，{result.untold} 条提醒）——")
                click.echo("\n\n".join(result.preview))
        return True
    out, err = report_lines(results)
    for line in out:
        click.echo(line)
    for line in err:
        click.echo(line, err=True)
    return not err


@cli.command()
@_DATA
@click.argument("query", metavar="检索词")
@option("--year", metavar="年度", type=int, help="只检索这一年度的年报。")
@_REGION
@option("--limit", metavar="份数", type=int, default=50, show_default=True, help="最多列出多少份年报。")
def search(data_dir: str, query: str, year: int | None, region: str, limit: int) -> None:
    """全文检索年报的标题和正文。

    可以检索任意中文词句，单个或两个汉字也可以。

    示例：

    \b
        nianbao search --data data/ 复议 --year 2024 --region 新乡市
    """
    from archive.regions import RegionNames
    from archive.search import search as run_search

    db = _archive(data_dir)
    prefix = _region_prefix(db, region)
    hits = run_search(db, query, year, prefix, limit)
    if not hits:
        where = "".join(f"（{w}）" for w in (f"{year} 年度" if year else "", region) if w)
        click.echo(f"没有找到包含“{query}”的年报{where}")
        return
    names = RegionNames(db, [h["region"] for h in hits])
    for h in hits:
        version = "" if h["is_current"] else f"（第 {h['version']} 版，已被取代）"
        click.echo(
            click.style(f"{h['year']}  {h['agency_name'] or '（未识别机关）'}{version}", bold=True)
            + f"  {names.name(h['region'])}"
        )
        click.echo("    " + h["snippet"].replace(query, click.style(query, fg="red", bold=True)))
        click.echo(f"    {h['url']}")
    click.echo(f"\n共 {len(hits)} 份" + ("（已达上限，可用 --limit 调整）" if len(hits) >= limit else ""))


@cli.command()
@_CONFIG
@_DATA
@option("--year", metavar="年度", type=int, help="核查的报告年度（默认上一年度：其年报在今年到期）。")
@_TODAY
@_PORTAL
@option("--no-alert", is_flag=True, help="只核查，不发送提醒。")
@option("--dry-run", is_flag=True, help="只显示将会发送的提醒，不发送。")
@_QUEUE
@_LOG_LEVEL
def run(
    config_path: str,
    data_dir: str,
    year: int | None,
    today,
    portals: tuple[str, ...],
    no_alert: bool,
    dry_run: bool,
    queue: str | None,
    log_level: str,
) -> None:
    """完整运行一轮：抓取 → 归档 → 核查 → 提醒（供 cron 调用）。

    另一次运行正在使用数据目录时拒绝运行（退出码 75）；有提醒未送达时退出码为 3
    （下次运行会重发）。加 --queue 时由队列的 worker 抓取（见 `nianbao worker`）。

    示例：

    \b
        nianbao run --config config.yaml --data data
        nianbao run --config config.yaml --data data --queue redis://10.0.0.5:6379/0
    """
    from archive.answer import KIND_COLOURS, counts_line
    from archive.compliance import KIND_NAMES, KINDS
    from archive.lock import RunLocked
    from archive.regions import RegionNames
    from crawler.cycle import run_cycle

    try:
        result = run_cycle(
            config_path,
            data_dir,
            year,
            today.date() if today else None,
            not no_alert,
            dry_run,
            list(portals) or None,
            log_level=log_level,
            queue=queue,
        )
    except RunLocked as e:
        click.echo(f"nianbao: {e}", err=True)
        sys.exit(EXIT_LOCKED)
    except NianbaoError as e:
        raise click.ClickException(str(e)) from None
    stats = result.stats
    problems = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("nianbao/problems/")}
    recovered = stats.get("nianbao/archive/recovered", 0)
    click.echo(
        f"运行完成（{result.seconds:.0f} 秒，抓取批次 {result.run_id}）：{stats.get('downloader/request_count', 0)} 次请求，"
        f"年报 {stats.get('nianbao/reports', 0)} 份，入库 {stats.get('nianbao/archive/reports_stored', 0)} 份"
        + (f"（其中 {recovered} 份为此前中断的运行所抓取）" if recovered else "")
        + (f"，超出解析预算的文件 {stats['nianbao/archive/over_budget']} 个" if stats.get("nianbao/archive/over_budget") else "")
        + (
            f"，抓取问题 {sum(problems.values())} 个（" + "，".join(f"{k} {v}" for k, v in sorted(problems.items())) + "）"
            if problems
            else ""
        )
    )
    click.echo(counts_line(result.year, result.findings))
    changes = result.changes
    click.echo(f"与上次核查相比：新增 {len(changes['new'])}，变化 {len(changes['changed'])}，已解决 {len(changes['resolved'])}")
    news = {c["key"] for c in changes["new"] + changes["changed"]}
    names = RegionNames(_archive(data_dir), [f.region for f in result.findings if f.key in news])
    for f in sorted(result.findings, key=lambda f: (KINDS.index(f.kind), f.region or "", f.agency_name or "")):
        if f.key in news:
            place = names.name(f.region) or "无区划"
            click.echo(
                click.style(f"  {KIND_NAMES[f.kind]}", fg=KIND_COLOURS[f.kind])
                + f"  {f.agency_name or f.agency_key}（{place}）：{f.detail}"
            )
    delivered = _echo_alerts(result.alerts, dry_run)
    if result.gap and not no_alert:
        click.echo(f"提醒暂缓：归档不完整（{result.gap}），归档完整后（下次运行）再发送", err=True)
    _exit_if_unstored(stats)
    if not delivered:
        sys.exit(EXIT_UNDELIVERED)


@cli.command()
@option(
    "--queue",
    metavar="队列地址",
    envvar="NIANBAO_QUEUE",
    show_envvar=True,
    required=True,
    help="要执行任务的队列（如 redis://host:6379/0），写本机访问它的地址。",
)
@option(
    "--blobs",
    metavar="目录",
    type=click.Path(file_okay=False),
    envvar="NIANBAO_BLOBS",
    show_envvar=True,
    help="共享的抓取内容存储在本机的挂载路径（默认用抓取任务给出的路径，即归档所在机器上的路径）。",
)
@option("--name", metavar="名称", help="这个 worker 的名称（默认：主机名加进程号）。")
@option("--parse", "parse_jobs", is_flag=True, help="不抓取，改为替归档解析年报（CPU 优先级较低）。")
@option("--burst", is_flag=True, help="队列空了就退出。")
def worker(queue: str, blobs: str | None, name: str | None, parse_jobs: bool, burst: bool) -> None:
    """逐个执行队列中的抓取任务（每台机器或每个 CPU 核启动一个）。

    每个任务在单独的进程中运行。任务抓取某个网站时持有该网站的租约，所以对同一网站的访问间隔
    在所有 worker 之间都能保持；worker 崩溃或被 kill -9 时，它丢下的任务由其他 worker 重新执行。
    加 --parse 时改为解析抓取到的年报（每个抓取 worker 用不到半个 CPU 核，
    在抓取 worker 旁边再开一个解析 worker 可以用上其余的算力）。
    收到 SIGTERM（或按 Ctrl-C）时，先做完当前任务再退出。

    示例：

    \b
        nianbao worker --queue redis://10.0.0.5:6379/0 --blobs /mnt/nianbao/blobs
        nianbao worker --queue redis://10.0.0.5:6379/0 --blobs /mnt/nianbao/blobs --parse
    """
    from redis.exceptions import ConnectionError as RedisConnectionError

    from crawler.jobs import BLOBS_ENV, QUEUE_ENV
    from crawler.workers import CRAWL_QUEUE, run_worker

    os.environ[QUEUE_ENV] = queue  # the job's work horse reaches Redis the way this worker does
    if blobs:
        os.environ[BLOBS_ENV] = str(Path(blobs).resolve())
    queues = [CRAWL_QUEUE]
    if parse_jobs:
        from archive.follow import NICENESS
        from archive.remote_parse import PARSE_QUEUE  # loaded once here: each job's process inherits the parser

        os.nice(NICENESS)
        queues = [PARSE_QUEUE]
    try:
        run_worker(queue, queues, burst, name)
    except RedisConnectionError as e:
        raise click.ClickException(f"无法连接队列 {shown_queue(queue)}：{e}") from None


# ---- APScheduler ---------------------------------------------------------------

_child: subprocess.Popen | None = None


def cycle_job(config_path: str, data_dir: str) -> int:
    """A scheduled cycle: ``nianbao run`` in a child process (Scrapy's reactor runs once
    per process, and a scheduler that lives for years should not keep a crawl's memory).
    With a queue (``NIANBAO_QUEUE``, inherited: never on a command line or in the job
    store, since it may hold a password) the sweep is enqueued for the workers."""
    global _child
    queue = os.environ.get("NIANBAO_QUEUE")
    log.info(
        "开始运行：nianbao run --config %s --data %s%s", config_path, data_dir, f"（队列 {shown_queue(queue)}）" if queue else ""
    )
    _child = subprocess.Popen([sys.executable, "-m", "scheduler", "run", "--config", config_path, "--data", data_dir])
    code = _child.wait()
    _child = None
    if code == EXIT_LOCKED:
        log.warning("另一次运行尚未结束，本次跳过")
    elif code == EXIT_UNDELIVERED:
        log.error("运行结束，但有提醒未送达（下次运行重发）")
    elif code:
        log.error("运行失败（退出码 %s），下次按计划重试", code)
    else:
        log.info("运行结束")
    return code


def _last_run(db) -> datetime | None:
    row = db.execute("select max(started_at) from crawl_runs where finished_at is not null").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def start_scheduler(config_path: str, data_dir: str):
    """A started APScheduler whose jobs (kept in the archive) match the config, with a
    run missed during downtime made up once. Returns (scheduler, what it did)."""
    from zoneinfo import ZoneInfo

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from archive.schema import open_archive
    from crawler.config import load_config
    from crawler.schedule import default_jobs, missed_fire

    config = load_config(config_path)
    zone = ZoneInfo(config.schedule.timezone)
    specs = config.schedule.jobs or default_jobs(config.deadlines)
    db_path = (Path(data_dir) / "archive.db").resolve()
    db = open_archive(db_path)
    last_run = _last_run(db)
    db.close()
    grace = timedelta(days=config.schedule.misfire_grace_days)
    store = SQLAlchemyJobStore(url=f"sqlite:///{db_path}", engine_options={"connect_args": {"timeout": 30}})
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        timezone=zone,
        job_defaults={
            # APScheduler's default misfire grace is 1 s: after any downtime a yearly job would
            # be skipped silently. Missed runs within the grace run once (coalesced).
            "misfire_grace_time": int(grace.total_seconds()) or 1,
            "coalesce": True,
            "max_instances": 1,
        },
    )
    scheduler.start(paused=True)
    args = [str(Path(config_path).resolve()), str(Path(data_dir).resolve())]
    wanted = {spec.id for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
    kept = []
    for spec in specs:
        trigger = spec.trigger(zone)
        job = scheduler.get_job(spec.id)
        if job is not None and str(job.trigger) == str(trigger) and job.args == tuple(args):
            kept.append(job)  # its stored next run (maybe a missed one) stands
            continue
        scheduler.add_job(cycle_job, trigger, args=args, id=spec.id, name=spec.note or spec.id, replace_existing=True)
    now = datetime.now(zone)
    overdue = [j for j in kept if j.next_run_time and j.next_run_time <= now and now - j.next_run_time <= grace]
    done = []
    if overdue:
        done.append(f"补跑：{overdue[0].id} 原定 {overdue[0].next_run_time:%Y-%m-%d %H:%M} 未运行（停机期间），现在运行一次")
    else:
        missed = missed_fire([spec.trigger(zone) for spec in specs], last_run, now, grace)
        if missed is not None:
            scheduler.add_job(cycle_job, "date", run_date=now, args=args, id="catch-up", name="补跑", replace_existing=True)
            done.append(
                f"补跑：{missed:%Y-%m-%d %H:%M} 的运行被错过（上次运行：{last_run.astimezone(zone):%Y-%m-%d %H:%M}）"
                if last_run
                else f"补跑：{missed:%Y-%m-%d %H:%M} 的运行被错过（归档中还没有运行记录），现在运行一次"
            )
        else:
            done.append("无需补跑")
    scheduler.resume()
    return scheduler, done


@cli.command()
@_CONFIG
@_DATA
@_QUEUE
def schedule(config_path: str, data_dir: str, queue: str | None) -> None:
    """按全年计划定时运行，直到收到 SIGTERM 或按 Ctrl-C。

    由 APScheduler 调度，计划任务保存在归档中，每次执行一遍 `nianbao run`。
    停机期间错过的运行，在启动时补跑一次（限 schedule.misfire_grace_days 天内）。
    加 --queue 时每一轮抓取都放进队列，交给队列的 worker 执行。

    示例：

    \b
        nianbao schedule --config config.yaml --data data
        nianbao schedule --config config.yaml --data data --queue redis://10.0.0.5:6379/0
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        if queue:
            os.environ["NIANBAO_QUEUE"] = queue  # each run's child process inherits it
        scheduler, done = start_scheduler(config_path, data_dir)
    except NianbaoError as e:
        raise click.ClickException(str(e)) from None
    stop = threading.Event()

    def on_signal(signum, frame):
        log.info("收到 %s，正在停止（当前运行会先结束本批写入）…", signal.Signals(signum).name)
        child = _child
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)  # Scrapy closes the crawl cleanly on SIGTERM
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for job in sorted(scheduler.get_jobs(), key=lambda j: j.next_run_time.timestamp() if j.next_run_time else float("inf")):
        log.info(
            "计划任务 %-28s 下次运行 %s  %s",
            job.id,
            f"{job.next_run_time:%Y-%m-%d %H:%M %Z}" if job.next_run_time else "—",
            job.name,
        )
    for line in done:
        log.info(line)
    stop.wait()
    scheduler.shutdown(wait=True)
    log.info("已停止")


if __name__ == "__main__":
    cli()
