"""Tables in a PDF's reading order, block by block (pdftotext, copy-paste from a viewer,
search-index excerpts): header words may come between a row's label and its values, or
among the values of the appeals row. Values so printed are not in the table's order, so
they are never given to cells by their order: those cells are null and a finding says
why, and no sum rule blames the office for numbers we could not place (issue 12)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from renderings import FIXTURES, _printed, _text_form, differences, fixtures, model, wrong_numbers

from archive.parse import parse_bytes
from archive.template import APPEALS, TABLES

REQUIRED = os.environ.get("NIANBAO_REQUIRE_CONVERTERS") == "1"
REAL_PDFS = sorted((FIXTURES / "realdocs").glob("*.pdf"))
COLUMN_WORDS = {label for t in TABLES for c in t.columns for label in c.labels}


def _gold(path: Path) -> dict:
    return json.loads(path.with_name(path.name[: -len(path.suffix)] + ".gold.json").read_text("utf-8"))


def _pdftotext(path: Path, *options: str) -> bytes:
    if shutil.which("pdftotext") is None:
        if REQUIRED:
            pytest.fail("pdftotext is not installed")
        pytest.skip("pdftotext is not installed")
    return subprocess.run(["pdftotext", *options, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout


def _errors(report) -> set[tuple[str, str]]:
    return {(f.rule, f.where) for f in report.findings if f.severity == "error"}


@pytest.mark.parametrize("path", REAL_PDFS, ids=[p.stem for p in REAL_PDFS])
def test_real_pdfs_aligned_by_pdftotext_read_exactly(path):
    report = parse_bytes(_pdftotext(path, "-layout"), "r.txt")
    assert differences(report, _gold(path), keeps_absent=False) == {}


@pytest.mark.parametrize("path", REAL_PDFS, ids=[p.stem for p in REAL_PDFS])
def test_real_pdfs_in_reading_order_put_no_number_in_another_cell(path):
    """pdftotext without -layout prints the tables block by block (01-huaian's appeals
    values come among its header words): what cannot be placed is null, and nothing is
    called an error of the office."""
    report = parse_bytes(_pdftotext(path), "r.txt")
    assert wrong_numbers(differences(report, _gold(path), keeps_absent=False)) == {}
    assert _errors(report) == set()


APPEALS_HEADER = ["四、政府信息公开行政复议、行政诉讼情况", "行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉"]
RESULTS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
APPEALS_VALUES = [72, 64, 178, 37, 351, 13, 4, 8, 1, 26, 12, 1, 1, 6, 20]
APPEALS_KEYS = [f"appeals.{r.key}.{c.key}" for r in APPEALS.rows for c in APPEALS.columns]


def _appeals(values_with_words: list[str]) -> dict:
    text = "\n".join(APPEALS_HEADER + RESULTS * 3 + values_with_words) + "\n"
    return parse_bytes(text.encode(), "r.txt")


def test_appeals_values_after_their_header_are_read_in_order():
    report = _appeals([str(v) for v in APPEALS_VALUES])
    assert [report.cells[k] for k in APPEALS_KEYS] == APPEALS_VALUES
    assert not [f for f in report.findings if f.rule == "row.unplaced"]


def test_appeals_values_among_header_words_are_not_read_by_order():
    # as 01-huaian's PDF reads block by block: four results, header words, four more, a total …
    scrambled = "72 64 178 37 结果维持 结果纠正 12 1 1 6 总计 351 13 4 8 1 26 20".split()
    report = _appeals(scrambled)
    assert all(report.cells[k] is None for k in APPEALS_KEYS)
    assert [f.message for f in report.findings if f.rule == "row.unplaced" and f.where == "appeals.*.*"]
    assert not [f for f in report.findings if f.severity == "error" or f.rule == "table.blank"]


REQUESTS_HEAD = "三、收到和处理政府信息公开申请情况\n自然人\n商业企业\n科研机构\n社会公益组织\n法律服务机构\n其他\n总计\n"


def test_values_right_after_a_label_are_its_own():
    text = REQUESTS_HEAD + "一、本年新收政府信息公开申请数量\n5\n1\n0\n0\n0\n0\n6\n"
    cells = parse_bytes(text.encode(), "r.txt").cells
    assert cells["requests.new.natural_person"] == 5 and cells["requests.new.total"] == 6


@pytest.mark.parametrize("values", ["35\n2\n1\n12\n1\n1", "35\n2\n1\n12\n1\n1\n52"])
def test_values_after_header_words_are_not_the_label_before_them(values):
    # 03-shanghai's PDF in reading order: a label, the header words of the next block, then
    # that block's numbers (another row's), as many as the row has columns or fewer
    text = REQUESTS_HEAD + "1.属于国家秘密\n商业企业\n科研机构\n社会公益组织\n" + values + "\n"
    report = parse_bytes(text.encode(), "r.txt")
    assert all(v is None for k, v in report.cells.items() if k.startswith("requests.denied_state_secret."))
    assert [f for f in report.findings if f.rule in ("row.unattributed", "row.unplaced")]


def test_labels_then_their_rows_of_values_are_read_in_the_template_order():
    """A shattered table (the labels' block, then the values' block, no header between)
    still follows the template's order."""
    text = REQUESTS_HEAD + "1.属于国家秘密\n2.其他法律行政法规禁止公开\n1\t0\t0\t0\t0\t0\t1\n0\t2\t0\t0\t0\t0\t2\n"
    cells = parse_bytes(text.encode(), "r.txt").cells
    assert cells["requests.denied_state_secret.total"] == 1 and cells["requests.denied_law_forbidden.commercial"] == 2


