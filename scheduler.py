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

EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the data directory; try again later
EXIT_UNDELIVERED = 3  # some alerts did not arrive (they are sent again by the next run)
log = logging.getLogger("nianbao.schedule")

REPORT_SUFFIXES = {".pdf", ".html", ".htm", ".shtml", ".txt", ".md", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et"}
REPORT_SUFFIXES |= {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}  # scanned pages, read by OCR


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


_OCR_PAGES = click.option(
    "--ocr-pages",
    type=click.IntRange(min=0),
    envvar="NIANBAO_OCR_MAX_PAGES",
    show_envvar=True,
    help="At most this many scanned pages read by OCR per document (default 30; 0: no OCR).",
)


def _ocr_progress(path: Path):
    """A progress line for the OCR of one file, drawn once OCR starts (it is slow)."""
    from archive.progress import Progress

    bar: list[Progress] = []

    def on_page(done: int) -> None:
        if not bar:
            bar.append(Progress(f"OCR 识别 {path.name}", unit=" 页"))
        bar[0].update(done, force=True)

    return on_page, bar


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="One contract object per line (JSON Lines).")
@_OCR_PAGES
def parse(files: tuple[str, ...], as_json: bool, ocr_pages: int | None) -> None:
    """Parse annual reports (PDF, HTML, DOCX, DOC/WPS, XLSX, text, scanned images) into the standard tables.

    FILES may be files or directories. Unreadable files are reported on stderr
    and make the exit status 1; the others are still parsed. Scanned pages (a PDF
    page without text, JPG/PNG/TIFF, pictures in Word files) are read by OCR; with
    --json, the cells OCR read and their scores are under the additive key "ocr".

    Example:

        nianbao parse report.pdf scans/ --json > reports.jsonl
    """
    from archive.extract import OcrOptions
    from archive.parse import parse_file
    from archive.render import render

    failed = 0
    paths = _expand(files)
    if not paths:
        raise click.UsageError("no report files found")
    for i, path in enumerate(paths):
        on_page, bar = _ocr_progress(path)
        ocr = OcrOptions(on_page=on_page)
        if ocr_pages is not None:
            ocr.max_pages = ocr_pages
        report = None
        try:
            report = parse_file(path, ocr)
        except NianbaoError as e:
            failed += 1
            click.echo(f"nianbao: {path}: {e}", err=True)
        except Exception as e:  # a bug must not cost the rest of the batch, nor show a traceback
            failed += 1
            click.echo(f"nianbao: {path}: internal error, please report it: {type(e).__name__}: {e}", err=True)
        if bar:
            bar[0].close(f"{len(report.ocr['pages'])} 页" if report and report.ocr else "中断")
        if report is None:
            continue
        if as_json:
            click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        else:
            if i:
                click.echo()
            click.echo(render(report, str(path)))
    if failed:
        sys.exit(1)


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
    help="Crawl processes (default: crawl.workers in the config, else one per core once there are 50 portals per process).",
)
@click.option("--log-level", default="WARNING", show_default=True, type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def crawl_command(
    config_path: str, portals: tuple[str, ...], data_dir: str, feed: str | None, workers: int | None, log_level: str
) -> None:
    """Crawl the configured portals' 年报 columns (politely; incremental on a second run)."""
    from archive.lock import RunLock, RunLocked
    from crawler.runner import crawl

    try:
        with RunLock(data_dir):
            stats, feed_path = crawl(
                config_path, data_dir, list(portals) or None, feed, log_level, workers, NIANBAO_PROGRESS=True
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


@cli.command()
@click.option(
    "--dir",
    "workdir",
    default="nianbao-demo",
    show_default=True,
    type=click.Path(),
    help="Working directory for the demo's config, captures and feed.",
)
def demo(workdir: str) -> None:
    """Start mock portals on 127.0.0.1, crawl them, parse the reports and print a summary."""
    from crawler.demo import run_demo

    sys.exit(run_demo(Path(workdir), click.echo))


def _archive(data_dir: str):
    from archive.schema import SchemaError, open_archive

    path = Path(data_dir) / "archive.db"
    if not path.exists():
        raise click.ClickException(f"{path}: no archive here (run `nianbao crawl` first, or pass --data)")
    try:
        return open_archive(path)
    except SchemaError as e:
        raise click.ClickException(str(e)) from None


_DATA = click.option(
    "--data", "data_dir", default="data", show_default=True, type=click.Path(), help="The data directory (archive.db and blobs/)."
)


@cli.command()
@_DATA
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
def serve(data_dir: str, host: str, port: int) -> None:
    """Browse the archive in Datasette (read-only), with saved queries and links to archived copies."""
    import tempfile

    from archive.browse import metadata

    _archive(data_dir).close()  # create/upgrade the schema before Datasette opens it
    meta = metadata()
    meta["plugins"]["nianbao"]["blobs"] = str((Path(data_dir) / "blobs").resolve())
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)
    click.echo(f"年报归档：http://{host}:{port}/archive （只读；Ctrl-C 结束）")
    # exec, not a child process: a supervisor's SIGTERM reaches Datasette itself
    os.execv(
        sys.executable,
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(Path(data_dir) / "archive.db"),
            "--metadata",
            f.name,
            "--host",
            host,
            "--port",
            str(port),
            "--setting",
            "allow_download",
            "off",
            "--setting",
            "sql_time_limit_ms",
            "3000",
        ],
    )


