"""A value cell printed with a note mark (12*, 12注, 12[1]) reads as its number; one printed
in a value's place that reads as no number (12(1), 12/3, 12△, （12）) is null with a finding. In
neither case does another number move into its column: before, the text was left out of
the row and every value after it shifted one column left (a pipe row, the appeals row)."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from renderings import RENDERINGS, available, differences, fixtures, model, with_cell, wrong_numbers

from archive.parse import parse_bytes

FORMS = [r for r in RENDERINGS if r.name in ("html", "docx", "pdf", "tabs", "index-rows", "markdown", "index-cells")]
# forms that print a row's cells in one line or one grid row: every other cell keeps its value
ROW_FORMS = {"html", "docx", "tabs", "index-rows", "markdown"}
READ = ("{}*", "{}※", "{}注", "{}注1", "{}[1]", "{}【注】", "{}（注）", "{}＊", "{} *")
UNREAD = ("{}(1)", "{}/3", "{}△", "（{}）", "({})")


@cache
def _cases() -> list[tuple[int, str]]:
    """(fixture, cell key) for every cell gold has a number in."""
    return [
        (i, key)
        for i, (_, gold) in enumerate(fixtures())
        for key, value in gold["cells"].items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]


def _errors(report) -> set[tuple[str, str]]:
    return {(f.rule, f.where) for f in report.findings if f.severity == "error"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.integers(0, len(_cases()) - 1), form=st.sampled_from(FORMS), mark=st.sampled_from(READ + UNREAD))
def test_a_marked_value_moves_no_number(case, form, mark):
    doc, key = _cases()[case]
    if not available(form):
        return
    path, gold = fixtures()[doc]
    m = model(path, gold)
    value = gold["cells"][key]
    printed = mark.format(value)
    before = parse_bytes(form.render(m), form.filename)
    report = parse_bytes(form.render(with_cell(m, key, printed)), form.filename)
    expected = {**gold, "cells": {**gold["cells"], key: value if mark in READ else None}}
    assert wrong_numbers(differences(report, expected, form.keeps_absent)) == {}, (path.name, form.name, key, printed)
    assert _errors(report) <= _errors(before), (path.name, form.name, key, printed)
    if mark in READ:  # the mark dropped, the report reads as without it
        assert report.cells == before.cells, (path.name, form.name, key, printed)
    elif form.name in ROW_FORMS:
        assert report.cells.get(key, "absent") is None, (path.name, form.name, key, printed)
        others = {k: v for k, v in report.cells.items() if k != key}
        assert others == {k: v for k, v in before.cells.items() if k != key}, (path.name, form.name, key, printed)
        assert "cell.unreadable" in {f.rule for f in report.findings}


def test_a_note_mark_in_a_pipe_row_and_in_the_appeals_row():
    head = "三、收到和处理政府信息公开申请情况\n（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和） | 申请人情况 | |||||||\n"
    head += "自然人 | 法人或其他组织 | 总计 | |||||||\n商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 | |||||\n"
    rows = "一、本年新收政府信息公开申请数量 | 5* | 1 | 2 | 3 | 4 | 6 | 21 | ||\n"
    rows += "二、上年结转政府信息公开申请数量 | 7(1) | 1 | 2 | 3 | 4 | 6 | 23 | ||\n"
    report = parse_bytes((head + rows).encode(), "r.txt")
    assert [report.cells[f"requests.new.{c}"] for c in ("natural_person", "commercial", "other_org", "total")] == [5, 1, 6, 21]
    assert report.cells["requests.carried_over.natural_person"] is None
    assert [report.cells[f"requests.carried_over.{c}"] for c in ("commercial", "other_org", "total")] == [1, 6, 23]
    assert any(f.rule == "cell.unreadable" and "7(1)" in f.message for f in report.findings)
    assert report.coverage["undecided"] == 1


@cache
def _counts() -> list[tuple[int, str]]:
    """(fixture, cell key) for every cell gold has a whole number of 1 or more in (a thousands
    space after 0 is no number anyone prints)."""
    return [(i, key) for i, key in _cases() if type(v := fixtures()[i][1]["cells"][key]) is int and v >= 1]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.integers(0, len(_counts()) - 1), form=st.sampled_from(FORMS), thousands=st.integers(0, 999))
def test_a_number_printed_with_a_space_inside_moves_no_number(case, form, thousands):
    """``3 643`` (a thousands space, or two numbers run together in one cell): the row's cells
    may be left null, never filled with a part of it or a neighbour's number."""
    doc, key = _counts()[case]
    if not available(form):
        return
    path, gold = fixtures()[doc]
    m = model(path, gold)
    value = gold["cells"][key]
    printed = f"{value} {thousands:03d}"
    before = parse_bytes(form.render(m), form.filename)
    report = parse_bytes(form.render(with_cell(m, key, printed)), form.filename)
    expected = {**gold, "cells": {**gold["cells"], key: None}}
    assert wrong_numbers(differences(report, expected, form.keeps_absent)) == {}, (path.name, form.name, key, printed)
    assert _errors(report) <= _errors(before), (path.name, form.name, key, printed)


def _last_and_middle(gold: dict) -> list[str]:
    """The first count cell of the last labelled row before the appeals table, and of a row in
    the middle: where a spaced number met the excerpt rule for a cut last row, and where one
    cell per line let its parts fill the next columns."""
    keys = [k for k in gold["cells"] if not k.startswith("appeals.") and type(gold["cells"][k]) is int and gold["cells"][k] >= 1]
    return [keys[-1], keys[len(keys) // 2]] if keys else []


@pytest.mark.parametrize(
    "form", [r for r in FORMS if r.name in ("html", "tabs", "index-cells", "index-rows")], ids=lambda r: r.name
)
@pytest.mark.parametrize("index", range(len(fixtures())), ids=[p.name for p, _ in fixtures()])
def test_a_spaced_number_in_the_last_row_or_one_cell_per_line(index, form):
    if not available(form):
        pytest.skip(f"{form.name} not installed")
    path, gold = fixtures()[index]
    m = model(path, gold)
    for key in _last_and_middle(gold):
        printed = f"{gold['cells'][key]} 025"
        report = parse_bytes(form.render(with_cell(m, key, printed)), form.filename)
        expected = {**gold, "cells": {**gold["cells"], key: None}}
        assert wrong_numbers(differences(report, expected, form.keeps_absent)) == {}, (path.name, form.name, key, printed)
