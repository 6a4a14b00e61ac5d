"""The ``nianbao`` command line (and, as the project grows, its APScheduler jobs)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from archive.errors import NianbaoError

REPORT_SUFFIXES = {".pdf", ".html", ".htm", ".shtml", ".txt", ".md", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et"}


def _expand(paths: tuple[str, ...]) -> list[Path]:
    """Files as given, and report files under directories (sorted, recursive; READMEs skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in REPORT_SUFFIXES
                          and not f.name.upper().startswith("README"))
        else:
            out.append(p)
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nianbao")
def cli() -> None:
    """nianbao（年报）：政府信息公开工作年度报告的归档、解析与核查。"""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="One contract object per line (JSON Lines).")
def parse(files: tuple[str, ...], as_json: bool) -> None:
    """Parse annual reports (PDF, HTML, DOCX, DOC/WPS, XLSX, text) into the standard tables.

    FILES may be files or directories. Unreadable files are reported on stderr
    and make the exit status 1; the others are still parsed.
    """
    from archive.parse import parse_file
    from archive.render import render

    failed = 0
    paths = _expand(files)
    if not paths:
        raise click.UsageError("no report files found")
    for i, path in enumerate(paths):
        try:
            report = parse_file(path)
        except NianbaoError as e:
            failed += 1
            click.echo(f"nianbao: {path}: {e}", err=True)
            continue
        except Exception as e:  # a bug must not cost the rest of the batch, nor show a traceback
            failed += 1
            click.echo(f"nianbao: {path}: internal error, please report it: {type(e).__name__}: {e}", err=True)
            continue
        if as_json:
            click.echo(json.dumps(report.to_contract(), ensure_ascii=False))
        else:
            if i:
                click.echo()
            click.echo(render(report, str(path)))
    if failed:
        sys.exit(1)


@cli.command("crawl")
@click.option("--config", "config_path", default="config.yaml", show_default=True, type=click.Path(),
              help="Portals and agencies (see config.yaml).")
@click.option("--portal", "portals", multiple=True, help="Only this portal id (repeatable).")
@click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(),
              help="Where raw captures, crawl state and feeds are kept.")
@click.option("--feed", type=click.Path(), help="Also write the crawl's records as JSON Lines here.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def crawl_command(config_path: str, portals: tuple[str, ...], data_dir: str, feed: str | None, log_level: str) -> None:
    """Crawl the configured portals' 年报 columns (politely; incremental on a second run)."""
    from crawler.runner import crawl

    try:
        stats, feed_path = crawl(config_path, data_dir, list(portals) or None, feed, log_level)
    except NianbaoError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{stats.get('nianbao/reports', 0)} reports, {stats.get('downloader/request_count', 0)} requests; "
               f"archive: {Path(data_dir) / 'archive.db'}" + (f"; feed: {feed_path}" if feed_path else ""))


@cli.command()
@click.option("--dir", "workdir", default="nianbao-demo", show_default=True, type=click.Path(),
              help="Working directory for the demo's config, captures and feed.")
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


_DATA = click.option("--data", "data_dir", default="data", show_default=True, type=click.Path(),
                     help="The data directory (archive.db and blobs/).")


@cli.command()
@_DATA
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
def serve(data_dir: str, host: str, port: int) -> None:
    """Browse the archive in Datasette (read-only), with saved queries and links to archived copies."""
    import tempfile

    from archive.browse import metadata

    _archive(data_dir).close()                      # create/upgrade the schema before Datasette opens it
    meta = metadata()
    meta["plugins"]["nianbao"]["blobs"] = str((Path(data_dir) / "blobs").resolve())
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)
    click.echo(f"年报归档：http://{host}:{port}/archive （只读；Ctrl-C 结束）")
    # exec, not a child process: a supervisor's SIGTERM reaches Datasette itself
    os.execv(sys.executable, [sys.executable, "-m", "datasette", "serve", str(Path(data_dir) / "archive.db"),
                              "--metadata", f.name, "--host", host, "--port", str(port),
                              "--setting", "allow_download", "off", "--setting", "sql_time_limit_ms", "3000"])


