"""One report in, the contract object out: extract (OCR for scans) → tables → identity → rules."""

from __future__ import annotations

from pathlib import Path

from .coverage import coverage
from .cut_off import cut_off_row
from .extract import Document, OcrOptions, extract, read_file
from .extract.document import OcrInfo
from .metadata import identify
from .narrative import check_narrative, narrative_facts
from .ocr_checks import gate, ocr_cell_scores, ocr_findings, ocr_tables
from .report import Finding, Report
from .rules import check_report
from .tables import parse_tables, split_regions
from .template import CELL_ORDER, RULES_BY_ID


def _template(results, year: int | None) -> str | None:
    by_key = {r.table.key: r for r in results}
    disclosure, requests = by_key["disclosure"].template, by_key["requests"].template
    if disclosure == "2019" and requests == "2021":
        return "mixed"
    if disclosure or requests:
        return disclosure or requests
    # Tables 三 and 四 read the same in both formats; only then does the year decide.
    return "2019" if year is not None and year <= 2020 else "2021"


def _ordered(cells: dict) -> dict:
    return dict(sorted(cells.items(), key=lambda kv: CELL_ORDER[kv[0]]))


def parse_document(doc: Document) -> Report:
    identity = identify(doc)
    regions = split_regions(doc.lines)
    # a text excerpt can end in the middle of a row; a PDF page cannot
    results = parse_tables(regions, None if doc.format != "pdf" else len(doc.lines))
    cut = cut_off_row(doc, results)
    cells: dict = {}
    findings: list[Finding] = [cut] if cut else []
    for result in results:
        cells.update(result.cells)
        findings += result.findings
    template = _template(results, identity.year) if cells else None
    cells = _ordered(cells)

    no_text = _no_text(doc)
    if no_text:
        findings.append(Finding("document.no_text", RULES_BY_ID["document.no_text"].severity, "document", no_text))
    for cut in doc.cuts:
        findings.append(Finding("document.truncated", RULES_BY_ID["document.truncated"].severity, "document", cut))
    is_report = bool(cells) or identity.title is not None
    if is_report:
        for result in results:
            if result.present and not result.cells:
                findings.append(
                    Finding(
                        "table.missing",
                        "warning",
                        f"{result.table.key}.*.*",
                        f"有“{result.table.title}”部分，但没有可读的表格（可能是图片或附件）",
                    )
                )
    uncertain = frozenset(r.table.key for r in results if r.unattributed or r.undecided)
    checks = check_report(cells, uncertain)
    in_tables = {i for lines in regions.values() for i, _ in lines}
    prose = [line.text for i, line in enumerate(doc.lines) if i not in in_tables]
    facts = narrative_facts(prose)
    checks += check_narrative(facts, cells)
    findings += gate(checks, ocr_tables(regions))

    report = Report(
        agency=identity.agency,
        year=identity.year,
        template=template,
        cells=cells,
        findings=findings,
        title=identity.title,
        agency_source=identity.agency_source,
        narrative={k: v for k, (v, _) in facts.items()},
        tables_present=tuple(r.table.key for r in results if r.cells),
        origins={k: v for r in results for k, v in r.origins.items()},
        coverage=coverage(
            template,
            cells,
            {k for r in results for k in r.undecided},
            sum(r.unattributed for r in results),
        ),
    )
    if doc.ocr is not None:
        _mark_ocr(report, doc, doc.ocr)
    return report


def _no_text(doc: Document) -> str | None:
    """Why nothing of a scanned document could be read, or None."""
    info = doc.ocr
    if info is not None and info.unavailable:
        return f"扫描件（没有文字层）：{info.unavailable}"
    if info is not None and not info.pages and info.skipped and not doc.has_text_layer:
        return "扫描件（没有文字层）：OCR 页数上限为 0，未识别"
    if not doc.has_text_layer and info is None:
        return "PDF 没有文字层，也没有可识别的图像"
    return None


def _mark_ocr(report: Report, doc: Document, info: OcrInfo) -> None:
    """Each cell OCR read, with its score (where the parser says where cells came from),
    and the OCR findings."""
    scores = ocr_cell_scores(doc, report.origins)
    report.ocr = {"pages": info.pages, "skipped_pages": info.skipped, "cells": scores}
    report.findings += ocr_findings(doc, info, scores, report.cells)


def parse_bytes(data: bytes, name: str | None = None, content_type: str | None = None, ocr: OcrOptions | None = None) -> Report:
    return parse_document(extract(data, name, content_type, ocr))


def parse_file(path: str | Path, ocr: OcrOptions | None = None) -> Report:
    return parse_bytes(read_file(path), Path(path).name, ocr=ocr)
