"""A report's sources and the parse of the best one.

A report seen on a portal may have several sources: its page (with
continuation pages), its attachments, the report files inside a ZIP. Each is
extracted and parsed; the one yielding the most table cells supplies the
numbers, the others stay recorded as the same report's sources.
Each document (a page with its continuation pages, an attachment, a ZIP
member) is one job for :mod:`archive.isolation`: it touches only the blob
store and the OCR cache beside it (``<data>/ocr``: a scan is read once,
``reparse`` reuses what OCR read), runs in a worker process under the parse budget, and a document that
fails or overruns costs only itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from .blobs import BlobStore
from .errors import NianbaoError
from .extract import Document, OcrCache, OcrOptions, extract
from .isolation import Outcome
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


def documents(sources: list[Source]) -> list[list[Source]]:
    """The report's documents, each parsed on its own (one job, one budget): a page with
    its continuation pages, then each attachment or ZIP member."""
    groups: list[list[Source]] = []
    for source in sources:
        if source.role == "part" and groups and groups[-1][0].role == "page":
            groups[-1].append(source)
        else:
            groups.append([source])
    return groups


@dataclass
class Piece:
    """The parse of one document."""

    source: Source  # its first source (the page of a page with continuation pages)
    report: Report | None
    text: str = ""
    errors: list[str] = field(default_factory=list)
    limit: bool = False  # the document exceeded its parse budget (or killed its worker)
    ocr_pages: int = 0  # pages (or images) OCR read, from the cache or not
    ocr_seconds: float = 0.0  # CPU seconds OCR spent


def parse_document_sources(blob_root: str | Path, group: list[Source], ocr_max_pages: int | None = None) -> Piece:
    """Extract and parse one document (a worker's job: it touches only the blob store and
    the OCR cache)."""
    blobs = BlobStore(blob_root)
    ocr = OcrOptions(cache=ocr_cache(blob_root))
    if ocr_max_pages is not None:
        ocr.max_pages = ocr_max_pages
    doc: Document | None = None
    errors = []
    ocr_pages, ocr_seconds = 0, 0.0
    for source in group:
        try:
            part = extract(blobs.get(source.sha256), source.name, ocr=ocr)
        except (NianbaoError, FileNotFoundError) as e:
            errors.append(f"{source.role} {source.url}: {e}")
            continue
        if part.ocr is not None:
            ocr_pages, ocr_seconds = ocr_pages + len(part.ocr.pages), ocr_seconds + part.ocr.seconds
        if doc is None:
            doc = part
        else:
            doc.lines.extend(part.lines)
            doc.cuts.extend(part.cuts)
    if doc is None:
        return Piece(group[0], None, errors=errors)
    try:
        report = parse_document(doc)
    except NianbaoError as e:
        return Piece(group[0], None, errors=[*errors, f"{group[0].role} {group[0].url}: {e}"])
    return Piece(
        group[0], report, "\n".join(line.text for line in doc.lines), errors, ocr_pages=ocr_pages, ocr_seconds=ocr_seconds
    )


def unfinished(group: list[Source], outcome: Outcome) -> Piece:
    """A document whose job did not return a parse: over budget, its worker dead, or a bug."""
    reason = outcome.limit or str(outcome.error)
    return Piece(group[0], None, errors=[f"{group[0].role} {group[0].url}: {reason}"], limit=outcome.limit is not None)


def choose(pieces: list[Piece]) -> Parsed:
    """The report's parse: the document yielding the most table cells supplies it; every
    document's errors, and what the others could not read, are kept."""
    best = Parsed(None, None)
    chosen = None
    for piece in pieces:
        best.errors += piece.errors
        best.ocr_pages += piece.ocr_pages
        best.ocr_seconds += piece.ocr_seconds
        if piece.report is not None and (chosen is None or len(piece.report.cells) > len(chosen.report.cells)):
            chosen = piece
    if chosen is not None:
        best.report, best.used, best.text = chosen.report, chosen.source, chosen.text
    for piece in pieces:  # what the other documents could not read is said too (the chosen one's are findings)
        if piece is not chosen and piece.report is not None:
            best.errors += [
                f"{piece.source.role} {piece.source.url}: {f.message}"
                for f in piece.report.findings
                if f.rule == "document.truncated"
            ]
    return best
