"""Each consistency rule: one report where it holds, one where it fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.coverage import _REQUESTS_KEYS, _template_cells, template_cells
from archive.parse import parse_bytes
from archive.rules import check_report
from archive.template import APPLICANT_COLUMNS, OUTCOME_ROWS

SEED_004 = (Path(__file__).parent / "fixtures/seeds/004_5508c84fc82701dc.txt").read_text("utf-8")


def rules(findings, severity=None):
    return {f.rule for f in findings if severity is None or f.severity == severity}


def requests_cells(new, carried, handled, forward, with_total=True):
    """A consistent-looking requests table: all applications by natural persons."""
    cells = {}
    for row, n in (("new", new), ("carried_over", carried), ("total_handled", handled), ("carried_forward", forward)):
        for c in APPLICANT_COLUMNS:
            cells[f"requests.{row}.{c}"] = n if c == "natural_person" else 0
        if with_total:
            cells[f"requests.{row}.total"] = n
    for row in OUTCOME_ROWS:
        if row == "other":
            continue
        for c in APPLICANT_COLUMNS:
            cells[f"requests.{row}.{c}"] = handled if (row == "granted" and c == "natural_person") else 0
        if with_total:
            cells[f"requests.{row}.total"] = handled if row == "granted" else 0
    return cells


def test_seed_004_is_consistent():
    report = parse_bytes(SEED_004.encode(), "r.txt")
    assert rules(report.findings, "error") == set()


@pytest.mark.parametrize("with_total", [True, False])
def test_balance(with_total):
    assert "requests.balance" not in rules(check_report(requests_cells(10, 2, 11, 1, with_total)))
    found = [f for f in check_report(requests_cells(10, 2, 11, 3, with_total)) if f.rule == "requests.balance"]
    assert found and found[0].where == "requests.*.natural_person"
    assert "12" in found[0].message and "14" in found[0].message


def test_row_total():
    cells = requests_cells(10, 0, 10, 0)
    assert "requests.row_total" not in rules(check_report(cells))
    cells["requests.new.total"] = 11
    found = [f for f in check_report(cells) if f.rule == "requests.row_total"]
    assert [f.where for f in found] == ["requests.new.total"]


def test_outcome_sum():
    cells = requests_cells(10, 0, 10, 0)
    assert "requests.outcome_sum" not in rules(check_report(cells))
    cells["requests.unable_not_held.natural_person"] = 1
    cells["requests.unable_not_held.total"] = 1
    found = [f for f in check_report(cells) if f.rule == "requests.outcome_sum"]
    assert {f.where for f in found} == {"requests.*.natural_person", "requests.*.total"}


def test_outcome_sum_with_single_other_row():
    cells = requests_cells(5, 0, 5, 0)
    for c in (*APPLICANT_COLUMNS, "total"):
        for row in ("other_no_correction", "other_no_fee", "other_other"):
            cells.pop(f"requests.{row}.{c}")
        cells[f"requests.other.{c}"] = 0
    assert "requests.outcome_sum" not in rules(check_report(cells))
    # the single row stands in for its sub-rows: the sums lack no row
    assert not [f for f in check_report(cells) if f.rule == "check.incomplete"]
    cells["requests.other.natural_person"] = 2
    assert "requests.outcome_sum" in rules(check_report(cells))


@given(st.sampled_from([r for r in OUTCOME_ROWS if r != "other"]), st.integers(1, 9))
@settings(max_examples=100, deadline=None)
def test_a_sum_missing_one_of_its_rows_is_not_checked(row, n):
    """A row the parse did not read (its label wrapped past recognition, a converter lost
    it) may hold the numbers a partial sum misses: the rule says "not checked" (info)
    and names the row, never an error; with every row read, the same numbers are one."""
    cells = requests_cells(10 + n, 0, 10 + n, 0)
    for c in (*APPLICANT_COLUMNS, "total"):
        cells[f"requests.granted.{c}"] = 10 if c in ("natural_person", "total") else 0
        cells[f"requests.{row}.{c}"] = n if c in ("natural_person", "total") else 0
    if row == "granted":
        cells["requests.granted.natural_person"] = cells["requests.granted.total"] = 10 + n
    assert "requests.outcome_sum" not in rules(check_report(cells))
    read = {k: v for k, v in cells.items() if not k.startswith(f"requests.{row}.")}
    found = check_report(read)
    assert "requests.outcome_sum" not in rules(found)
    assert [f for f in found if f.rule == "check.incomplete" and "outcome_sum" in f.message]
    cells["requests.total_handled.natural_person"] += 1  # a real imbalance, every row read
    assert "requests.outcome_sum" in rules(check_report(cells), "error")


def test_appeals_group_total():
    cells = {f"appeals.review.{c}": v for c, v in zip(("upheld", "corrected", "other", "pending", "total"), (1, 1, 0, 1, 3))}
    assert "appeals.group_total" not in rules(check_report(cells))
    cells["appeals.review.total"] = 4
    found = [f for f in check_report(cells) if f.rule == "appeals.group_total"]
    assert found[0].where == "appeals.review.total" and "4" in found[0].message and "3" in found[0].message


def test_blank_cells_are_not_zero():
    cells = requests_cells(10, 2, 11, 1)
    cells["requests.new.natural_person"] = None
    findings = check_report(cells)
    assert "requests.balance" not in rules(findings, "error")
    assert any(f.rule == "check.incomplete" and "requests.balance" in f.message for f in findings)


def test_negative_counts_but_signed_change_allowed():
    assert rules(check_report({"disclosure.licensing.change": -8})) == set()
    found = check_report({"disclosure.licensing.decisions": -8})
    assert [f.rule for f in found] == ["values.nonneg"]


def test_blank_table():
    cells = {f"appeals.review.{c}": None for c in ("upheld", "corrected", "other", "pending", "total")}
    assert "table.blank" in rules(check_report(cells))
    cells["appeals.review.total"] = 0
    assert "table.blank" not in rules(check_report(cells))


def test_short_rows_reported_once_per_missing_column(fixtures):
    report = parse_bytes((fixtures / "seeds/000_13629bb28de84385.txt").read_bytes(), "r.txt")
    short = [f for f in report.findings if f.rule == "row.short"]
    assert len(short) == 1 and short[0].where == "requests.*.other_org" and "19 行" in short[0].message
    complete = parse_bytes(SEED_004.encode(), "r.txt")
    assert "row.short" not in rules(complete.findings)


def test_narrative_contradicts_table(fixtures):
    report = parse_bytes((fixtures / "seeds/000_13629bb28de84385.txt").read_bytes(), "r.txt")
    found = [f for f in report.findings if f.rule == "narrative.requests_new"]
    assert found and found[0].severity == "warning" and "0" in found[0].message and "3" in found[0].message
    # the prose contradicting the table is worth a look, not an accusation: the tables add up
    assert [f for f in report.findings if f.severity == "error"] == []
    # Seed 004 states 12 received, 10 granted, 2 appeals, 2 suits: all agree with its tables.
    assert not any(f.rule.startswith("narrative.") for f in parse_bytes(SEED_004.encode(), "r.txt").findings)


def test_narrative_appeal_mismatch():
    text = SEED_004.replace("收到行政复议 2 件", "收到行政复议 5 件")
    found = [f for f in parse_bytes(text.encode(), "r.txt").findings if f.rule == "narrative.review_total"]
    assert found and "5" in found[0].message


def test_table_missing_when_tables_are_images():
    html = (
        "<html><body><h1>某某局2024年政府信息公开工作年度报告</h1><p>一、总体情况</p><p>略。</p>"
        "<p>二、主动公开政府信息情况</p><p><img src='t1.png'></p>"
        "<p>三、收到和处理政府信息公开申请情况</p><p><img src='t2.png'></p></body></html>"
    )
    report = parse_bytes(html.encode(), "r.html")
    assert report.cells == {} and report.template is None
    assert [f.where for f in report.findings if f.rule == "table.missing"] == ["disclosure.*.*", "requests.*.*"]


@pytest.mark.parametrize("stated,fires", [(13, False), (10, True)])
def test_granted_and_partial_stated_together_are_compared_with_both_rows(stated, fires):
    """ "予以公开及部分公开N件" counts 予以公开 (10) and 部分公开 (made 3 here): compared with
    their sum, not with 予以公开 alone (which raised a false alarm on correct reports)."""
    lines = SEED_004.replace("予以公开 10 件", f"予以公开及部分公开 {stated} 件").split("\n")
    row = next(i for i, line in enumerate(lines) if "部分公开" in line and "\t" in line)
    cells = lines[row].split("\t")
    first = next(k for k, c in enumerate(cells) if c == "0")
    cells[first], cells[-1] = "3", "3"  # 自然人 3, 总计 3
    lines[row] = "\t".join(cells)
    report = parse_bytes("\n".join(lines).encode(), "r.txt")
    assert report.cells["requests.partial.total"] == 3
    assert ("narrative.requests_granted" in rules(report.findings)) == fires


@pytest.mark.parametrize("unattributed", [False, True])
def test_sum_rule_over_a_table_with_values_no_row_took_is_not_an_error(unattributed):
    """A table where some values went to no row cannot be summed: a failure there is "not
    checked" (info); the same failure in a table read in full is an error."""
    cells = requests_cells(5, 0, 4, 0)  # 5 + 0 ≠ 4 + 0
    found = check_report(cells, frozenset({"requests"}) if unattributed else frozenset())
    assert ("requests.balance" in rules(found, "error")) != unattributed
    assert ("check.incomplete" in rules(found, "info")) == unattributed


@given(st.sets(st.sampled_from(sorted(_REQUESTS_KEYS | {"disclosure.regulations.made", "appeals.review.total"}))))
@settings(max_examples=300, deadline=None)
def test_template_cells_follow_what_the_requests_table_printed(keys):
    """The coverage template counts （六）其他处理 as one row when the report printed it so, and
    the 总计 column only when printed: read from the cells a report has."""
    cells = dict.fromkeys(keys, 0)
    requests = [k for k in keys if k.startswith("requests.")]
    single_other = any(k.startswith("requests.other.") for k in keys)
    no_total = bool(requests) and not any(k.endswith(".total") for k in requests)
    assert template_cells("2021", cells) == _template_cells("2021", single_other, no_total)
