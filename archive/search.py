"""Full-text search over report titles and text, for Chinese: ``nianbao search`` and
the web search page give the same answers.

FTS5's trigram tokenizer finds any substring of three or more characters
(Chinese has no spaces to split words on). One- and two-character queries
(复议, 城管, 申) are below the trigram size; they fall back to LIKE over
``report_text``, report by report from the newest, so a common word is found
at once and a year or region filter reads only those reports; a rare one- or
two-character word with no filter reads every text (≈1.7 s over 195,000
reports, bench/archive.py). Each hit carries a snippet: the text around the
first occurrence.
"""

from __future__ import annotations

import re

import sqlite_utils

SNIPPET = 40  # characters of context before the match (and about twice that after)
_COLUMNS = (
    "r.id as report_id, r.agency_name, r.year, r.version, r.is_current, r.title, r.url, r.region, "
    f"substr(t.text, max(1, instr(t.text, :q) - {SNIPPET}), {3 * SNIPPET}) as snippet, instr(t.text, :q) > {SNIPPET} as cut"
)


def search(db: sqlite_utils.Database, query: str, year: int | None = None, region: str = "", limit: int = 50) -> list[dict]:
    """Current and earlier versions whose title or text contains ``query``, the most
    recently archived first (an order both indexes give without sorting every match)."""
    query = query.strip()
    if not query:
        return []
    params: dict = {"q": query, "limit": limit}
    filters = ""
    if year is not None:
        filters += " and r.year = :year"
        params["year"] = year
    if region:
        filters += " and r.region >= :region and r.region < :region || ';'"
        params["region"] = region
    if len(query) >= 3:
        params["phrase"] = '"' + query.replace('"', '""') + '"'  # one literal phrase, never FTS syntax
        sql = (
            f"select {_COLUMNS} from report_text_fts f join reports r on r.id = f.rowid "
            f"join report_text t on t.report_id = r.id "
            f"where report_text_fts match :phrase{filters} order by f.rowid desc limit :limit"
        )
    else:
        # the text is looked at report by report, newest first, until enough are found (a
        # join would first read every text to build its filter)
        params["pattern"] = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql = (
            f"with hits as (select r.id from reports r where (select t.title like :pattern escape '\\' "
            f"or t.text like :pattern escape '\\' from report_text t where t.report_id = r.id){filters} "
            f"order by r.id desc limit :limit) "
            f"select {_COLUMNS} from hits h join reports r on r.id = h.id join report_text t on t.report_id = r.id "
            f"order by r.id desc"
        )
    return [_clean(row) for row in db.query(sql, params)]


_SPACE = re.compile(r"\s+")


def _clean(row: dict) -> dict:
    snippet = _SPACE.sub(" ", row["snippet"] or "").strip()
    row["snippet"] = ("…" if row.pop("cut") else "") + snippet + ("…" if snippet else "")
    return row
