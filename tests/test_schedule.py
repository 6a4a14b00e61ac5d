"""The yearly calendar: fire times with a frozen clock, missed runs, and the real
``nianbao schedule`` process (APScheduler, job store in the archive) on a fast
clock, caught up after downtime, and stopped by SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from archive.deadlines import STATUTORY, DeadlineRule, Deadlines
from archive.schema import open_archive
from crawler.mock.world import World, config_yaml
from crawler.schedule import default_jobs, missed_fire, parse_cron

CST = ZoneInfo("Asia/Shanghai")


def fire_times(specs, start: datetime, end: datetime) -> list[str]:
    out = []
    for spec in specs:
        trigger, t = spec.trigger(CST), start
        while (t := trigger.get_next_fire_time(None, t)) and t < end:
            out.append(f"{t:%m-%d %H:%M}")
            t += timedelta(seconds=1)
    return sorted(out)


def test_default_calendar_follows_the_deadlines():
    year = (datetime(2026, 1, 1, tzinfo=CST), datetime(2027, 1, 1, tzinfo=CST))
    # 2026-02-01 is a Sunday: Mondays 2 and 9 Feb, 6 and 13 Apr; the grace period (14 days) ends 14 Feb / 14 Apr
    assert fire_times(default_jobs(Deadlines()), *year) == [
        "02-01 03:00",
        "02-02 03:00",
        "02-09 03:00",
        "02-15 03:00",
        "04-01 03:00",
        "04-06 03:00",
        "04-13 03:00",
        "04-15 03:00",
    ]
    local = Deadlines(STATUTORY + (DeadlineRule(2, 20, "township", "4312", 2021),), grace_days=14)
    assert set(fire_times(default_jobs(local), *year)) - set(fire_times(default_jobs(Deadlines()), *year)) == {
        "02-21 03:00",
        "02-23 03:00",
        "03-02 03:00",
        "03-07 03:00",
    }


def test_weekly_follow_ups_across_a_month_end():
    late_march = Deadlines((DeadlineRule(3, 25),), grace_days=14)  # grace ends 8 April
    times = fire_times(default_jobs(late_march), datetime(2026, 1, 1, tzinfo=CST), datetime(2027, 1, 1, tzinfo=CST))
    assert times == ["03-26 03:00", "03-30 03:00", "04-06 03:00", "04-09 03:00"]


@pytest.mark.parametrize(
    "text, reason",
    [("0 3 * * 1", "names"), ("0 3 * *", "expected 5 fields"), ("0 3 32 1 *", "day '32'"), ("61 0 3 1 2 *", "second '61'")],
)
def test_cron_text_errors(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_cron(text)


def test_missed_fire_with_a_frozen_clock():
    triggers = [s.trigger(CST) for s in default_jobs(Deadlines())]
    grace = timedelta(days=30)
    at = lambda *a: datetime(*a, tzinfo=CST)
    assert missed_fire(triggers, at(2026, 1, 20), at(2026, 2, 1, 2, 59), grace) is None  # not yet due
    assert missed_fire(triggers, at(2026, 1, 20), at(2026, 2, 1, 3, 0), grace) == at(2026, 2, 1, 3)
    assert missed_fire(triggers, at(2026, 2, 1, 3, 5), at(2026, 2, 9, 8), grace) == at(2026, 2, 2, 3)
    assert missed_fire(triggers, at(2026, 2, 9, 3, 5), at(2026, 2, 10), grace) is None  # ran since
    assert missed_fire(triggers, None, at(2026, 3, 1), grace) == at(2026, 2, 1, 3)  # never ran
    assert missed_fire(triggers, None, at(2026, 3, 20), timedelta(days=5)) is None  # beyond grace


class Scheduler:
    """``nianbao schedule`` as a real child process, its log read line by line."""

    def __init__(self, config: Path, data: Path, *options: str):
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scheduler", "schedule", "--config", str(config), "--data", str(data), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while sum(bool(re.search(pattern, line)) for line in self.lines) < count:
            assert self.process.poll() is None, "scheduler exited:\n" + "".join(self.lines)[-3000:]
            assert time.monotonic() < deadline, f"no {pattern!r} ×{count}:\n" + "".join(self.lines)[-3000:]
            time.sleep(0.1)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=120)
        time.sleep(0.2)
        return code


def _config(tmp_path: Path, mock, schedule: str) -> Path:
    one = World(mock.world.port, [mock.world.portal("trs-0")])  # one portal: a run takes a second
    path = tmp_path / "config.yaml"
    path.write_text(config_yaml(one) + "alerts: {log: false}\nschedule:\n" + schedule, encoding="utf-8")
    return path


def _runs(data: Path) -> list[dict]:
    db = open_archive(data / "archive.db")
    try:
        return list(db.query("select * from crawl_runs where finished_at is not null order by id"))
    finally:
        db.close()


def test_jobs_fire_on_a_fast_clock_and_sigterm_stops_cleanly(tmp_path, mock):
    config = _config(tmp_path, mock, '  misfire_grace_days: 0\n  jobs:\n    - {id: tick, cron: "*/2 * * * * *"}\n')
    data = tmp_path / "data"
    scheduler = Scheduler(config, data)
    scheduler.wait_for("无需补跑")
    scheduler.wait_for("运行结束", count=2)  # the cron job fired, and fired again
    assert scheduler.stop() == 0
    assert "已停止" in scheduler.lines[-1]
    runs = _runs(data)
    assert len(runs) >= 2 and all(r["reports"] for r in runs[:1])
    db = open_archive(data / "archive.db")
    assert [r["id"] for r in db.query("select id from apscheduler_jobs")] == ["tick"]  # kept in the archive
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_a_run_missed_during_downtime_is_made_up_once(tmp_path, mock):
    # due every 1 February at 03:00; the scheduler was not running then (a fresh install)
    config = _config(tmp_path, mock, '  misfire_grace_days: 366\n  jobs:\n    - {id: yearly, cron: "0 3 1 2 *"}\n')
    data = tmp_path / "data"
    scheduler = Scheduler(config, data)
    scheduler.wait_for("补跑：.*被错过")
    scheduler.wait_for("运行结束")
    assert scheduler.stop() == 0
    assert len(_runs(data)) == 1
    # started again: the job is in the store unchanged, and the missed run was made up
    again = Scheduler(config, data)
    again.wait_for("无需补跑")
    again.wait_for(r"计划任务 yearly\s+下次运行 \d{4}-02-01 03:00 CST")
    assert again.stop() == 0
    assert len(_runs(data)) == 1
    assert not any("开始运行" in line for line in again.lines)


def test_sigterm_during_a_run_ends_the_crawl_cleanly(tmp_path, mock):
    config = _config(tmp_path, mock, '  misfire_grace_days: 366\n  jobs:\n    - {id: yearly, cron: "0 3 1 2 *"}\n')
    data = tmp_path / "data"
    scheduler = Scheduler(config, data)
    scheduler.wait_for("开始运行")
    time.sleep(0.5)
    assert scheduler.stop() == 0
    db = open_archive(data / "archive.db")
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert db.execute("select count(*) from crawl_runs where finished_at is null").fetchone()[0] == 0