# ---------------------------------------------------------------------------
# Property: any header word moved among the values, in every document
# ---------------------------------------------------------------------------


def _cells_per_line(rows) -> list[str]:
    """Each printed cell on a line of its own, blank cells left out: a PDF's text layer read
    in order, without positions."""
    return [c for r, _ in _printed(rows) for c in r if c]


@cache
def _plain_text(index: int) -> tuple[str, dict, set]:
    path, gold = fixtures()[index]
    text = _text_form(model(path, gold), _cells_per_line)
    return text, gold, _errors(parse_bytes(text.encode(), "r.txt"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.integers(0, len(fixtures()) - 1), data=st.data())
def test_header_words_moved_among_values_put_no_number_in_another_cell(doc, data):
    text, gold, errors = _plain_text(doc)
    lines = text.split("\n")
    words = [i for i, line in enumerate(lines) if line in COLUMN_WORDS]
    if not words:
        return
    source = data.draw(st.sampled_from(words))
    target = data.draw(st.integers(source + 1, min(len(lines), source + 60)))
    moved = lines[:source] + lines[source + 1 : target] + [lines[source]] + lines[target:]
    report = parse_bytes("\n".join(moved).encode(), "r.txt")
    assert wrong_numbers(differences(report, gold, keeps_absent=False)) == {}
    assert _errors(report) <= errors


# ---------------------------------------------------------------------------
# Whole tables on one line (every cell joined with a tab: BeautifulSoup's get_text("\t"))
# ---------------------------------------------------------------------------


def test_rows_joined_into_one_line_are_read_row_by_row():
    rows = [
        "（一）予以公开",
        "258",
        "12",
        "\u00a0",
        "\u00a0",
        "1",
        "1",
        "272",
        "（二）部分公开",
        "3",
        "0",
        "0",
        "0",
        "0",
        "0",
        "3",
    ]
    cells = parse_bytes((REQUESTS_HEAD + "\t".join(rows) + "\n").encode(), "r.txt").cells
    assert [cells[f"requests.granted.{c}"] for c in ("natural_person", "commercial", "research", "total")] == [258, 12, None, 272]
    assert cells["requests.partial.natural_person"] == 3 and cells["requests.partial.total"] == 3


def test_a_note_before_a_rows_values_is_still_its_label():
    text = REQUESTS_HEAD + "（二）部分公开\t（区分处理的，只计这一情形，不计其他情形）\t3\t0\t0\t0\t0\t0\t3\n"
    cells = parse_bytes(text.encode(), "r.txt").cells
    assert cells["requests.partial.natural_person"] == 3 and cells["requests.partial.total"] == 3


@cache
def _tab_lines(index: int) -> tuple[list[str], dict, set]:
    path, gold = fixtures()[index]
    text = _text_form(model(path, gold), lambda rows: ["\t".join(r) for r, _ in _printed(rows)])
    return text.split("\n"), gold, _errors(parse_bytes(text.encode(), "r.txt"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.integers(0, len(fixtures()) - 1), data=st.data())
def test_table_lines_joined_with_tabs_put_no_number_in_another_cell(doc, data):
    lines, gold, errors = _tab_lines(doc)
    tabbed = [i for i, line in enumerate(lines) if "\t" in line]
    start = data.draw(st.sampled_from(tabbed))
    end = data.draw(st.integers(start + 1, min(len(lines), start + 40)))
    joined = lines[:start] + ["\t".join(lines[start:end])] + lines[end:]
    report = parse_bytes("\n".join(joined).encode(), "r.txt")
    assert wrong_numbers(differences(report, gold, keeps_absent=False)) == {}
    assert _errors(report) <= errors


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.integers(0, len(fixtures()) - 1), data=st.data())
def test_a_row_lost_by_the_rendering_blames_nobody(doc, data):
    """Any one row of values missing from the text (a converter dropped it, its label did
    not survive): the other cells keep their values, and no sum over the missing row is
    called the office's error."""
    lines, gold, errors = _tab_lines(doc)
    rows = [i for i, line in enumerate(lines) if "\t" in line and any(c.isdigit() for c in line)]
    lost = data.draw(st.sampled_from(rows))
    report = parse_bytes("\n".join(lines[:lost] + lines[lost + 1 :]).encode(), "r.txt")
    assert wrong_numbers(differences(report, gold, keeps_absent=False)) == {}
    assert _errors(report) <= errors


def test_a_header_caption_alone_does_not_decide_the_total_column():
    """申请人情况 printed, the applicants' columns lost (a picture, a dropped line): whether
    the table has a 总计 column is read off its rows, not off the caption."""
    head = (
        "三、收到和处理政府信息公开申请情况\n（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\t申请人情况\n"
    )
    rows = "一、本年新收政府信息公开申请数量\t\t\t\t\t\t\t4\n二、上年结转政府信息公开申请数量\t\t\t\t\t\t\t1\n五、存在的主要问题及改进情况\n"
    cells = parse_bytes((head + rows).encode(), "r.txt").cells
    assert cells["requests.new.total"] == 4 and cells["requests.carried_over.total"] == 1
    assert cells.get("requests.new.other_org") is None
    six = "\t".join(["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"])
    cells = parse_bytes((head + six + "\n一、本年新收政府信息公开申请数量\t4\t0\t0\t0\t0\t1\n").encode(), "r.txt").cells
    assert cells["requests.new.other_org"] == 1 and "requests.new.total" not in cells


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.integers(0, len(fixtures()) - 1), data=st.data())
def test_header_lines_lost_put_no_number_in_another_cell(doc, data):
    lines, gold, errors = _tab_lines(doc)
    headers = [i for i, line in enumerate(lines) if "\t" in line and not any(c.isdigit() for c in line)]
    if not headers:
        return
    lost = set(data.draw(st.lists(st.sampled_from(headers), min_size=1, max_size=3)))
    report = parse_bytes("\n".join(line for i, line in enumerate(lines) if i not in lost).encode(), "r.txt")
    assert wrong_numbers(differences(report, gold, keeps_absent=False)) == {}
    assert _errors(report) <= errors


