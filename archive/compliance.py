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
* ``unstored``     nothing in the archive, but a report of the agency was found
                   and not stored yet (a full disk …), or the portal's latest
                   crawl could not write everything it found: never missing;
* ``unmatched``    nothing stored under the agency, but its portal carries a report
                   of the year under a name that can be its own (住建局 for
                   住房和城乡建设局, see ``archive.name_match``) and that no other
                   registered body took: never missing (add the name as an alias);
* ``late``         published after the deadline (the deadline day is on time);
                   with no date on the page, the first capture time is used and
                   the confidence is ``low``;
* ``replaced``     a new version with different numbers first seen after the deadline
                   (in place, at the URL the version before it was seen at: with both
                   archived copies);
* ``withdrawn``    the report was published and archived, and every URL it was seen at
                   has gone: off a list read in full, or its page answering 404/410 or
                   a soft 404 in a crawl that read the whole list (``archive.report_urls``);
                   with the last capture's date and the archived copy as evidence;
* ``moved``        a URL it was seen at has gone while it is still at another;
* ``unparseable``  the report was found but its tables could not be read;
* ``inconsistent`` error-level rule failures (勾稽关系 …) in the current version;
* ``cross_year``   this year's 上年结转 differs from last year's 结转下年度.

Findings are kept in ``compliance`` with a state (a digest of what they say),
so alerts go out once, again when a finding changes, and when it is resolved.
The expected agencies of the year are kept beside them (``roll``: each with its
current report, if any). These two tables are the one answer every view gives
(Datasette, exports, alerts, the demo): none works out who is missing by itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import sqlite_utils

from . import list_walks, report_urls
from .deadlines import Deadlines
from .name_match import could_be_same
from .names import KIND_NAMES, PARSE_STATUS_NAMES, PROBLEM_NAMES, RULE_NAMES
from .runs import unfinished_runs
from .store import agency_key

__all__ = ["KINDS", "KIND_NAMES", "ComplianceFinding", "check_year", "record"]

KINDS = (
    "missing",
    "unreachable",
    "unstored",
    "unmatched",
    "withdrawn",
    "moved",
    "late",
    "replaced",
    "unparseable",
    "inconsistent",
    "cross_year",
)
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
    evidence: str | None = None  # the report's URL, the problem URL, or an archived copy (/-/capture/<sha256>)

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


