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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nianbao")
def cli() -> None:
    """nianbao（年报）：政府信息公开工作年度报告的归档、解析与核查。"""


def _budget_options(fn):
    """--wall-seconds, --cpu-seconds, --memory-mb: one document's parse budget."""
    default = Budget()
    for name, kind, what in reversed(
        (
            ("--wall-seconds", float, f"Wall-clock seconds one document's parse may take (default {default.wall_seconds:g})."),
            ("--cpu-seconds", float, f"CPU seconds one document's parse may use (default {default.cpu_seconds:g})."),
            ("--memory-mb", int, f"Address space of a parse worker, in MB (default {default.memory_mb})."),
        )
    ):
        fn = click.option(name, type=click.FloatRange(min=1) if kind is float else click.IntRange(min=256), help=what)(fn)
    return fn


def _budget(base, wall_seconds: float | None, cpu_seconds: float | None, memory_mb: int | None):
    """``base`` (the config's parse budget) with the options given on the command line."""
    from dataclasses import replace

    given = {"wall_seconds": wall_seconds, "cpu_seconds": cpu_seconds, "memory_mb": memory_mb}
    return replace(base, **{k: v for k, v in given.items() if v is not None})


_OCR_PAGES = click.option(
    "--ocr-pages",
    type=click.IntRange(min=0),
    envvar="NIANBAO_OCR_MAX_PAGES",
    show_envvar=True,
    help="At most this many scanned pages read by OCR per document (default 30; 0: no OCR).",
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
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="One contract object per line (JSON Lines).")
@_OCR_PAGES
@_budget_options
def parse(files: tuple[str, ...], as_json: bool, ocr_pages: int | None, wall_seconds, cpu_seconds, memory_mb) -> None:
    """Parse annual reports (PDF, HTML, DOCX, DOC/WPS, XLSX, text, scanned images) into the standard tables.

    FILES may be files or directories. Each file is parsed in a worker process
    under a budget (time, CPU, memory): a file that is unreadable, exceeds the
    budget or crashes its worker is reported on stderr and makes the exit
    status 1; the others are still parsed. Scanned pages (a PDF page without
    text, JPG/PNG/TIFF, pictures in Word files) are read by OCR; with --json,
    the cells OCR read and their scores are under the additive key "ocr".

    Example:

        nianbao parse report.pdf scans/ --json > reports.jsonl
        nianbao parse --cpu-seconds 600 big-scan.pdf
    """
    from archive.isolation import Isolated
    from archive.render import render

    failed = 0
    paths = _expand(files)
    if not paths:
        raise click.UsageError("no report files found")
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


_QUEUE = click.option(
    "--queue",
    metavar="REDIS_URL",
    envvar="NIANBAO_QUEUE",
    show_envvar=True,
    help="Run the crawl as jobs on this queue (redis://host:6379/0), worked by `nianbao worker` on any machine; "
    "this process writes the archive. Without it, everything runs here.",
)


