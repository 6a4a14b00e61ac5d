"""``nianbao export-warc``: the archive's captures as a WARC file (ISO 28500, via warcio).

Each capture with bytes becomes a ``response`` record (WARC-Date = fetch time,
the stored status line and headers, the archived payload); a payload already
written earlier in the file becomes a ``revisit`` record (identical payload
digest), as web archives do. Bodies are stored decoded, so Content-Encoding
and Transfer-Encoding are dropped and Content-Length is set to the payload.
"""

from __future__ import annotations

import io
import json
from http import HTTPStatus
from pathlib import Path

import sqlite_utils
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from .blobs import BlobStore

_DROP = {"content-encoding", "transfer-encoding", "content-length"}


def _status_line(status: int) -> str:
    status = 200 if status == 304 else status  # a 304 capture stands for the bytes archived before
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:  # WAF codes such as 521 or 412 variants
        return f"{status} Unknown"


def _warc_date(iso: str) -> str:
    return iso.replace("+00:00", "Z") if iso.endswith("+00:00") else iso


def export_warc(db: sqlite_utils.Database, blobs: BlobStore, out: str | Path, run_id: int | None = None) -> dict:
    """Write the captures (of one crawl run, or all) to ``out`` (gzip per record); returns counts."""
    counts = {"response": 0, "revisit": 0, "missing": 0}
    first_seen: dict[str, tuple[str, str, str]] = {}  # sha256 → (uri, date, payload digest) of its response
    where, params = ("where run_id = ?", [run_id]) if run_id is not None else ("", [])
    with open(out, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        writer.write_record(
            writer.create_warcinfo_record(
                Path(out).name,
                {
                    "software": "nianbao",
                    "format": "WARC File Format 1.1",
                    "description": "政府信息公开工作年度报告归档 (nianbao export-warc)",
                },
            )
        )
        for c in db.query(f"select * from captures {where} order by fetched_at, id", params):
            if not c["sha256"]:
                continue
            date = _warc_date(c["fetched_at"])
            headers = [(k, v) for k, v in json.loads(c["headers"] or "{}").items() if k.lower() not in _DROP]
            if c["sha256"] in first_seen:
                uri, first_date, digest = first_seen[c["sha256"]]
                http = StatusAndHeaders(_status_line(c["status"]), headers, protocol="HTTP/1.1")
                record = writer.create_revisit_record(
                    c["url"],
                    digest=digest,
                    refers_to_uri=uri,
                    refers_to_date=first_date,
                    http_headers=http,
                    warc_headers_dict={"WARC-Date": date},
                )
                writer.write_record(record)
                counts["revisit"] += 1
                continue
            try:
                payload = blobs.get(c["sha256"])
            except FileNotFoundError:
                counts["missing"] += 1
                continue
            headers.append(("Content-Length", str(len(payload))))
            http = StatusAndHeaders(_status_line(c["status"]), headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                c["url"],
                "response",
                payload=io.BytesIO(payload),
                length=len(payload),
                http_headers=http,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
            first_seen[c["sha256"]] = (c["url"], date, record.rec_headers.get_header("WARC-Payload-Digest"))
            counts["response"] += 1
    return counts