def _unregistered_portals(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """For each body known only by the name it published under, the portals it was seen on
    (read once a check: one pass over the unattributed sightings)."""
    out: dict[str, set[str]] = {}
    seen = db.execute("select distinct portal, agency_name from sightings where agency_id is null and agency_name is not null")
    for portal, name in seen:
        out.setdefault(agency_key(None, name), set()).add(portal)
    return {key: sorted(portals) for key, portals in out.items()}


def _portals_of(db: sqlite_utils.Database, key: str, unregistered: dict[str, list[str]]) -> list[str]:
    """The portals an agency is listed on: the registry's, or (a body known only by the name
    it published under) those it was seen on."""
    portals = [p for (p,) in db.execute("select portal from agency_portals where agency_id = ?", [key])]
    return portals or unregistered.get(key, [])


def _similar_reports(db: sqlite_utils.Database, key: str, name: str, year: int, portals: list[str]) -> list[dict]:
    """Sightings of the year on these portals under another name that can be this agency's
    (``archive.name_match``): unattributed ones for a registered agency; for a body known
    only by a name, any (the registered body it abbreviated may have published under its
    full name this year)."""
    if not portals or not name:
        return []
    marks = ", ".join("?" for _ in portals)
    rows = db.query(
        f"select portal, agency_id, agency_name, url from sightings where year = ? and portal in ({marks}) order by id",
        [year, *portals],
    )
    registered = not key.startswith("name:")
    return [
        r
        for r in rows
        if r["agency_name"]
        and agency_key(r["agency_id"], r["agency_name"]) != key
        and not (registered and r["agency_id"])
        and could_be_same(name, r["agency_name"])
    ]


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


def _problem(kind: str) -> str:
    return PROBLEM_NAMES.get(kind, kind)


def _latest_runs(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(
        db.execute(
            "select portal, max(run_id) from (select portal, run_id from captures "
            "union all select portal, run_id from problems) group by portal"
        )
    )


def _unstored(db: sqlite_utils.Database, year: int) -> dict[str, int]:
    """Agency → sightings of ``year`` found but still pending (not in the archive)."""
    return dict(
        db.execute(
            "select agency_id, count(*) from sightings where ingested_at is null and year = ? and agency_id is not null "
            "group by agency_id",
            [year],
        )
    )


def _unfinished_crawls(db: sqlite_utils.Database, also: Iterable[int]) -> dict[str, dict]:
    """Portals whose latest crawl did not end with everything stored (archive.runs):
    portal → that run."""
    unfinished = unfinished_runs(db, also)
    latest: dict[str, dict] = {}
    for run in db.query("select id, started_at, status, unstored, portals from crawl_runs order by id"):
        for portal in json.loads(run["portals"] or "[]"):
            latest[portal] = run
    return {portal: run for portal, run in latest.items() if run["id"] in unfinished}


def archive_gap(db: sqlite_utils.Database) -> str | None:
    """Why the archive is not complete (reports found but not stored), or None: while it
    is not, alerts are held."""
    pending = db.execute("select count(*) from sightings where ingested_at is null").fetchone()[0]
    last = db.execute("select id, status, unstored from crawl_runs order by id desc limit 1").fetchone()
    if pending:
        return f"{pending} 份已抓取的年报尚未入库"
    if last and last[1] == "incomplete":
        return f"最近一次抓取（批次 {last[0]}）有 {last[2]} 项未能写入归档"
    if last and last[0] in unfinished_runs(db):
        return f"最近一次抓取（批次 {last[0]}）未能正常结束"
    return None


def check_year(
    db: sqlite_utils.Database,
    year: int,
    deadlines: Deadlines,
    today: date,
    region: str = "",
    unfinished: Iterable[int] = (),
) -> list[ComplianceFinding]:
    """The year's findings; ``unfinished``: crawl runs known not to have stored all they
    found (beyond those the archive records as such)."""
    findings: list[ComplianceFinding] = []
    latest = _latest_runs(db)
    blocked, read = _blocked_portals(db, latest), _read_portals(db)
    unstored, cut_short = _unstored(db, year), _unfinished_crawls(db, unfinished)
    unseen = list_walks.unseen_lists(db, latest)
    gone = report_urls.gone_reports(db, year)
    unregistered = _unregistered_portals(db)
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
            portals = _portals_of(db, key, unregistered)
            down = [blocked[p] for p in portals if p in blocked]
            partial = [unseen[p] for p in portals if p in unseen]
            cut = [(p, cut_short[p]) for p in portals if p in cut_short]
            if key in unstored:
                findings.append(
                    ComplianceFinding(
                        "unstored",
                        **base,
                        detail=f"已抓取 {unstored[key]} 份该年度年报，但尚未写入归档（写入失败），不计为缺报；下次运行会补存",
                    )
                )
            elif cut:
                portal, run = cut[0]
                what = (
                    f"有 {run['unstored']} 项未能写入归档"
                    if run["status"] == "incomplete"
                    else "未能正常结束（写入失败或进程中断）"
                )
                findings.append(
                    ComplianceFinding(
                        "unstored",
                        **base,
                        confidence="low",
                        detail=f"门户 {portal} 最近一次抓取（{run['started_at'][:10]}）{what}，无法确认是否已发布，不计为缺报",
                    )
                )
            elif down and len(down) == len(portals):
                findings.append(
                    ComplianceFinding(
                        "unreachable",
                        **base,
                        evidence=down[0]["url"],
                        detail=f"门户 {down[0]['portal']} 无法读取（{_problem(down[0]['kind'])}），不计为缺报",
                    )
                )
            elif partial:  # a list not fully seen may hold the report
                findings.append(
                    ComplianceFinding(
                        "unreachable", **base, evidence=partial[0]["warning_url"], detail=list_walks.describe(partial[0])
                    )
                )
            elif similar := _similar_reports(db, key, agency["name"], year, portals):
                names = "、".join(dict.fromkeys(f"“{r['agency_name']}”" for r in similar))
                findings.append(
                    ComplianceFinding(
                        "unmatched",
                        **base,
                        confidence="low",
                        evidence=similar[0]["url"],
                        detail=f"门户 {similar[0]['portal']} 上有名称相近的 {year} 年度年报（{names}），"
                        "未能对应到该机关，可能即其年报，不计为缺报；请核对，属实则在配置中为该机关添加别名",
                    )
                )
            elif (unreadable := _unreadable_listing(db, key, year)) is not None:
                findings.append(
                    ComplianceFinding(
                        "unreachable",
                        **base,
                        evidence=unreadable["url"],
                        detail=f"门户 {unreadable['portal']} 列出了该机关的年报，但页面无法读取"
                        f"（{_problem(unreadable['kind'])}），不计为缺报",
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
        if key in gone:
            findings += _url_findings(db, base, current, versions)
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
    for before, v in zip(versions, versions[1:]):
        if (v["first_seen"] or "")[:10] > due.isoformat():
            changed = json.loads(v["changed_cells"] or "[]")
            if changed:
                out.append(_replaced(db, base, before, v, changed))
    if current["parse_status"] in ("failed", "no_text", "no_tables", "no_source"):
        out.append(
            ComplianceFinding(
                "unparseable",
                **base,
                report_id=current["id"],
                evidence=current["url"],
                detail=f"年报已找到，表格无法读取：{PARSE_STATUS_NAMES.get(current['parse_status'], current['parse_status'])}",
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
                "inconsistent",
                **base,
                report_id=current["id"],
                evidence=current["url"],
                detail="未通过：" + "、".join(RULE_NAMES.get(r, r) for r in rules),
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


def _replaced(db, base: dict, before: dict, v: dict, changed: list[dict]) -> ComplianceFinding:
    """A later version; replaced in place when it was first seen at a URL the version before
    it was seen at: then both archived copies are the evidence."""
    seen_at = [u for (u,) in db.execute("select url from sightings where report_id = ? order by seen_at, id", [v["id"]])]
    earlier = {u for (u,) in db.execute("select url from sightings where report_id = ?", [before["id"]])}
    url = seen_at[0] if seen_at else v["url"]
    cells = f"{len(changed)} 个单元格改变：" + "、".join(f"{c['cell']} {c['old']}→{c['new']}" for c in changed[:5])
    when = f"第 {v['version']} 版于 {v['first_seen'][:10]}（期限后）"
    if url in earlier and before["source_sha256"] and v["source_sha256"]:
        old, new = (report_urls.capture_path(r["source_sha256"]) for r in (before, v))
        detail = f"{when}在原网址 {url} 替换了第 {before['version']} 版，{cells}；替换前的存档副本 {old}，替换后的 {new}"
        return ComplianceFinding("replaced", **base, report_id=v["id"], evidence=url, detail=detail)
    return ComplianceFinding("replaced", **base, report_id=v["id"], evidence=url, detail=f"{when}出现，{cells}")


def _url_findings(db, base: dict, current: dict, versions: list[dict]) -> list[ComplianceFinding]:
    """Withdrawn (every URL the report was seen at has gone) or moved (some have, it is still
    at another), from the evidence the crawls kept (``archive.report_urls``)."""
    urls = report_urls.urls(db, base["agency_key"], base["year"])
    gone = [u for u in urls if report_urls.gone(u)]
    if not gone:
        return []
    live = [u for u in urls if not report_urls.gone(u)]
    what = "；".join(report_urls.describe(u) for u in gone[:3]) + (f" 等 {len(gone)} 个网址" if len(gone) > 3 else "")
    if live:
        now = live[-1]
        number = {v["id"]: v["version"] for v in versions}
        same = now["report_id"] in {u["report_id"] for u in gone}
        content = "内容相同" if same else f"内容为第 {number.get(now['report_id'], '?')} 版，与原网址上的不同"
        detail = f"{what}；现见于 {now['url']}（{content}）"
        return [ComplianceFinding("moved", **base, report_id=current["id"], evidence=now["url"], detail=detail)]
    last = max(gone, key=lambda u: u["last_seen"] or "")
    shown = db.execute("select source_sha256 from reports where id = ?", [last["report_id"]]).fetchone()
    archived = report_urls.capture_path((shown[0] if shown else None) or last["sha256"])
    confidence = "medium" if all(report_urls.still_answering(u) for u in gone) else "high"
    detail = f"{what}；最后一次抓到 {report_urls.last_capture(last)}" + ("，存档副本为证" if archived else "")
    return [
        ComplianceFinding(
            "withdrawn", **base, confidence=confidence, report_id=current["id"], evidence=archived or last["url"], detail=detail
        )
    ]


def _roll(db: sqlite_utils.Database, year: int, region: str, now: str) -> list[dict]:
    """Every agency expected to publish for ``year`` (the same set ``check_year`` judges),
    and the agencies not in the registry that published for it, with their current report."""
    current = dict(
        db.execute(
            "select agency_key, id from reports where year = ? and is_current = 1 "
            "and coalesce(region, '') >= ? and coalesce(region, '') < ? || ';'",
            [year, region, region],
        )
    )
    rows = {
        a["agency_key"]: {
            "year": year,
            "agency_key": a["agency_key"],
            "agency_name": a["name"],
            "region": a["region"] or "",
            "level": a["level"],
            "report_id": current.get(a["agency_key"]),
            "checked_at": now,
        }
        for a in _expected(db, year, region)
    }
    for r in db.query(
        "select agency_key, agency_name, region, level, id from reports where year = ? and is_current = 1 "
        "and agency_id is null and coalesce(region, '') >= ? and coalesce(region, '') < ? || ';'",
        [year, region, region],
    ):
        rows.setdefault(
            r["agency_key"],
            {
                "year": year,
                "agency_key": r["agency_key"],
                "agency_name": r["agency_name"],
                "region": r["region"] or "",
                "level": r["level"],
                "report_id": r["id"],
                "checked_at": now,
            },
        )
    return list(rows.values())


def record(
    db: sqlite_utils.Database, year: int, findings: list[ComplianceFinding], now: str, region: str = ""
) -> dict[str, list[dict]]:
    """Store this check's findings and its roll of expected agencies; returns what
    changed: new, changed and resolved findings."""
    changes: dict[str, list[dict]] = {"new": [], "changed": [], "resolved": []}
    seen = set()
    roll = _roll(db, year, region, now)
    with db.atomic():
        db.execute(
            "delete from roll where year = ? and coalesce(region, '') >= ? and coalesce(region, '') < ? || ';'",
            [year, region, region],
        )
        db["roll"].insert_all(roll, pk=("year", "agency_key"), replace=True)
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
        _count_counties(db, year, region[:6])
    return changes


_COUNTED = ("missing", "late", "unreachable", "inconsistent")


def _count_counties(db: sqlite_utils.Database, year: int, county: str) -> None:
    """``roll_counts``: per county (first six digits) of the roll, how many agencies were
    expected, reported, and have an open finding of each counted kind."""
    kinds = ", ".join(f"sum(kind = '{k}') as {k}" for k in _COUNTED)
    sums = ", ".join(f"coalesce(sum(c.{k}), 0)" for k in _COUNTED)
    db.execute("delete from roll_counts where year = ? and county >= ? and county < ? || ';'", [year, county, county])
    db.execute(
        f"""insert into roll_counts (year, county, expected, reported, {", ".join(_COUNTED)})
        select r.year, substr(r.region, 1, 6), count(*), count(r.report_id), {sums}
        from roll r left join (select agency_key, {kinds} from compliance where year = :year and resolved_at is null
                               group by agency_key) c on c.agency_key = r.agency_key
        where r.year = :year and r.region >= :county and r.region < :county || ';'
        group by substr(r.region, 1, 6)""",
        {"year": year, "county": county},
    )
