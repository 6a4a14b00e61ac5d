"""When the yearly cycle runs: cron specs from config, or a calendar derived from the
deadline rules — a sweep the day after each deadline, weekly follow-ups, and a
final sweep the day after the grace period ends (the first day a report not
found counts as missing).

Cron text is the usual five fields (minute hour day month day-of-week), or six
with seconds first. Days of the week must be names (mon … sun): APScheduler 3
counts 0 as Monday where cron counts it as Sunday, and a silent one-day shift
in a yearly job would not be noticed for a year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from archive.deadlines import Deadlines

FIELDS_5 = ("minute", "hour", "day", "month", "day_of_week")
FIELDS_6 = ("second", *FIELDS_5)
RUN_AT = {"hour": "3", "minute": "0"}  # default jobs run at 03:00, when portals are quiet


@dataclass(frozen=True)
class JobSpec:
    id: str
    fields: tuple[tuple[str, str], ...]  # CronTrigger keyword arguments
    note: str = ""

    def trigger(self, timezone: tzinfo) -> CronTrigger:
        return CronTrigger(timezone=timezone, **dict(self.fields))


@dataclass(frozen=True)
class ScheduleConfig:
    timezone: str = "Asia/Shanghai"
    misfire_grace_days: float = 30.0  # a run missed by less than this (downtime) still happens
    jobs: tuple[JobSpec, ...] = field(default_factory=tuple)  # empty: derived from the deadlines


def parse_cron(text: str) -> tuple[tuple[str, str], ...]:
    """``ValueError`` with the reason for anything APScheduler would misread or reject."""
    values = text.split()
    if len(values) not in (5, 6):
        raise ValueError(
            f"{text!r}: expected 5 fields (minute hour day month day-of-week) or 6 (seconds first), got {len(values)}"
        )
    fields = tuple(zip(FIELDS_5 if len(values) == 5 else FIELDS_6, values))
    dow = dict(fields)["day_of_week"]
    if re.search(r"\d", dow):
        raise ValueError(
            f"{text!r}: write days of the week as names (mon … sun), not {dow!r} (APScheduler counts 0 as Monday, cron as Sunday)"
        )
    for name, value in fields:
        try:
            CronTrigger(**{name: value})
        except ValueError as e:
            raise ValueError(f"{text!r}: {name.replace('_', '-')} {value!r}: {e}") from None
    return fields


def default_jobs(deadlines: Deadlines) -> tuple[JobSpec, ...]:
    """The calendar the deadline rules in force today imply."""
    dates = sorted({(r.month, r.day) for r in deadlines.rules if r.to_year is None})
    jobs: dict[tuple, JobSpec] = {}

    def add(job_id: str, note: str, **spec: str) -> None:
        fields = tuple(sorted({**RUN_AT, **spec}.items()))
        jobs.setdefault(fields, JobSpec(job_id, fields, note))

    for month, day in dates:
        due = date(2001, month, day)  # a common year: no 29 February
        tag = f"{month:02d}{day:02d}"
        sweep, final = due + timedelta(days=1), due + timedelta(days=deadlines.grace_days + 1)
        add(f"sweep-{tag}", f"期限 {month} 月 {day} 日后首次检查", month=str(sweep.month), day=str(sweep.day))
        start = sweep + timedelta(days=1)
        while start < final:  # weekly follow-ups, one cron per month touched
            month_end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            end = min(final - timedelta(days=1), month_end)
            add(
                f"weekly-{tag}-{start.month:02d}",
                f"期限 {month} 月 {day} 日后每周复查",
                month=str(start.month),
                day=f"{start.day}-{end.day}",
                day_of_week="mon",
            )
            start = end + timedelta(days=1)
        add(f"final-{tag}", f"宽限期（{deadlines.grace_days} 天）结束后的缺报检查", month=str(final.month), day=str(final.day))
    return tuple(jobs.values())


def missed_fire(triggers: list[CronTrigger], last_run: datetime | None, now: datetime, grace: timedelta) -> datetime | None:
    """The first time a trigger fired (or should have) after the last run and within
    the grace period, if any: that run was missed, and one is due now."""
    since = max(last_run, now - grace) if last_run else now - grace
    missed = None
    for trigger in triggers:
        fire = trigger.get_next_fire_time(None, since + timedelta(microseconds=1))
        if fire is not None and fire <= now and (missed is None or fire < missed):
            missed = fire
    return missed
