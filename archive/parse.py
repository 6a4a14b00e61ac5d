"""One report in, the contract object out: extract → tables → identity → rules."""

from __future__ import annotations

from pathlib import Path

from .extract import Document, extract, read_file
from .metadata import identify
from .narrative import check_narrative, narrative_facts
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
    results = parse_tables(regions)
    cells: dict = {}
    findings: list[Finding] = []
    for result in results:
        cells.update(result.cells)
        findings += result.findings
    template = _template(results, identity.year) if cells else None
    cells = _ordered(cells)

    if not doc.has_text_layer:
        findings.append(
            Finding(
                "document.no_text",
                RULES_BY_ID["document.no_text"].severity,
                "document",
                "PDF 没有文字层（扫描件），无法读取表格；未做 OCR",
            )
        )
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
    findings += check_report(cells)

    in_tables = {i for lines in regions.values() for i, _ in lines}
    prose = [line.text for i, line in enumerate(doc.lines) if i not in in_tables]
    facts = narrative_facts(prose)
    findings += check_narrative(facts, cells)

    return Report(
        agency=identity.agency,
        year=identity.year,
        template=template,
        cells=cells,
        findings=findings,
        title=identity.title,
        agency_source=identity.agency_source,
        narrative={k: v for k, (v, _) in facts.items()},
        tables_present=tuple(r.table.key for r in results if r.cells),
    )


def parse_bytes(data: bytes, name: str | None = None, content_type: str | None = None) -> Report:
    return parse_document(extract(data, name, content_type))


def parse_file(path: str | Path) -> Report:
    return parse_bytes(read_file(path), Path(path).name)
