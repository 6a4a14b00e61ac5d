"""How much of each portal's 年报 list each crawl saw (``list_walks``).

One row per list walk (crawl run × portal × the list's first URL): pages
walked, items found and kept, whether the pager was understood, how the walk
ended, whether the list was seen in full, and when not, the warning class and
the page that shows it. The crawler writes a row when a walk starts and
completes it when the walk ends; a row left open means the crawl was cut short.

``seen``: ``full`` (the whole list, this crawl), ``new_only`` (up to the first
page with nothing new: earlier crawls walked the rest; enough to say a report
is not there, not enough to say one has gone), ``partial`` (not fully seen:
see ``warning``), null (the walk never ended).

An ended walk also records its entries, in list order (``list_entries``:
the run that last listed each one, and its place): what a later crawl compares
its own walk with (:mod:`archive.report_urls`, ``crawler.list_memory``).
"""

from __future__ import annotations

import sqlite_utils

WARNING_NAMES = {
    "list_unreadable": "列表无法解读",
    "list_empty": "列表首页为空",
    "pager_unreadable": "分页无法跟进",
    "list_failed": "列表页无法读取",
    "list_limit": "列表页数达到上限",
    "interrupted": "抓取中断",
}
_COLUMNS = (
    "portal",
    "url",
    "parent_url",
    "family",
    "started_at",
    "ended_at",
    "pages",
    "items",
    "kept",
    "sources",
    "pager",
    "ended",
    "seen",
    "warning",
    "warning_url",
    "detail",
)


def record_walk(db: sqlite_utils.Database, run_id: int | None, w: dict) -> None:
    """A walk as started or as ended (the same row: run, portal and URL identify it); an
    ended walk's entries (``entries``: url, title, in list order) into ``list_entries``."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("portal", "url", "started_at"))
    db.execute(
        f"insert into list_walks (run_id, {', '.join(_COLUMNS)}) values (?{', ?' * len(_COLUMNS)}) "
        f"on conflict(run_id, portal, url) do update set {updates}",
        [run_id, *(w.get(c) for c in _COLUMNS)],
    )
    at = w.get("ended_at")
    db.conn.executemany(
        "insert into list_entries (portal, walk, url, title, run_id, position, first_listed, last_listed) "
        "values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (portal, walk, url) do update set title = excluded.title, "
        "run_id = excluded.run_id, position = excluded.position, last_listed = excluded.last_listed",
        [(w["portal"], w["url"], e["url"], e["title"], run_id, i, at, at) for i, e in enumerate(w.get("entries") or [])],
    )


def walks(db: sqlite_utils.Database, portal: str, run_id: int) -> list[dict]:
    return list(db.query("select * from list_walks where portal = ? and run_id = ? order by id", [portal, run_id]))


def fully_seen(db: sqlite_utils.Database, portal: str, run_id: int) -> bool:
    """Whether crawl run ``run_id`` saw the whole of portal ``portal``'s list (every walk
    ended, each read to its end this crawl): only then may a report absent from it be
    said to have gone."""
    rows = walks(db, portal, run_id)
    return bool(rows) and all(r["seen"] == "full" for r in rows)


def unseen_lists(db: sqlite_utils.Database, latest: dict[str, int]) -> dict[str, dict]:
    """Portals whose list was not fully seen in their latest crawl (enough to call a report
    missing needs ``full`` or ``new_only`` for every walk): portal → the walk that shows it,
    with ``warning`` set (``interrupted`` for a walk that never ended). Portals whose latest
    crawl recorded no walk (an archive made before walks were recorded) are not here."""
    out: dict[str, dict] = {}
    for row in db.query(
        "select w.* from list_walks w join (select portal, max(run_id) as run_id from list_walks group by portal) m "
        "on m.portal = w.portal and m.run_id = w.run_id where w.seen is null or w.seen = 'partial' order by w.id"
    ):
        if row["run_id"] == latest.get(row["portal"]) and row["portal"] not in out:
            if row["seen"] is None:
                row = {**row, "warning": "interrupted", "warning_url": row["url"], "detail": "抓取在读完该列表前中断"}
            out[row["portal"]] = row
    return out


def describe(row: dict) -> str:
    """One walk's evidence in words (Chinese), for findings and ``nianbao check``."""
    name = WARNING_NAMES.get(row["warning"] or "", row["warning"] or "")
    return (
        f"门户 {row['portal']} 的年报列表未完整读取（{name}：{row['detail'] or ''}；"
        f"已读 {row['pages']} 页，条目 {row['items']} 个，保留 {row['kept']} 个），不计为缺报"
    )
