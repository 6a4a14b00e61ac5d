"""One full cycle, as ``nianbao run`` (cron) and each scheduled job do it:
crawl → archive → check → alert, under the data directory's run lock."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from archive.alerts import Delivery, alert
from archive.compliance import ComplianceFinding, archive_gap, check_year, record
from archive.ingest import storage_reason
from archive.lock import RunLock
from archive.schema import open_archive
from archive.store import now

from .config import load_config
from .runner import crawl


@dataclass
class CycleResult:
    year: int
    run_id: int
    stats: dict
    findings: list[ComplianceFinding]
    changes: dict[str, list[dict]]
    alerts: dict[str, Delivery] = field(default_factory=dict)
    seconds: float = 0.0
    gap: str | None = None  # why the archive is incomplete (alerts were held), or None


def unstored_text(stats: dict) -> str | None:
    """What a crawl's stats say could not be stored, for users, e.g.
    "12 份年报未能入库，40 条抓取记录未能写入（磁盘空间不足 52）"; None when nothing."""
    reports = stats.get("nianbao/archive/unstored", 0) + stats.get("nianbao/archive/lost_reports", 0)
    records = stats.get("nianbao/archive/write_errors", 0)
    if not reports and not records:
        return None
    prefix = "nianbao/archive/unstored_reasons/"
    reasons = "，".join(f"{k[len(prefix) :]} {v}" for k, v in sorted(stats.items()) if k.startswith(prefix) and v)
    parts = [f"{reports} 份年报未能入库"] + ([f"{records} 条抓取记录未能写入"] if records else [])
    return "，".join(parts) + (f"（{reasons}）" if reasons else "")


def reporting_year(today: date) -> int:
    """The year whose reports fall due in ``today``'s calendar year."""
    return today.year - 1


def run_cycle(
    config_path: str | Path,
    data_dir: str | Path,
    year: int | None = None,
    today: date | None = None,
    send_alerts: bool = True,
    dry_run: bool = False,
    portals: list[str] | None = None,
    progress: bool = True,
    log_level: str = "WARNING",
    queue: str | None = None,
) -> CycleResult:
    """Raises ``RunLocked`` when another run holds ``data_dir`` and ``ConfigError``
    for a bad config (before anything is fetched)."""
    started = time.monotonic()
    today = today or date.today()
    year = year or reporting_year(today)
    config = load_config(config_path)
    with RunLock(data_dir):
        stats, _ = crawl(config_path, data_dir, portals, log_level=log_level, queue=queue, NIANBAO_PROGRESS=progress)
        db = open_archive(Path(data_dir) / "archive.db")
        try:
            run_id = db.execute("select max(id) from crawl_runs").fetchone()[0]
            failed = unstored_text(stats)  # this crawl could not store all it found (its end may not be written either)
            findings = check_year(db, year, config.deadlines, today, unfinished=[run_id] if failed else [])
            try:
                changes = record(db, year, findings, now())
            except (sqlite3.Error, OSError) as e:  # the disk that failed the crawl fails this write too
                stats["nianbao/archive/write_errors"] = stats.get("nianbao/archive/write_errors", 0) + 1
                stats[f"nianbao/archive/unstored_reasons/{storage_reason(e)}"] = 1
                failed = unstored_text(stats)
                changes = {"new": [], "changed": [], "resolved": []}
            # an incomplete archive holds the alerts: they go out, complete, with the next run
            gap = archive_gap(db) or failed
            sent = alert(db, config.alerts, now(), year, dry_run) if send_alerts and gap is None else {}
        finally:
            db.close()
    return CycleResult(year, run_id, stats, findings, changes, sent, time.monotonic() - started, gap)
