"""Scanned reports read by OCR (real RapidOCR, on pages rendered from the real reports):
a mixed PDF, a JPG, a picture inside a Word file; per-cell scores, the rules as a
gate, the cache, the page limit, and OCR missing. A few pages only: OCR costs
seconds a page (``bench/ocr.py`` reads every real report and the damaged variants)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import FIXTURES

from archive.extract import OcrCache, OcrOptions, extract, sniff
from archive.extract import ocr as ocr_module
from archive.extract.document import Document, Line, OcrInfo
from archive.extract.text import text_lines
from archive.ocr_checks import gate, ocr_cell_scores, ocr_findings, ocr_tables
from archive.parse import parse_bytes, parse_document
from archive.report import Finding, Report
from archive.schema import open_archive
from archive.sources import Parsed
from archive.store import write_parse
from archive.tables import split_regions
from crawler.mock.scans import docx_with_picture, image_bytes, mixed_pdf, page_images

REAL = FIXTURES / "realdocs"
HUAIAN = (REAL / "01-huaian-gov-2024.pdf").read_bytes()
HUAIAN_GOLD = json.loads((REAL / "01-huaian-gov-2024.gold.json").read_text("utf-8"))["cells"]
HONGZE = (REAL / "02-hongze-gov-2024.pdf").read_bytes()
HONGZE_GOLD = json.loads((REAL / "02-hongze-gov-2024.gold.json").read_text("utf-8"))["cells"]


@pytest.fixture(scope="module")
def table_page():
    """淮安 2024's page 4 (表二's end and 表三), rendered at 144 dpi: the image a scanner leaves."""
    return page_images(HUAIAN, [3])[0]


def _wrong(cells: dict, gold: dict) -> dict:
    return {k: (v, gold.get(k, "ABSENT")) for k, v in cells.items() if gold.get(k, "ABSENT") != v}


def test_images_are_sniffed(table_page):
    for fmt in ("JPEG", "PNG", "TIFF"):
        assert sniff(image_bytes(table_page.resize((40, 40)), fmt), "x") == "image"
    assert sniff(b"BM" + b"\x00" * 60, "scan.bmp") == "image"
    assert sniff(b"BM is not a bitmap", "notes.txt") == "text"


def test_mixed_pdf_reads_the_scanned_page_by_ocr():
    report_doc = extract(mixed_pdf(HONGZE, {2}), "mixed.pdf")  # page 3 (表三) is a scan, the rest has text
    assert report_doc.ocr is not None and report_doc.ocr.pages == [3] and report_doc.has_text_layer
    assert all((line.scores is not None) == (line.page == 3) for line in report_doc.lines)
    report = parse_document(report_doc)
    assert _wrong(report.cells, HONGZE_GOLD) == {}
    assert set(report.cells) == set(HONGZE_GOLD)  # every cell of the report, text layer and scan alike
    assert report.ocr["pages"] == [3]
    # the report's prose says 17 requests, its 表三 95 (gold keeps 95): a warning about the
    # prose, and no sum of the OCR-read table fails
    assert [f.rule for f in report.findings if f.severity == "error"] == []
    assert [f.severity for f in report.findings if f.rule == "narrative.requests_new"] == ["warning"]
    assert [f for f in report.findings if f.rule == "ocr.check_cells"] == []
    assert "ocr.read" in {f.rule for f in report.findings}


def test_jpg_through_the_cli_json(tmp_path, table_page):
    jpg = tmp_path / "scan.jpg"
    jpg.write_bytes(image_bytes(table_page, "JPEG"))
    # a real process: the parse runs in an isolated worker that writes progress to the terminal
    result = subprocess.run(
        [sys.executable, "-m", "scheduler", "parse", "--json", str(jpg)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=FIXTURES.parent.parent,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.splitlines()[-1])
    assert set(out) == {"agency", "year", "template", "cells", "findings", "coverage", "ocr"}  # contract + additive keys
    assert out["ocr"]["pages"] == [1] and out["ocr"]["skipped_pages"] == []
    assert len(out["cells"]) == 92 and _wrong(out["cells"], HUAIAN_GOLD) == {}
    assert "ocr.read" in {f["rule"] for f in out["findings"]}
    assert "OCR 识别 scan.jpg" in result.stderr  # progress on the terminal


def test_picture_in_a_word_file_and_the_cache(tmp_path, table_page):
    docx = docx_with_picture(
        ["淮安市人民政府2024年政府信息公开工作年度报告", "五、存在的主要问题及改进情况"],
        image_bytes(table_page),
        *table_page.size,
    )
    options = OcrOptions(cache=OcrCache(tmp_path / "ocr"))
    first = extract(docx, "report.docx", ocr=options)
    assert first.ocr.pages == [1] and first.ocr.cached == 0 and first.ocr.seconds > 0
    report = parse_document(first)
    assert len(report.cells) == 92 and _wrong(report.cells, HUAIAN_GOLD) == {}
    assert report.agency == "淮安市人民政府"  # the Word file's own text still counts
    again = extract(docx, "report.docx", ocr=options)  # as `nianbao reparse` would: read from the cache
    assert again.ocr.cached == 1 and again.ocr.seconds == 0
    assert parse_document(again).cells == report.cells
    assert list((tmp_path / "ocr").rglob("*.json.gz"))


def test_page_limit_is_a_finding():
    scan = mixed_pdf(HONGZE, {1, 2, 3})
    report = parse_bytes(scan, "scan.pdf", ocr=OcrOptions(max_pages=0))
    limit = [f for f in report.findings if f.rule == "ocr.page_limit"]
    assert len(limit) == 1 and "3 页扫描件未识别" in limit[0].message
    assert report.ocr["skipped_pages"] == [2, 3, 4]
    assert not any(f.rule == "document.no_text" for f in report.findings)  # pages 1 and 5 have text


def test_ocr_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # as if the package were not installed
    ocr_module._engine.cache_clear()
    try:
        report = parse_bytes(mixed_pdf(HONGZE, {0, 1, 2, 3, 4}), "scan.pdf")
    finally:
        ocr_module._engine.cache_clear()
    no_text = [f for f in report.findings if f.rule == "document.no_text"]
    assert len(no_text) == 1 and "pip install rapidocr onnxruntime" in no_text[0].message
    assert report.cells == {}
    assert Parsed(report, None).status == "no_text"


def _failing_engine(message: str):
    """onnxruntime as rapidocr raises its failures: one exception class, the C++ error as its cause."""

    def run(image):
        try:
            raise RuntimeError(f"[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : {message}")
        except RuntimeError as e:
            raise Exception("ONNXRuntimeError") from e

    return run


def test_an_engine_failure_costs_its_page_only(monkeypatch):
    monkeypatch.setattr(ocr_module, "_engine", lambda: _failing_engine("Non-zero status code returned while running Conv node"))
    report = parse_bytes(mixed_pdf(HONGZE, {2}), "mixed.pdf", ocr=OcrOptions(cache=None))
    unread = [f for f in report.findings if f.rule == "ocr.image_unreadable"]
    assert len(unread) == 1 and "第 3 页：OCR 引擎出错" in unread[0].message
    assert report.cells and _wrong(report.cells, HONGZE_GOLD) == {}  # the text pages are read, nothing guessed
    assert not any(k.startswith("requests.") for k in report.cells)  # 表三 was on the scanned page


def test_an_engine_out_of_memory_is_the_budgets_to_report(monkeypatch):
    monkeypatch.setattr(ocr_module, "_engine", lambda: _failing_engine("Status Message: std::bad_alloc"))
    with pytest.raises(MemoryError):
        parse_bytes(mixed_pdf(HONGZE, {2}), "mixed.pdf", ocr=OcrOptions(cache=None))


def _ocr_lines(text: str) -> list[Line]:
    """Lines as OCR gives them: every cell with a score."""
    lines = text_lines(text)
    for line in lines:
        line.scores = [0.99] * len(line.cells)
    return lines


SEED = (FIXTURES / "seeds" / "001_924043a2ff6d2acf.txt").read_text("utf-8")


def test_sum_failures_of_an_ocr_read_table_ask_for_a_check():
    broken = SEED.replace("一、本年新收政府信息公开申请数量\t\t0", "一、本年新收政府信息公开申请数量\t\t90")  # a digit too many
    as_text = parse_document(Document(text_lines(broken), "text"))
    accusing = {f.rule for f in as_text.findings if f.severity == "error"}
    assert "requests.balance" in accusing
    as_ocr = parse_document(Document(_ocr_lines(broken), "image", has_text_layer=False, ocr=OcrInfo(pages=[1])))
    assert not [f for f in as_ocr.findings if f.severity == "error"]  # nothing for 勾稽不符 to report
    checks = [f for f in as_ocr.findings if f.rule == "ocr.check_cells"]
    assert checks and all(f.severity == "warning" for f in checks)
    assert any("requests.balance" in f.message for f in checks)


def test_gate_leaves_tables_read_from_text_alone():
    findings = [
        Finding("requests.balance", "error", "requests.*.total", "…"),
        Finding("appeals.group_total", "error", "appeals.review.total", "…"),
        Finding("row.short", "warning", "requests.*.total", "…"),
    ]
    gated = gate(findings, {"requests"})
    assert [f.rule for f in gated] == ["ocr.check_cells", "appeals.group_total", "row.short"]
    assert gate(findings, set()) == findings
    assert ocr_tables(split_regions(text_lines(SEED))) == set()
    assert ocr_tables(split_regions(_ocr_lines(SEED))) == {"disclosure", "requests", "appeals"}


def test_cell_scores_follow_the_parsers_origins():
    lines = [
        Line(["一、本年新收政府信息公开申请数量", "12", "3"], hard=True, scores=[0.99, 0.97, 0.61]),
        Line(["二、上年结转政府信息公开申请数量", "1", "0"], hard=True),  # from a text layer
    ]
    doc = Document(lines, "pdf", ocr=OcrInfo(pages=[2]))
    origins = {
        "requests.new.natural_person": (0, 1),
        "requests.new.commercial": (0, 2),
        "requests.carried_over.natural_person": (1, 1),
        "requests.new.research": (0, 7),  # out of range: not a cell OCR read
    }
    scores = ocr_cell_scores(doc, origins)
    assert scores == {"requests.new.natural_person": 0.97, "requests.new.commercial": 0.61}
    cells = {"requests.new.natural_person": 12, "requests.new.commercial": 3}
    low = [f for f in ocr_findings(doc, doc.ocr, scores, cells) if f.rule == "ocr.low_score"]
    assert [(f.where, f.severity) for f in low] == [("requests.new.commercial", "warning")]
    assert "0.61" in low[0].message and "读作 3" in low[0].message


def test_the_archive_keeps_each_cells_ocr_score(tmp_path):
    db = open_archive(tmp_path / "archive.db")
    report_id = db["reports"].insert({"agency_key": "x", "year": 2024, "version": 1, "is_current": 1}).last_pk
    report = Report(
        "某局",
        2024,
        "2021",
        {"requests.new.total": 12, "requests.new.natural_person": 12, "requests.carried_over.total": 0},
        ocr={"pages": [2, 3], "skipped_pages": [], "cells": {"requests.new.total": 0.97, "requests.new.natural_person": 0.58}},
    )
    write_parse(db, report_id, Parsed(report, None), "x", 2024)
    scores = {
        (r, c): s
        for r, c, s in db.execute(
            'select row, "column", ocr_score from cells where report_id = ? and table_name = ?', [report_id, "requests"]
        )
    }
    assert scores == {("new", "total"): 0.97, ("new", "natural_person"): 0.58, ("carried_over", "total"): None}
    assert json.loads(db.execute("select ocr_pages from reports where id = ?", [report_id]).fetchone()[0]) == [2, 3]


def test_decompression_bomb_image_is_refused():
    from PIL import Image

    from archive.errors import ExtractError

    bomb = Image.new("1", (12000, 12000))  # 144 M pixels, a few kilobytes as PNG
    with pytest.raises(ExtractError):
        extract(image_bytes(bomb, "PNG"), "bomb.png")
