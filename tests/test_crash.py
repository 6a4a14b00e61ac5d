"""kill -9 in the middle of a crawl, and in the middle of storing its reports: the
next run resumes, and the archive ends with every report once, nothing
half-written, and SQLite's integrity check passing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from archive_helpers import assert_archived_once, count_in_archive

from archive.follow import parse_workers
from archive.schema import open_archive
from crawler.mock.world import config_yaml

RUN = "import sys; from crawler.runner import crawl; crawl(sys.argv[1], sys.argv[2], log_level='ERROR')"


def _kill_when(config: Path, data: Path, sql: str, at_least: int) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", RUN, str(config), str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while count_in_archive(data, sql) < at_least:
        assert child.poll() is None, "the crawl ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()


def _finish_and_check(config: Path, data: Path, mock) -> None:
    out = subprocess.run([sys.executable, "-c", RUN, str(config), str(data)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert_archived_once(data / "archive.db", mock.world)


def _runs(data: Path) -> list[dict]:
    db = open_archive(data / "archive.db")
    try:
        return list(db.query("select id, status, recovered, reports from crawl_runs order by id"))
    finally:
        db.close()


def test_kill_during_the_crawl_then_resume(tmp_path, mock):
    config = tmp_path / "config.yaml"
    config.write_text(config_yaml(mock.world, delay=0.2), encoding="utf-8")
    _kill_when(config, tmp_path / "data", "select count(*) from captures where role = 'report'", 10)
    assert count_in_archive(tmp_path / "data", "select count(*) from crawl_runs where finished_at is null") == 1
    _finish_and_check(config, tmp_path / "data", mock)
    killed, resumed = _runs(tmp_path / "data")
    assert killed["status"] == "interrupted" and killed["reports"] is not None  # closed by the next run, with its counts
    assert resumed["status"] == "finished"


def test_kill_while_reports_are_being_stored_then_resume(tmp_path, mock):
    config = tmp_path / "config.yaml"
    config.write_text(config_yaml(mock.world), encoding="utf-8")
    _kill_when(config, tmp_path / "data", "select count(*) from sightings where ingested_at is not null", 5)
    pending = count_in_archive(tmp_path / "data", "select count(*) from sightings where ingested_at is null")
    assert pending > 0  # killed half-way through storing
    # only the parses that were running count as interrupted, not the whole queue
    charged = count_in_archive(
        tmp_path / "data", "select count(*) from sightings where ingested_at is null and parse_attempts > 0"
    )
    assert charged <= parse_workers()  # as many as the crawl parses at once
    _finish_and_check(config, tmp_path / "data", mock)
    killed, resumed = _runs(tmp_path / "data")
    assert killed["status"] == "interrupted" and resumed["status"] == "finished"
    assert resumed["recovered"] == pending  # the next run stored what the killed one had found, and says so
