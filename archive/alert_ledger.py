"""What was planned, sent and told, per channel and per part (tables ``alert_digests``,
``alert_parts``, ``alert_part_findings`` and ``alerts_sent``).

A digest is stored before its first message is sent; each part is marked sent
only after the receiver accepted it, and a finding is told (``alerts_sent``)
once no part carrying it is still waiting. A part still waiting whose findings
changed since it was planned is superseded (never sent stale): its findings are
planned again in their present state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils


@dataclass
class PlannedPart:
    number: int  # 0: the summary
    total: int
    role: str  # summary | detail
    payload: dict
    keys: list[tuple[str, str]]  # (finding key, state) told by this part (none for a summary)


def finding_state(row: dict) -> str:
    """A finding's state as told: what it says, or that it was resolved."""
    return f"resolved:{row['state']}" if row["resolved_at"] else row["state"]


def store(db: sqlite_utils.Database, channel: str, year: int | None, now: str, subject: str, parts: list[PlannedPart]) -> None:
    findings = sum(len(p.keys) for p in parts)
    with db.atomic():
        digest = (
            db["alert_digests"]
            .insert(
                {
                    "channel": channel,
                    "year": year,
                    "created_at": now,
                    "subject": subject,
                    "findings": findings,
                    "parts": len(parts),
                }
            )
            .last_pk
        )
        for part in parts:
            part_id = (
                db["alert_parts"]
                .insert(
                    {
                        "digest_id": digest,
                        "channel": channel,
                        "number": part.number,
                        "total": part.total,
                        "role": part.role,
                        "payload": json.dumps(part.payload, ensure_ascii=False),
                        "status": "pending",
                        "attempts": 0,
                    }
                )
                .last_pk
            )
            db.conn.executemany(
                "insert into alert_part_findings (part_id, finding_key, state) values (?, ?, ?)",
                [(part_id, key, state) for key, state in part.keys],
            )


def _stale(db: sqlite_utils.Database, channel: str) -> set[int]:
    """Waiting detail parts carrying a finding whose state changed (or that is gone), and the
    waiting summaries of their digests."""
    stale = {
        part_id
        for (part_id,) in db.execute(
            "select distinct p.id from alert_parts p join alert_part_findings f on f.part_id = p.id "
            "left join compliance c on c.key = f.finding_key "
            "where p.channel = ? and p.status = 'pending' and (c.key is null or f.state != "
            "case when c.resolved_at is not null then 'resolved:' || c.state else c.state end)",
            [channel],
        )
    }
    if stale:
        marks = ",".join("?" * len(stale))
        stale |= {
            part_id
            for (part_id,) in db.execute(
                f"select id from alert_parts where status = 'pending' and role = 'summary' and digest_id in "
                f"(select digest_id from alert_parts where id in ({marks}))",
                list(stale),
            )
        }
    return stale


def outstanding(db: sqlite_utils.Database, channel: str, supersede: bool = True) -> list[dict]:
    """The channel's parts still to be sent, oldest digest first, summary before details.
    Stale parts are marked superseded (``supersede``) or only left out (a dry run)."""
    stale = _stale(db, channel)
    if stale and supersede:
        with db.atomic():
            db.conn.executemany("update alert_parts set status = 'superseded' where id = ?", [(i,) for i in stale])
    parts = []
    for row in db.query(
        "select id, digest_id, number, total, role, payload from alert_parts "
        "where channel = ? and status = 'pending' order by digest_id, number",
        [channel],
    ):
        if row["id"] in stale:
            continue
        keys = [tuple(k) for k in db.execute("select finding_key, state from alert_part_findings where part_id = ?", [row["id"]])]
        parts.append({**row, "payload": json.loads(row["payload"]), "keys": keys})
    return parts


def sent(db: sqlite_utils.Database, part: dict, channel: str, now: str, tried: float, subject: str) -> int:
    """The receiver accepted the part: mark it, and tell every finding no waiting part still
    carries. Returns how many findings were told."""
    with db.atomic():
        db.execute(
            "update alert_parts set status = 'sent', sent_at = ?, tried_ts = ?, attempts = attempts + 1, "
            "payload = null, error = null where id = ?",
            [now, tried, part["id"]],
        )
        told = db.execute(
            "insert into alerts_sent (finding_key, channel, state, sent_at, digest) "
            "select f.finding_key, ?, f.state, ?, ? from alert_part_findings f where f.part_id = ? "
            "and not exists (select 1 from alert_part_findings g join alert_parts p on p.id = g.part_id "
            "where g.finding_key = f.finding_key and g.state = f.state and p.channel = ? and p.status = 'pending')",
            [channel, now, subject, part["id"], channel],
        ).rowcount
    return told


def refused(db: sqlite_utils.Database, part: dict, error: str, tried: float | None) -> None:
    with db.atomic():
        db.execute(
            "update alert_parts set attempts = attempts + 1, error = ?, tried_ts = coalesce(?, tried_ts) where id = ?",
            [error, tried, part["id"]],
        )


def recent_tries(db: sqlite_utils.Database, channel: str, since: float) -> list[float]:
    """When this channel's messages last reached their receiver (pacing carries over between runs)."""
    return [t for (t,) in db.execute("select tried_ts from alert_parts where channel = ? and tried_ts > ?", [channel, since])]


def untold(db: sqlite_utils.Database, channel: str) -> int:
    """Findings planned for this channel and not yet told: waiting in a part not yet accepted."""
    return db.execute(
        "select count(distinct f.finding_key) from alert_part_findings f join alert_parts p on p.id = f.part_id "
        "where p.channel = ? and p.status = 'pending'",
        [channel],
    ).fetchone()[0]
