"""A report's sources and the parse of the best one.

A report seen on a portal may have several sources: its page (with
continuation pages), its attachments, the report files inside a ZIP. Each is
extracted and parsed; the one yielding the most table cells supplies the
numbers, the others stay recorded as the same report's sources.
``parse_sources`` touches only the blob store and the OCR cache beside it
(``<data>/ocr``: a scan is read once, ``reparse`` reuses what OCR read), so it
can run in a worker process while the crawl goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from .blobs import BlobStore
from .errors import NianbaoError
from .extract import Document, OcrCache, OcrOptions, extract
from .parse import parse_document
from .report import Report


@dataclass(frozen=True)
class Source:
    role: str  # page, part, attachment, zip
    url: str  # a ZIP member's URL is the ZIP's with "#<member name>"
    sha256: str
    kind: str | None
    name: str | None  # file name as linked (decides the extractor when bytes are ambiguous)


@dataclass
class Parsed:
    report: Report | None
    used: Source | None  # the source the numbers come from
    text: str = ""  # that source's text, for full-text search
    errors: list[str] = field(default_factory=list)
    ocr_pages: int = 0  # pages (or images) OCR read for this parse, from the cache or not
    ocr_seconds: float = 0.0  # CPU seconds OCR spent (0 when every page came from the cache)

    @property
    def status(self) -> str:
        if self.report is None:
            return "failed" if self.errors else "no_source"
        if any(f.rule == "document.no_text" for f in self.report.findings):
            return "no_text"
        return "ok" if self.report.cells else "no_tables"


def _latest(db: sqlite_utils.Database, url: str) -> dict | None:
    """The newest capture of ``url`` that has bytes (a 304 answer confirms the one before)."""
    rows = list(
        db.query(
            "select * from captures where (url = ? or requested_url = ?) and sha256 is not null "
            "and status in (200, 304) order by fetched_at desc, id desc limit 1",
            [url, url],
        )
    )
    return rows[0] if rows else None


def sighting_sources(db: sqlite_utils.Database, sighting: dict) -> list[Source]:
    out: list[Source] = []
    page = _latest(db, sighting["url"])
    if page:
        out.append(Source("page", page["url"], page["sha256"], "html", None))
    for part in json.loads(sighting["parts"] or "[]"):
        cap = _latest(db, part)
        if cap:
            out.append(Source("part", part, cap["sha256"], "html", None))
    for link in json.loads(sighting["attachments"] or "[]"):
        cap = _latest(db, link["url"])
        if not cap:
            continue
        kind = db.execute("select kind from documents where sha256 = ?", [cap["sha256"]]).fetchone()[0]
        if kind == "zip":
            for name, sha256, member_kind in db.execute(
                "select m.name, m.sha256, d.kind from zip_members m join documents d on d.sha256 = m.sha256 "
                "where m.zip_sha256 = ? order by m.name",
                [cap["sha256"]],
            ):
                out.append(Source("zip", f"{link['url']}#{name}", sha256, member_kind, name))
        else:
            out.append(Source("attachment", link["url"], cap["sha256"], kind, link.get("name")))
    return out


def ocr_cache(blob_root: str | Path) -> OcrCache:
    """Where OCR results are kept: ``ocr/`` beside the blob store, in the data directory."""
    return OcrCache(Path(blob_root).parent / "ocr")


def _documents(sources: list[Source], blobs: BlobStore, ocr: OcrOptions) -> tuple[list[tuple[Source, Document]], list[str]]:
    """One document per source; a page and its continuation pages are joined into one."""
    docs: list[tuple[Source, Document]] = []
    errors = []
    for source in sources:
        try:
            doc = extract(blobs.get(source.sha256), source.name, ocr=ocr)
        except (NianbaoError, FileNotFoundError) as e:
            errors.append(f"{source.role} {source.url}: {e}")
            continue
        if source.role == "part" and docs and docs[-1][0].role == "page":
            docs[-1][1].lines.extend(doc.lines)
        else:
            docs.append((source, doc))
    return docs, errors


def parse_sources(blob_root: str | Path, sources: list[Source], ocr_max_pages: int | None = None) -> Parsed:
    ocr = OcrOptions(cache=ocr_cache(blob_root))
    if ocr_max_pages is not None:
        ocr.max_pages = ocr_max_pages
    docs, errors = _documents(sources, BlobStore(blob_root), ocr)
    best = Parsed(None, None, errors=errors)
    for _, doc in docs:
        if doc.ocr is not None:
            best.ocr_pages += len(doc.ocr.pages)
            best.ocr_seconds += doc.ocr.seconds
    for source, doc in docs:
        try:
            report = parse_document(doc)
        except NianbaoError as e:
            best.errors.append(f"{source.role} {source.url}: {e}")
            continue
        if best.report is None or len(report.cells) > len(best.report.cells):
            best.report, best.used = report, source
            best.text = "\n".join(line.text for line in doc.lines)
    return best
