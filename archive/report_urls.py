"""Where each report was seen, and the evidence that it is no longer there (``report_urls``).

A report (agency, year) keeps every URL any of its versions was seen at: the version last
seen there, its page's last capture, first and last seen (a sighting, or a 304 answer to a
revalidation). A URL has gone when a crawl gives positive evidence of it, and only a crawl
that read the portal's whole list (every walk ``full``: :func:`archive.list_walks.fully_seen`):

* ``unlisted``  it was on a list in an earlier crawl and is not on that list, read in full
  this time, nor on any other (``list_entries``: every entry, report or not, so a title
  reworded is not a report gone); listed again, the evidence is dropped;
* ``dead``      its page answered 404 or 410, or a soft 404 (the page now says it does not
  exist, or sends the reader to the home page: the spider's ``gone_page``); answering again
  (200 or 304), the evidence is dropped.

An unreachable portal, a list not fully read, a walk that stopped at the first page with
nothing new, a server error, a timeout or a firewall's challenge is never evidence.
``nianbao check`` turns the URLs into findings: every URL gone is ``withdrawn``, some gone
while another is still there is ``moved`` (:mod:`archive.compliance`).
"""

from __future__ import annotations

import json
from collections import Counter

import sqlite_utils

from . import list_walks

DEAD_STATUSES = {404: "http_404", 410: "http_410"}
CAPTURE_PATH = "/-/capture/"  # an archived copy's address in the archive (``nianbao serve``)
_BLOCKED = (
    "exists (select 1 from problems p where p.run_id = c.run_id and p.kind = 'blocked' and p.url in (c.url, c.requested_url))"
)


def note_sighting(db: sqlite_utils.Database, report_id: int, agency_key: str, year: int | None, sighting: dict, sha256) -> None:
    """A report version seen at the sighting's URL (``sha256``: its page's capture)."""
    seen = sighting["seen_at"]
    newer = "excluded.last_seen >= report_urls.last_seen"
    db.execute(
        f"""insert into report_urls (agency_key, year, url, listed_url, portal, report_id, sha256, first_seen, last_seen)
        values (?, ?, ?, ?, ?, ?, ?, ?, ?)
        on conflict (agency_key, year, url) do update set
          listed_url = case when {newer} then excluded.listed_url else listed_url end,
          portal = case when {newer} then excluded.portal else portal end,
          report_id = case when {newer} then excluded.report_id else report_id end,
          sha256 = case when {newer} then coalesce(excluded.sha256, sha256) else sha256 end,
          first_seen = min(first_seen, excluded.first_seen)""",
        [
            agency_key,
            year,
            sighting["url"],
            sighting.get("listed_url") or sighting["url"],
            sighting["portal"],
            report_id,
            sha256,
            seen,
            seen,
        ],
    )
    _answered(db, seen, "agency_key = ? and year is ? and url = ?", [agency_key, year, sighting["url"]])


def review_run(db: sqlite_utils.Database, run_id: int) -> Counter:
    """What crawl run ``run_id`` showed of the report URLs of its portals: seen again (304
    answers), listed again, taken off a list, gone. Returns how many URLs it found gone."""
    row = db.execute("select portals from crawl_runs where id = ?", [run_id]).fetchone()
    portals = json.loads(row[0] or "[]") if row else []
    gone: Counter = Counter()
    with db.atomic():
        _seen_again(db, run_id)
        db.execute(
            "update report_urls set unlisted_run = null, unlisted_at = null, unlisted_list = null "
            "where unlisted_run is not null and exists (select 1 from list_entries e where e.url = report_urls.listed_url "
            "and e.run_id = ?)",
            [run_id],
        )
        full = {p for p in portals if list_walks.fully_seen(db, p, run_id)}  # only a list read in full is evidence
        for portal in full:
            gone["unlisted"] += _unlisted(db, portal, run_id)
        gone["dead"] += _dead(db, full, run_id)
    return +gone  # without the zeros


def _seen_again(db: sqlite_utils.Database, run_id: int) -> None:
    """Report pages that answered (a 304 to a revalidation counts: it is still there)."""
    for portal, url, requested, at in db.execute(
        f"select c.portal, c.url, c.requested_url, c.fetched_at from captures c where c.run_id = ? and c.role = 'report' "
        f"and c.status in (200, 304) and not {_BLOCKED}",
        [run_id],
    ).fetchall():
        _answered(db, at, "portal = ? and (url = ? or listed_url = ?)", [portal, url, requested or url])


def _answered(db: sqlite_utils.Database, at: str, where: str, params: list) -> None:
    """The URLs ``where`` says answered at ``at``: seen then, and what said they had gone before then dropped."""
    db.execute(f"update report_urls set last_seen = max(last_seen, ?) where {where}", [at, *params])
    db.execute(
        f"update report_urls set dead_run = null, dead_at = null, dead_how = null, dead_url = null where dead_at < ? and {where}",
        [at, *params],
    )