@cli.command("crawl")
@click.option(
    "--config",
    "config_path",
    default="config.yaml",
    show_default=True,
    type=click.Path(),
    help="Portals and agencies (see config.yaml).",
)
@click.option("--portal", "portals", multiple=True, help="Only this portal id (repeatable).")
@click.option(
    "--data",
    "data_dir",
    default="data",
    show_default=True,
    type=click.Path(),
    help="Where raw captures, crawl state and feeds are kept.",
)
@click.option("--feed", type=click.Path(), help="Also write the crawl's records as JSON Lines here.")
@click.option(
    "--workers",
    type=int,
    help="Crawl processes (default: crawl.workers in the config, else one per core once there are 50 portals per process); "
    "with --queue, jobs (default: one per worker listening).",
)
@_QUEUE
@click.option("--log-level", default="WARNING", show_default=True, type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def crawl_command(
    config_path: str,
    portals: tuple[str, ...],
    data_dir: str,
    feed: str | None,
    workers: int | None,
    queue: str | None,
    log_level: str,
) -> None:
    """Crawl the configured portals' 年报 columns (politely; incremental on a second run).

    Reports are parsed and stored while the crawl goes on. With --queue the crawl
    runs on the queue's workers, and this process writes their records into the
    archive as they arrive (progress shows the jobs done).

    Example:

    \b
        nianbao crawl --config config.yaml --data data
        nianbao crawl --queue redis://10.0.0.5:6379/0 --data data
    """
    from archive.lock import RunLock, RunLocked
    from crawler.runner import crawl

    if queue and feed:
        raise click.UsageError("--feed is not available with --queue (the archive holds every record)")
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
        f"{stats.get('nianbao/reports', 0)} reports, {stats.get('downloader/request_count', 0)} requests; "
        f"archive: {Path(data_dir) / 'archive.db'}" + (f"; feed: {feed_path}" if feed_path else "")
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
@click.option(
    "--dir",
    "workdir",
    default="nianbao-demo",
    show_default=True,
    type=click.Path(),
    help="Working directory for the demo's config, captures and feed.",
)
@click.option("--dry-run", is_flag=True, help="Send no alerts; say what would be sent.")
def demo(workdir: str, dry_run: bool) -> None:
    """Start mock portals on 127.0.0.1, crawl them, parse the reports, check who is
    missing, late, unreachable or inconsistent, and say how to browse the result.

    Example:

        nianbao demo && nianbao demo --dry-run
    """
    from crawler.demo import run_demo

    sys.exit(run_demo(Path(workdir), click.echo, dry_run))


def _archive(data_dir: str):
    from archive.schema import SchemaError, open_archive

    path = Path(data_dir) / "archive.db"
    if not path.exists():
        raise click.ClickException(f"{path}: no archive here (run `nianbao crawl` first, or pass --data)")
    try:
        return open_archive(path)
    except SchemaError as e:
        raise click.ClickException(str(e)) from None


_CONFIG = click.option(
    "--config",
    "config_path",
    default="config.yaml",
    show_default=True,
    type=click.Path(),
    help="Portals, agencies, deadlines, alerts and schedule.",
)


_DATA = click.option(
    "--data", "data_dir", default="data", show_default=True, type=click.Path(), help="The data directory (archive.db and blobs/)."
)
_REGION = click.option(
    "--region",
    default="",
    help="A region by name (新乡市, 河南省新乡市红旗区) or 行政区划代码 prefix (4107); default: everywhere.",
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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
def serve(data_dir: str, host: str, port: int) -> None:
    """Browse the archive in Datasette (read-only): the front page by year and region,
    each report as printed, full-text search, saved queries and archived copies.

    Example:

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
@click.option("--workers", type=int, default=0, help="Parsing processes (default: parse.workers, else one per core but one).")
@_OCR_PAGES
@_budget_options
def reparse(data_dir: str, config_path: str, workers: int, ocr_pages: int | None, wall_seconds, cpu_seconds, memory_mb) -> None:
    """Re-run the current parser over every stored report (and ingest pending ones).

    Scanned pages OCR read before are taken from its cache (data/ocr), not read again.
    A report one of whose documents exceeds the parse budget keeps its earlier
    parse (unless that one had failed too); raise the budget to read it.

    Example:

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
@click.option("--year", type=int, required=True, help="Reporting year.")
@_REGION
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True)
@click.option("--out", type=click.Path(), help="Output file (default: nianbao-YEAR[-REGION].FORMAT).")
def export_command(data_dir: str, year: int, region: str, fmt: str, out: str | None) -> None:
    """Every expected agency of a year, one row each: its compliance status (as
    `nianbao check` found it) and every cell of the three tables.

    Example:

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
@click.argument("out", type=click.Path())
@click.option("--run", "run_id", type=int, help="Only the captures of this crawl run.")
def export_warc_command(data_dir: str, out: str, run_id: int | None) -> None:
    """Write the raw captures as a WARC file (gzip per record; `warcio check` accepts it)."""
    from archive.blobs import BlobStore
    from archive.warc import export_warc

    counts = export_warc(_archive(data_dir), BlobStore(Path(data_dir) / "blobs"), out, run_id)
    click.echo(
        f"{counts['response']} response + {counts['revisit']} revisit records → {out}"
        + (f"; {counts['missing']} captures missing from blobs/" if counts["missing"] else "")
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
@click.option(
    "--config",
    "config_path",
    default="config.yaml",
    show_default=True,
    type=click.Path(),
    help="Deadline rules (statutory ones when the file is absent).",
)
@click.option("--year", type=int, required=True, help="Reporting year.")
@_REGION
@click.option("--json", "as_json", is_flag=True, help="One finding per line (JSON Lines).")
@click.option("--fail-on", default="", help="Comma-separated kinds that make the exit status 1, e.g. missing,late.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Judge as of this date (default: today).")
@click.option("--alert", "send_alerts", is_flag=True, help="Send the digest of new/changed/resolved findings.")
@click.option("--dry-run", is_flag=True, help="With --alert: show what would be sent, send nothing.")
def check(
    data_dir: str, config_path: str, year: int, region: str, as_json: bool, fail_on: str, today, send_alerts: bool, dry_run: bool
) -> None:
    """Missing, unreachable, withdrawn, moved, late, replaced, unparseable, inconsistent and cross-year findings for a year.

    The findings are stored: every view (Datasette, exports, alerts) shows this answer.
    With --alert each configured channel gets what it has not been told yet; the
    exit status is 3 when an alert did not arrive (it is sent again next time).

    Example:

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
            f"unknown kinds {', '.join(sorted(wanted - set(KINDS)))} (known: {', '.join(KINDS)})", param_hint="--fail-on"
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
@click.argument("query")
@click.option("--year", type=int, help="Only reports of this year.")
@_REGION
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many reports.")
def search(data_dir: str, query: str, year: int | None, region: str, limit: int) -> None:
    """Full-text search of report titles and text: any Chinese text, one or two characters too.

    Example:

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
@click.option("--year", type=int, help="Reporting year to check (default: last year, whose reports fall due this year).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Judge as of this date (default: today).")
@click.option("--portal", "portals", multiple=True, help="Only this portal id (repeatable).")
@click.option("--no-alert", is_flag=True, help="Check, but send no alerts.")
@click.option("--dry-run", is_flag=True, help="Show the alerts that would be sent, send nothing.")
@_QUEUE
@click.option("--log-level", default="WARNING", show_default=True, type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
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
    """One full cycle, for cron: crawl → archive → check → alert.

    Refused (exit status 75) while another run holds the data directory; exit
    status 3 when an alert did not arrive (it is sent again by the next run).
    With --queue the crawl runs on the queue's workers (see `nianbao worker`).

    Example:

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
@click.option(
    "--queue",
    metavar="REDIS_URL",
    envvar="NIANBAO_QUEUE",
    show_envvar=True,
    required=True,
    help="The queue to work (redis://host:6379/0), as this machine reaches it.",
)
@click.option(
    "--blobs",
    type=click.Path(file_okay=False),
    envvar="NIANBAO_BLOBS",
    show_envvar=True,
    help="The shared capture store as this machine mounts it (default: the path the crawl names, the archive machine's).",
)
@click.option("--name", help="This worker's name (default: host name and process id).")
@click.option(
    "--parse", "parse_jobs", is_flag=True, help="Parse reports for the archive instead of crawling (at a lower CPU priority)."
)
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(queue: str, blobs: str | None, name: str | None, parse_jobs: bool, burst: bool) -> None:
    """Work the crawl jobs of a queue, one at a time, each in its own process (start one per machine or core).

    A job holds a lease on each host it crawls, so the per-host delay holds across
    all workers; a job lost with its worker (a crash, kill -9) is run again by
    another. With --parse the worker parses reports the crawl found instead (a
    crawl uses under half a core per worker: a parse worker beside the crawl
    workers uses the rest). SIGTERM (or Ctrl-C) lets the current job finish first.

    Example:

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
    """Run the yearly calendar (APScheduler; jobs kept in the archive) until SIGTERM or Ctrl-C.

    Each job is one `nianbao run`. A run missed while this was not running is made
    up once at start-up (within schedule.misfire_grace_days). With --queue each
    sweep is enqueued for the queue's workers.

    Example:

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
