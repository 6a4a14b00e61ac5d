"""From a crawl feed to parsed reports: gather each report's sources (its page,
continuation pages, attachments and the report files inside ZIPs) and parse the
one that yields the most of the standard tables. Until the archive (issue 4)
exists, this is how a crawl's reports are read."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from archive.errors import NianbaoError
from archive.extract import Document, extract
from archive.parse import parse_document
from archive.report import Report

from .store import BlobStore


@dataclass
class Source:
    label: str             # page, part, pdf, docx … ; "zip:<member>" for a ZIP's file
    sha256: str
    name: str | None


@dataclass
class ParsedReport:
    record: dict                                    # the ReportFound item
    sources: list[Source] = field(default_factory=list)
    report: Report | None = None
    used: str | None = None                         # which source the numbers come from
    errors: list[str] = field(default_factory=list)


def read_feed(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _sources(record: dict, captures: dict[str, dict]) -> list[Source]:
    out = []
    page = captures.get(record["url"])
    if page:
        out.append(Source("page", page["sha256"], None))
    for part in record["parts"]:
        if part in captures:
            out.append(Source("part", captures[part]["sha256"], None))
    for link in record["attachments"]:
        cap = captures.get(link["url"])
        if not cap or cap["status"] != 200:
            continue
        if cap["kind"] == "zip":
            out += [Source(f"zip:{m['name']}", m["sha256"], m["name"]) for m in cap["members"] if m.get("sha256")]
        else:
            out.append(Source(cap["kind"], cap["sha256"], link.get("name")))
    return out


def _documents(sources: list[Source], store: BlobStore) -> tuple[list[tuple[str, Document]], list[str]]:
    """One document per source, the page and its continuation pages joined into one."""
    docs: list[tuple[str, Document]] = []
    errors = []
    for source in sources:
        try:
            doc = extract(store.get(source.sha256), source.name)
        except NianbaoError as e:
            errors.append(f"{source.label}: {e}")
            continue
        if source.label == "part" and docs and docs[-1][0] == "page":
            docs[-1][1].lines.extend(doc.lines)
        else:
            docs.append((source.label, doc))
    return docs, errors


def parse_reports(feed: list[dict], store: BlobStore) -> list[ParsedReport]:
    captures = {c["url"]: c for c in feed if c["type"] == "capture"}
    out = []
    for record in (r for r in feed if r["type"] == "report"):
        parsed = ParsedReport(record, _sources(record, captures))
        docs, parsed.errors = _documents(parsed.sources, store)
        for label, doc in docs:
            try:
                report = parse_document(doc)
            except NianbaoError as e:
                parsed.errors.append(f"{label}: {e}")
                continue
            if parsed.report is None or len(report.cells) > len(parsed.report.cells):
                parsed.report, parsed.used = report, label
        out.append(parsed)
    return out