# ---------------------------------------------------------------------------
# A page number between rows
# ---------------------------------------------------------------------------

BLANK_LAST_ROW = "四、结转下年度继续办理|  |  |  |  |  |  |  |\n"
AFTER = "四、政府信息公开行政复议、行政诉讼情况\n"


@pytest.mark.parametrize("page", ["3", "12"])
def test_a_lone_number_after_a_row_printed_blank_is_not_its_cell(page):
    """A row printed with its cells, all blank, has no cells still to come: a number on a
    line of its own after it (a page number where the PDF's page broke) is not its total."""
    text = (
        REQUESTS_HEAD + "一、本年新收政府信息公开申请数量| 2 | 0 | 0 | 0 | 0 | 0 | 2 |\n" + BLANK_LAST_ROW + page + "\n" + AFTER
    )
    cells = parse_bytes(text.encode(), "r.md").cells
    assert all(cells[f"requests.carried_forward.{c}"] is None for c in ("natural_person", "other_org", "total"))


def test_a_row_printed_one_cell_per_line_takes_its_cells_that_follow():
    text = REQUESTS_HEAD + "四、结转下年度继续办理\n" + "\u00a0\n" * 6 + "3\n" + AFTER
    cells = parse_bytes(text.encode(), "r.txt").cells
    assert cells["requests.carried_forward.total"] == 3 and cells["requests.carried_forward.natural_person"] is None
