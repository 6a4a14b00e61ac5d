"""The ``nianbao`` command line (and, as the project grows, its APScheduler jobs)."""

from __future__ import annotations

import json
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
@click.option("--feed", type=click.Path(), help="JSON Lines output (default: DATA/feeds/<time>.jsonl).")
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
               f"feed: {feed_path}")


@cli.command()
@click.option("--dir", "workdir", default="nianbao-demo", show_default=True, type=click.Path(),
              help="Working directory for the demo's config, captures and feed.")
def demo(workdir: str) -> None:
    """Start mock portals on 127.0.0.1, crawl them, parse the reports and print a summary."""
    from crawler.demo import run_demo

    sys.exit(run_demo(Path(workdir), click.echo))


if __name__ == "__main__":
    cli()