@cli.command()
@_DATA
@click.option("--workers", type=int, default=0, help="Parsing processes (default: one per core but one).")
def reparse(data_dir: str, workers: int) -> None:
    """Re-run the current parser over every stored report (and ingest pending ones)."""
    from archive.ingest import default_workers, ingest, reparse as run_reparse

    db = _archive(data_dir)
    workers = workers or default_workers()
    pending = ingest(db, Path(data_dir) / "blobs", workers=workers)
    count = run_reparse(db, Path(data_dir) / "blobs", workers=workers)
    click.echo(f"重新解析 {count} 份年报（另入库待处理 {pending.reports} 份）")


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
    click.echo(f"{counts['response']} response + {counts['revisit']} revisit records → {out}"
               + (f"; {counts['missing']} captures missing from blobs/" if counts["missing"] else ""))


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
@click.option("--config", "config_path", default="config.yaml", show_default=True, type=click.Path(),
              help="Deadline rules (statutory ones when the file is absent).")
@click.option("--year", type=int, required=True, help="Reporting year.")
@click.option("--region", default="", help="Region code prefix (行政区划代码).")
@click.option("--json", "as_json", is_flag=True, help="One finding per line (JSON Lines).")
@click.option("--fail-on", default="", help="Comma-separated kinds that make the exit status 1, e.g. missing,late.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Judge as of this date (default: today).")
@click.option("--alert", "send_alerts", is_flag=True, help="Send the digest of new/changed/resolved findings.")
@click.option("--dry-run", is_flag=True, help="With --alert: show what would be sent, send nothing.")
def check(data_dir: str, config_path: str, year: int, region: str, as_json: bool, fail_on: str, today,
          send_alerts: bool, dry_run: bool) -> None:
    """Missing, late, replaced, unreachable, unparseable, inconsistent and cross-year findings for a year."""
    from datetime import date

    from archive.compliance import KIND_NAMES, KINDS, check_year, record
    from archive.store import now

    wanted = {k.strip() for k in fail_on.split(",") if k.strip()}
    if wanted - set(KINDS):
        raise click.BadParameter(f"unknown kinds {', '.join(sorted(wanted - set(KINDS)))} (known: {', '.join(KINDS)})",
                                 param_hint="--fail-on")
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
            click.echo("  " + fit(f.agency_name or f.agency_key, 30) + f.detail + flag)
        counts = {k: sum(f.kind == k for f in findings) for k in KINDS}
        click.echo(f"\n{year} 年度：" + "，".join(f"{KIND_NAMES[k]} {n}" for k, n in counts.items() if n) if findings
                   else f"{year} 年度：没有发现问题")
    if send_alerts:
        _send_alerts(db, config_path, year, dry_run)
    if any(f.kind in wanted for f in findings):
        sys.exit(1)


def _send_alerts(db, config_path: str, year: int | None, dry_run: bool) -> None:
    from archive.alerts import AlertConfig, alert
    from archive.store import now
    from crawler.config import load_config

    config = load_config(config_path).alerts if Path(config_path).exists() else AlertConfig()
    for channel, result in alert(db, config, now(), year, dry_run).items():
        if "error" in result:
            click.echo(f"提醒 {channel}：发送失败（下次重试）：{result['error']}", err=True)
        elif dry_run and result.get("would_send"):
            click.echo(f"\n—— 将发送到 {channel}（{result['would_send']} 条）——\n{result['text']}")
        else:
            click.echo(f"提醒 {channel}：{result['sent']} 条", err=True)


@cli.command()
@_DATA
@click.argument("query")
def search(data_dir: str, query: str) -> None:
    """Full-text search of report titles and text (any Chinese substring)."""
    from archive.search import search as run_search

    for r in run_search(_archive(data_dir), query):
        click.echo(f"{r['year']}  {r['agency_name'] or '?'}  v{r['version']}{'' if r['is_current'] else '（旧版）'}  {r['url']}")


if __name__ == "__main__":
    cli()