def _unlisted(db: sqlite_utils.Database, portal: str, run_id: int) -> int:
    """Report URLs listed on a walk before, absent from it now that it was read in full (and
    from every other list read this time)."""
    ended = dict(db.execute("select url, ended_at from list_walks where run_id = ? and portal = ?", [run_id, portal]))
    rows = db.execute(
        """select r.id, e.walk from report_urls r join list_entries e on e.portal = r.portal and e.url = r.listed_url
        where r.portal = ? and r.unlisted_run is null and e.run_id < ?
          and not exists (select 1 from list_entries now where now.url = r.listed_url and now.run_id = ?)""",
        [portal, run_id, run_id],
    ).fetchall()
    marked = {i: walk for i, walk in rows if walk in ended}
    db.conn.executemany(
        "update report_urls set unlisted_run = ?, unlisted_at = ?, unlisted_list = ? where id = ?",
        [(run_id, ended[walk], walk, i) for i, walk in marked.items()],
    )
    return len(marked)


def _dead(db: sqlite_utils.Database, portals: set[str], run_id: int) -> int:
    """Report URLs of ``portals`` whose page answered 404/410 (no firewall's challenge) or a
    soft 404 in this run (one pass over the run's captures and problems, whatever the number
    of portals)."""
    answers = [
        (portal, requested or url, url, DEAD_STATUSES[status], at)
        for portal, url, requested, status, at in db.execute(
            f"select c.portal, c.url, c.requested_url, c.status, c.fetched_at from captures c where c.run_id = ? "
            f"and c.role = 'report' and c.status in ({', '.join(map(str, DEAD_STATUSES))}) and not {_BLOCKED}",
            [run_id],
        )
    ]
    answers += [
        (portal, listed, final or listed, "soft_404", at)
        for portal, listed, at, final in db.execute(
            "select p.portal, p.url, p.at, (select c.url from captures c where c.run_id = p.run_id "
            "and c.requested_url = p.url order by c.id desc limit 1) from problems p where p.run_id = ? and p.kind = 'gone_page'",
            [run_id],
        )
    ]
    marked = 0
    for portal, listed, final, how, at in answers:
        if portal in portals:
            marked += db.execute(
                "update report_urls set dead_run = ?, dead_at = ?, dead_how = ?, dead_url = ? "
                "where portal = ? and dead_run is null and (listed_url = ? or url = ?)",
                [run_id, at, how, final, portal, listed, listed],
            ).rowcount
    return marked


def capture_path(sha256: str | None) -> str | None:
    return CAPTURE_PATH + sha256 if sha256 else None


def gone(row: dict) -> bool:
    return bool(row["dead_run"] or row["unlisted_run"])


def still_answering(row: dict) -> bool:
    """Taken off its list, but its page answered after that (a revalidation, or the recheck
    the crawl makes of every report that left a list)."""
    return bool(row["unlisted_run"]) and not row["dead_run"] and (row["last_seen"] or "") >= (row["unlisted_at"] or "")


def gone_reports(db: sqlite_utils.Database, year: int) -> set[str]:
    """Agencies with a URL of their ``year`` report gone (read from a partial index)."""
    return {
        key
        for (key,) in db.execute(
            "select distinct agency_key from report_urls where year = ? and (dead_run is not null or unlisted_run is not null)",
            [year],
        )
    }


def urls(db: sqlite_utils.Database, agency_key: str, year: int) -> list[dict]:
    """The report's URLs, first seen first, each with the date it was last on a list."""
    return list(
        db.query(
            """select r.*, (select max(e.last_listed) from list_entries e where e.portal = r.portal
                              and e.url = r.listed_url) as last_listed
            from report_urls r where r.agency_key = ? and r.year is ? order by r.first_seen, r.id""",
            [agency_key, year],
        )
    )


def fate(row: dict) -> str | None:
    """What happened to one URL, in words (Chinese) that do not change while the facts do
    not; None while it is still there."""
    if row["dead_run"]:
        elsewhere = row["dead_url"] not in (None, row["url"], row["listed_url"])
        how = {
            "http_404": "返回 HTTP 404（页面不存在）",
            "http_410": "返回 HTTP 410（已删除）",
            "soft_404": f"跳转到 {row['dead_url']}（软 404）" if elsewhere else "页面提示不存在（软 404）",
        }[row["dead_how"]]
        listed = f"，且已不在列表 {row['unlisted_list']} 中" if row["unlisted_run"] else ""
        return f"自 {row['dead_at'][:10]} 起{how}{listed}"
    if row["unlisted_run"]:
        still = "，原网址仍可访问" if still_answering(row) else ""
        return f"自 {row['unlisted_at'][:10]} 起不再列于 {row['unlisted_list']}（该列表已完整读取）{still}"
    return None


def describe(row: dict) -> str:
    return f"{row['url']} {fate(row) or '仍在'}"


def last_capture(row: dict) -> str:
    """When the URL last showed the report: the last capture, or for a page taken off its list
    but still answering, the last time it was listed (later captures would change the words)."""
    when = row["last_listed"] if still_answering(row) and row["last_listed"] else row["last_seen"]
    return (when or "")[:10]
