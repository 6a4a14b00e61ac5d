"""Full-text search over report titles and text, for Chinese.

FTS5's trigram tokenizer finds any substring of three or more characters
(Chinese has no spaces to split words on). One- and two-character queries
(复议, 诉讼, 申) are below the trigram size; they fall back to LIKE over
``report_text`` (a scan, still fast enough for an archive's few million rows).
"""

from __future__ import annotations

import sqlite_utils

_COLUMNS = "r.id as report_id, r.agency_name, r.year, r.version, r.is_current, r.title, r.url"


def search(db: sqlite_utils.Database, query: str, limit: int = 50) -> list[dict]:
    query = query.strip()
    if not query:
        return []
    if len(query) >= 3:
        phrase = '"' + query.replace('"', '""') + '"'  # one literal phrase, never FTS syntax
        sql = (
            f"select {_COLUMNS} from report_text_fts f join reports r on r.id = f.rowid "
            f"where report_text_fts match ? order by rank limit ?"
        )
        return list(db.query(sql, [phrase, limit]))
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    sql = (
        f"select {_COLUMNS} from report_text t join reports r on r.id = t.report_id "
        f"where t.title like ? escape '\\' or t.text like ? escape '\\' order by r.year desc limit ?"
    )
    return list(db.query(sql, [pattern, pattern, limit]))
