"""One full cycle, as ``nianbao run`` (cron) and each scheduled job do it:
crawl → archive → check → alert, under the data directory's run lock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from archive.alerts import Delivery, alert
from archive.compliance import ComplianceFinding, check_year, record
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
) -> CycleResult:
    """Raises ``RunLocked`` when another run holds ``data_dir`` and ``ConfigError``
    for a bad config (before anything is fetched)."""
    started = time.monotonic()
    today = today or date.today()
    year = year or reporting_year(today)
    config = load_config(config_path)
    with RunLock(data_dir):
        stats, _ = crawl(config_path, data_dir, portals, log_level=log_level, NIANBAO_PROGRESS=progress)
        db = open_archive(Path(data_dir) / "archive.db")
        try:
            run_id = db.execute("select max(id) from crawl_runs").fetchone()[0]
            findings = check_year(db, year, config.deadlines, today)
            changes = record(db, year, findings, now())
            sent = alert(db, config.alerts, now(), year, dry_run) if send_alerts else {}
        finally:
            db.close()
    return CycleResult(year, run_id, stats, findings, changes, sent, time.monotonic() - started)
