"""Who has not published, who published late, whose numbers do not add up.

For one reporting year, every *expected* agency — the configured registry
(less those retired before the year ended) plus every agency that published
in an earlier year (a reporter that falls silent is missing) — gets at most
one finding of each kind:

* ``missing``      nothing found, ``grace_days`` after the deadline have passed,
                   and the portal listing it was read in the latest crawl;
* ``unreachable``  nothing found, but the portal that lists it was blocked
                   (WAF) or down when last crawled, or its list was not fully
                   seen (``archive.list_walks``: unreadable list, unfollowable
                   pager …), or the report was listed under its name but its
                   page could not be read: never reported as missing;
* ``late``         published after the deadline (the deadline day is on time);
                   with no date on the page, the first capture time is used and
                   the confidence is ``low``;
* ``replaced``     a new version with different numbers first seen after the deadline;
* ``unparseable``  the report was found but its tables could not be read;
* ``inconsistent`` error-level rule failures (勾稽关系 …) in the current version;
* ``cross_year``   this year's 上年结转 differs from last year's 结转下年度.

Findings are kept in ``compliance`` with a state (a digest of what they say),
so alerts go out once, again when a finding changes, and when it is resolved.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import sqlite_utils

from . import list_walks
from .deadlines import Deadlines

KINDS = ("missing", "unreachable", "late", "replaced", "unparseable", "inconsistent", "cross_year")
KIND_NAMES = {
    "missing": "缺报",
    "unreachable": "门户无法访问",
    "late": "迟报",
    "replaced": "期限后修改",
    "unparseable": "无法解析",
    "inconsistent": "勾稽不符",
    "cross_year": "跨年度不衔接",
}
BLOCKING_PROBLEMS = ("blocked", "unreachable", "http_error", "robots_disallowed", "fetch_error", "forbidden_address")


@dataclass(frozen=True)
class ComplianceFinding:
    kind: str
    agency_key: str
    agency_name: str | None
    region: str | None
    level: str | None
    year: int
    due: str
    detail: str
    confidence: str = "high"
    report_id: int | None = None
    evidence: str | None = None  # the report's URL, or the problem URL

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.agency_key}:{self.year}"

    @property
    def state(self) -> str:
        return hashlib.sha256(f"{self.detail}|{self.confidence}|{self.report_id}".encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"key": self.key, **asdict(self)}


def _expected(db: sqlite_utils.Database, year: int, region: str) -> list[dict]:
    end = f"{year}-12-31"
    registry = list(
        db.query(
            "select id as agency_key, name, region, level from agencies "
            "where (retired is null or retired > ?) and region >= ? and region < ? || ';'",
            [end, region, region],
        )
    )
    known = {a["agency_key"] for a in registry}
    earlier = [
        r
        for r in db.query(
            "select agency_key, max(agency_name) as name, max(region) as region, max(level) as level from reports "
            "where year < ? and agency_id is null group by agency_key",
            [year],
        )
        if r["agency_key"] not in known and (r["region"] or "").startswith(region)
    ]
    return registry + earlier


def _blocked_portals(db: sqlite_utils.Database, latest: dict[str, int]) -> dict[str, dict]:
    """Portals whose list pages could not be read in their latest crawl: portal → the problem."""
    out: dict[str, dict] = {}
    marks = ",".join("?" * len(BLOCKING_PROBLEMS))
    for row in db.query(
        f"select portal, run_id, kind, url, detail from problems where role = 'list' and kind in ({marks}) order by id",
        list(BLOCKING_PROBLEMS),
    ):
        if row["run_id"] == latest.get(row["portal"]):
            out.setdefault(row["portal"], row)
    return out


def _read_portals(db: sqlite_utils.Database) -> set[str]:
    """Portals whose list pages have been read at least once."""
    return {p for (p,) in db.execute("select distinct portal from captures where role = 'list' and status = 200")}


def _unreadable_listing(db: sqlite_utils.Database, agency_id: str, year: int) -> dict | None:
    """The latest problem with a report listed under this agency and year, if any (an
    incremental crawl does not ask again for a page it has archived, so the evidence
    may be from an earlier run)."""
    return next(
        db.query(
            "select portal, kind, url, detail from problems where agency_id = ? and year = ? order by id desc limit 1",
            [agency_id, year],
        ),
        None,
    )


def _latest_runs(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(
        db.execute(
            "select portal, max(run_id) from (select portal, run_id from captures "
            "union all select portal, run_id from problems) group by portal"
        )
    )


def check_year(
    db: sqlite_utils.Database, year: int, deadlines: Deadlines, today: date, region: str = ""
) -> list[ComplianceFinding]:
    findings: list[ComplianceFinding] = []
    latest = _latest_runs(db)
    blocked, read = _blocked_portals(db, latest), _read_portals(db)
    unseen = list_walks.unseen_lists(db, latest)
    for agency in _expected(db, year, region):
        key = agency["agency_key"]
        due = deadlines.due(year, agency["level"], agency["region"])
        base = {
            "agency_key": key,
            "agency_name": agency["name"],
            "region": agency["region"],
            "level": agency["level"],
            "year": year,
            "due": due.isoformat(),
        }
        versions = list(db.query("select * from reports where agency_key = ? and year = ? order by version", [key, year]))
        if not versions:
            if today <= due + timedelta(days=deadlines.grace_days):
                continue
            portals = [p for (p,) in db.execute("select portal from agency_portals where agency_id = ?", [key])]
            down = [blocked[p] for p in portals if p in blocked]
            partial = [unseen[p] for p in portals if p in unseen]
            if down and len(down) == len(portals):
                findings.append(
                    ComplianceFinding(
                        "unreachable",
                        **base,
                        evidence=down[0]["url"],
                        detail=f"门户 {down[0]['portal']} 无法读取（{down[0]['kind']}：{down[0]['detail']}），不计为缺报",
                    )
                )
            elif partial:  # a list not fully seen may hold the report
                findings.append(
                    ComplianceFinding(
                        "unreachable", **base, evidence=partial[0]["warning_url"], detail=list_walks.describe(partial[0])
                    )
                )
            elif (unreadable := _unreadable_listing(db, key, year)) is not None:
                findings.append(
                    ComplianceFinding(
                        "unreachable",
                        **base,
                        evidence=unreadable["url"],
                        detail=f"门户 {unreadable['portal']} 列出了该机关的年报，但页面无法读取"
                        f"（{unreadable['kind']}：{unreadable['detail'][:120]}），不计为缺报",
                    )
                )
            else:
                checked = "；门户列表已读取" if read & set(portals) else "；尚无该机关门户的抓取记录"
                findings.append(
                    ComplianceFinding(
                        "missing",
                        **base,
                        confidence="high" if checked.endswith("读取") else "low",
                        detail=f"期限 {due.isoformat()} 已过 {deadlines.grace_days} 天宽限期，未找到年报{checked}",
                    )
                )
            continue
        current = next((v for v in versions if v["is_current"]), versions[-1])
        findings += _report_findings(db, base, due, versions, current)
    return findings


def _report_findings(db, base: dict, due: date, versions: list[dict], current: dict) -> list[ComplianceFinding]:
    out = []
    first = versions[0]
    published, confidence, how = first["published"], "high", "发布日期"
    if first["published_source"] == "list":
        confidence = "medium"
    if not published:
        published, confidence, how = (first["first_seen"] or "")[:10], "low", "首次抓取日期（页面未标发布日期）"
    if published and published > due.isoformat():
        days = (date.fromisoformat(published) - due).days
        out.append(
            ComplianceFinding(
                "late",
                **base,
                confidence=confidence,
                report_id=first["id"],
                evidence=first["url"],
                detail=f"{how} {published}，晚于期限 {due.isoformat()} {days} 天",
            )
        )
    for v in versions[1:]:
        if (v["first_seen"] or "")[:10] > due.isoformat():
            changed = json.loads(v["changed_cells"] or "[]")
            if changed:
                out.append(
                    ComplianceFinding(
                        "replaced",
                        **base,
                        report_id=v["id"],
                        evidence=v["url"],
                        detail=f"第 {v['version']} 版于 {v['first_seen'][:10]}（期限后）出现，"
                        f"{len(changed)} 个单元格改变：" + "、".join(f"{c['cell']} {c['old']}→{c['new']}" for c in changed[:5]),
                    )
                )
    if current["parse_status"] in ("failed", "no_text", "no_tables"):
        out.append(
            ComplianceFinding(
                "unparseable",
                **base,
                report_id=current["id"],
                evidence=current["url"],
                detail=f"{current['parse_status']}：{(current['parse_error'] or '没有可读的表格')[:200]}",
            )
        )
    rules = [
        r
        for (r,) in db.execute(
            "select distinct rule from findings where report_id = ? and severity = 'error' order by rule", [current["id"]]
        )
    ]
    if rules:
        out.append(
            ComplianceFinding(
                "inconsistent", **base, report_id=current["id"], evidence=current["url"], detail="未通过：" + "、".join(rules)
            )
        )
    previous = db.execute(
        "select carried_forward, id from reports where agency_key = ? and year = ? and is_current = 1",
        [base["agency_key"], base["year"] - 1],
    ).fetchone()
    if previous and previous[0] is not None and current["carried_over"] is not None and previous[0] != current["carried_over"]:
        out.append(
            ComplianceFinding(
                "cross_year",
                **base,
                report_id=current["id"],
                evidence=current["url"],
                detail=f"本年“上年结转” {current['carried_over']} 件 ≠ 上年“结转下年度” {previous[0]} 件",
            )
        )
    return out


def record(
    db: sqlite_utils.Database, year: int, findings: list[ComplianceFinding], now: str, region: str = ""
) -> dict[str, list[dict]]:
    """Store this check's findings; returns what changed: new, changed and resolved findings."""
    changes: dict[str, list[dict]] = {"new": [], "changed": [], "resolved": []}
    seen = set()
    with db.atomic():
        for f in findings:
            seen.add(f.key)
            row = db.execute("select state, resolved_at from compliance where key = ?", [f.key]).fetchone()
            values = {**f.to_dict(), "state": f.state, "last_seen": now, "resolved_at": None}
            if row is None or row[1] is not None:
                changes["new"].append(values)
                db["compliance"].upsert({**values, "first_seen": now}, pk="key")
            else:
                if row[0] != f.state:
                    changes["changed"].append(values)
                db["compliance"].update(f.key, values)
        for row in db.query(
            "select * from compliance where year = ? and resolved_at is null "
            "and coalesce(region, '') >= ? and coalesce(region, '') < ? || ';'",
            [year, region, region],
        ):
            if row["key"] not in seen:
                db["compliance"].update(row["key"], {"resolved_at": now})
                changes["resolved"].append({**row, "resolved_at": now})
    return changes