@cli.command()
@_DATA
@click.option("--workers", type=int, default=0, help="Parsing processes (default: one per core but one).")
@_OCR_PAGES
def reparse(data_dir: str, workers: int, ocr_pages: int | None) -> None:
    """Re-run the current parser over every stored report (and ingest pending ones).

    Scanned pages OCR read before are taken from its cache (data/ocr), not read again.

    Example:

        nianbao reparse --data data --workers 2
    """
    from archive.ingest import default_workers, ingest
    from archive.ingest import reparse as run_reparse
    from archive.progress import Progress

    db = _archive(data_dir)
    workers = workers or default_workers()
    bar = Progress("重新解析", unit=" 份")
    show = lambda result, total: bar.update(result.reports, total, result.ocr_note())
    pending = ingest(db, Path(data_dir) / "blobs", workers=workers, ocr_max_pages=ocr_pages)
    done = run_reparse(db, Path(data_dir) / "blobs", workers=workers, on_progress=show, ocr_max_pages=ocr_pages)
    note = "，" + done.ocr_note() if done.ocr_pages else ""
    bar.close(f"{done.reports} 份年报（另入库待处理 {pending.reports} 份{note}）")


@cli.command("export")
@_DATA
@click.option("--year", type=int, required=True, help="Reporting year.")
@click.option("--region", default="", help="Region code prefix (行政区划代码), e.g. 4107.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True)
@click.option("--out", type=click.Path(), help="Output file (default: nianbao-YEAR[-REGION].FORMAT).")
def export_command(data_dir: str, year: int, region: str, fmt: str, out: str | None) -> None:
    """The three tables for every agency of a year, one row per agency."""
    from archive.export import export

    out = out or f"nianbao-{year}{'-' + region if region else ''}.{fmt}"
    rows = export(_archive(data_dir), year, out, fmt, region)
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
@click.option("--region", default="", help="Region code prefix (行政区划代码).")
@click.option("--json", "as_json", is_flag=True, help="One finding per line (JSON Lines).")
@click.option("--fail-on", default="", help="Comma-separated kinds that make the exit status 1, e.g. missing,late.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Judge as of this date (default: today).")
@click.option("--alert", "send_alerts", is_flag=True, help="Send the digest of new/changed/resolved findings.")
@click.option("--dry-run", is_flag=True, help="With --alert: show what would be sent, send nothing.")
def check(
    data_dir: str, config_path: str, year: int, region: str, as_json: bool, fail_on: str, today, send_alerts: bool, dry_run: bool
) -> None:
    """Missing, late, replaced, unreachable, unparseable, inconsistent and cross-year findings for a year.

    With --alert each configured channel gets what it has not been told yet; the
    exit status is 3 when an alert did not arrive (it is sent again next time).

    Example:

    \b
        nianbao check --year 2024 --region 4107
        nianbao check --year 2024 --alert --dry-run
    """
    from datetime import date

    from archive.compliance import KIND_NAMES, KINDS, check_year, record
    from archive.store import now

    wanted = {k.strip() for k in fail_on.split(",") if k.strip()}
    if wanted - set(KINDS):
        raise click.BadParameter(
            f"unknown kinds {', '.join(sorted(wanted - set(KINDS)))} (known: {', '.join(KINDS)})", param_hint="--fail-on"
        )
    db = _archive(data_dir)
    findings = check_year(db, year, _deadlines(config_path), today.date() if today else date.today(), region)
    record(db, year, findings, now(), region)
    findings.sort(key=lambda f: (f.region or "", KINDS.index(f.kind), f.agency_name or ""))
    if as_json:
        for f in findings:
            click.echo(json.dumps(f.to_dict(), ensure_ascii=False))
    else:
        from archive.render import fit

        current = None
        for f in findings:
            if (f.region, f.kind) != current:
                current = (f.region, f.kind)
                click.echo(f"\n{f.region or '（无区划）'} · {KIND_NAMES[f.kind]}")
            flag = "" if f.confidence == "high" else f"（可信度 {f.confidence}）"
            evidence = f"  证据：{f.evidence}" if f.kind == "unreachable" and f.evidence else ""
            click.echo("  " + fit(f.agency_name or f.agency_key, 30) + f.detail + flag + evidence)
        click.echo("\n" + _counts_line(year, findings))
    if send_alerts and not _send_alerts(db, config_path, year, dry_run):
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


def _counts_line(year: int, findings) -> str:
    from archive.compliance import KIND_NAMES, KINDS

    counts = {k: sum(f.kind == k for f in findings) for k in KINDS}
    return (
        f"{year} 年度：" + "，".join(f"{KIND_NAMES[k]} {n}" for k, n in counts.items() if n)
        if findings
        else f"{year} 年度：没有发现问题"
    )


@cli.command()
@_DATA
@click.argument("query")
def search(data_dir: str, query: str) -> None:
    """Full-text search of report titles and text (any Chinese substring)."""
    from archive.search import search as run_search

    for r in run_search(_archive(data_dir), query):
        click.echo(f"{r['year']}  {r['agency_name'] or '?'}  v{r['version']}{'' if r['is_current'] else '（旧版）'}  {r['url']}")


_CONFIG = click.option(
    "--config",
    "config_path",
    default="config.yaml",
    show_default=True,
    type=click.Path(),
    help="Portals, agencies, deadlines, alerts and schedule.",
)


@cli.command()
@_CONFIG
@_DATA
@click.option("--year", type=int, help="Reporting year to check (default: last year, whose reports fall due this year).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Judge as of this date (default: today).")
@click.option("--portal", "portals", multiple=True, help="Only this portal id (repeatable).")
@click.option("--no-alert", is_flag=True, help="Check, but send no alerts.")
@click.option("--dry-run", is_flag=True, help="Show the alerts that would be sent, send nothing.")
@click.option("--log-level", default="WARNING", show_default=True, type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def run(
    config_path: str,
    data_dir: str,
    year: int | None,
    today,
    portals: tuple[str, ...],
    no_alert: bool,
    dry_run: bool,
    log_level: str,
) -> None:
    """One full cycle, for cron: crawl → archive → check → alert.

    Refused (exit status 75) while another run holds the data directory; exit
    status 3 when an alert did not arrive (it is sent again by the next run).

    Example:

    \b
        nianbao run --config config.yaml --data data
    """
    from archive.compliance import KIND_NAMES, KINDS
    from archive.lock import RunLocked
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
        )
    except RunLocked as e:
        click.echo(f"nianbao: {e}", err=True)
        sys.exit(EXIT_LOCKED)
    except NianbaoError as e:
        raise click.ClickException(str(e)) from None
    stats = result.stats
    problems = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("nianbao/problems/")}
    click.echo(
        f"运行完成（{result.seconds:.0f} 秒，抓取批次 {result.run_id}）：{stats.get('downloader/request_count', 0)} 次请求，"
        f"年报 {stats.get('nianbao/reports', 0)} 份，入库 {stats.get('nianbao/archive/reports_stored', 0)} 份"
        + (
            f"，抓取问题 {sum(problems.values())} 个（" + "，".join(f"{k} {v}" for k, v in sorted(problems.items())) + "）"
            if problems
            else ""
        )
    )
    click.echo(_counts_line(result.year, result.findings))
    changes = result.changes
    click.echo(f"与上次核查相比：新增 {len(changes['new'])}，变化 {len(changes['changed'])}，已解决 {len(changes['resolved'])}")
    news = {c["key"] for c in changes["new"] + changes["changed"]}
    for f in sorted(result.findings, key=lambda f: (KINDS.index(f.kind), f.region or "", f.agency_name or "")):
        if f.key in news:
            click.echo(f"  {KIND_NAMES[f.kind]}  {f.agency_name or f.agency_key}：{f.detail}")
    if not _echo_alerts(result.alerts, dry_run):
        sys.exit(EXIT_UNDELIVERED)


# ---- APScheduler ---------------------------------------------------------------

_child: subprocess.Popen | None = None


def cycle_job(config_path: str, data_dir: str) -> int:
    """A scheduled cycle: ``nianbao run`` in a child process (Scrapy's reactor runs once
    per process, and a scheduler that lives for years should not keep a crawl's memory)."""
    global _child
    log.info("开始运行：nianbao run --config %s --data %s", config_path, data_dir)
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
def schedule(config_path: str, data_dir: str) -> None:
    """Run the yearly calendar (APScheduler; jobs kept in the archive) until SIGTERM or Ctrl-C.

    Each job is one `nianbao run`. A run missed while this was not running is made
    up once at start-up (within schedule.misfire_grace_days).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
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
