"""Rows the national template does not have — 其中：通过互联网申请 under 一, a province's
9.其他 or （八）其他, 行政征收 beside 行政强制, 其他规范性文件 — are printed with numbers of their own: those
numbers go to no cell of the template, even after a row printed blank, and no 其他 row is
taken for （六）'s 3.其他. The total column printed as 合计 is still the total."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from renderings import RENDERINGS, available, differences, fixtures, model, with_cell, wrong_numbers

from archive.parse import parse_bytes
from archive.template import DISCLOSURE, REQUESTS
from crawler.mock.documents import Cell, place

FORMS = [r for r in RENDERINGS if r.name in ("html", "docx", "pdf", "tabs", "index-rows", "markdown", "index-cells")]
EXTRA = {
    "requests": ("其中：通过互联网申请", "9.其他", "（八）其他", "其他情形", "其中：依申请公开"),
    "disclosure": ("行政征收", "行政确认", "其他行政行为", "其他规范性文件", "其他行政许可"),
}
TITLES = {"requests": REQUESTS.title, "disclosure": DISCLOSURE.title}


def _with_row(rows: list[list[Cell]], at: int, label: str, values: list[str]) -> list[list[Cell]]:
    """``rows`` with a row inserted before index ``at``: its label over the free columns before
    its values; cells spanning rows across the insertion span it too."""
    rows = [[replace(c) for c in row] for row in rows]
    placed, width = place(rows)
    covered = set()
    for p in placed:
        if p.row < at < p.row + p.cell.rowspan:
            p.cell.rowspan += 1
            covered |= set(range(p.col, p.col + p.cell.colspan))
    free = [c for c in range(width) if c not in covered]
    lead = len(free) - len(values)
    return [*rows[:at], [Cell(label, colspan=lead), *(Cell(v) for v in values)], *rows[at:]]


@cache
def _cases() -> list[tuple[int, str, str]]:
    """(fixture, table, template row key) for every row printed with a label of its own."""
    out = []
    for i, (_, gold) in enumerate(fixtures()):
        for table, t in (("requests", REQUESTS), ("disclosure", DISCLOSURE)):
            for row in t.rows:
                if any(k.startswith(f"{table}.{row.key}.") for k in gold["cells"]):
                    out.append((i, table, row.key))
    return out


def _errors(report) -> set[tuple[str, str]]:
    return {(f.rule, f.where) for f in report.findings if f.severity == "error"}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.integers(0, len(_cases()) - 1), form=st.sampled_from(FORMS), extra=st.integers(0, 4), blank=st.booleans())
def test_numbers_of_a_row_the_template_does_not_have_go_to_no_cell(case, form, extra, blank):
    doc, table, key = _cases()[case]
    if not available(form):
        return
    path, gold = fixtures()[doc]
    m = model(path, gold)
    if blank:  # the template row above the extra one printed blank
        for cell in [k for k in gold["cells"] if k.startswith(f"{table}.{key}.")]:
            m = with_cell(m, cell, None)
    before = parse_bytes(form.render(m), form.filename)
    at_table = next(i for i, (heading, _) in enumerate(m.tables) if heading.startswith(TITLES[table]))
    heading, rows = m.tables[at_table]
    label = next(r for r in (REQUESTS if table == "requests" else DISCLOSURE).rows if r.key == key).label
    at = next(i for i, row in enumerate(rows) if any(c.text == label for c in row))
    width = place(rows)[1]
    n = 1 if table == "disclosure" else min(7, width - 1)
    values = [str(31 + 7 * k) for k in range(n)]
    name = EXTRA[table][extra % len(EXTRA[table])]
    tables = list(m.tables)
    tables[at_table] = (heading, _with_row(rows, at + 1, name, values))
    report = parse_bytes(form.render(replace(m, tables=tables)), form.filename)
    wrong = wrong_numbers(differences(report, m.gold, form.keeps_absent))
    assert wrong == {}, (path.name, form.name, name, key)
    assert _errors(report) <= _errors(before), (path.name, form.name, name, key)


TOTAL = "三、收到和处理政府信息公开申请情况\n（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\t\t申请人情况\n"


def test_a_total_column_printed_as_heji():
    head = TOTAL + "\t\t自然人\t法人或其他组织\t\t\t\t\t{total}\n\t\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t\n"
    rows = "一、本年新收政府信息公开申请数量\t\t\t\t\t\t\t\t3\n二、上年结转政府信息公开申请数量\t\t\t\t\t\t\t\t0\n五、其他\n"
    for total in ("总计", "合计"):
        cells = parse_bytes((head.format(total=total) + rows).encode(), "r.txt").cells
        assert cells["requests.new.total"] == 3 and cells["requests.new.other_org"] is None, total
    # without a total column the last number is 其他's
    cells = parse_bytes((head.format(total="") + rows).encode(), "r.txt").cells
    assert cells["requests.new.other_org"] == 3 and "requests.new.total" not in cells


def test_a_numbered_other_is_only_its_own_number():
    rows = (
        "\t（三）不予公开\t8.属于行政查询事项\t0\t0\t0\t0\t0\t0\t0\n"
        "\t\t9.其他\t2\t0\t0\t0\t0\t0\t2\n"
        "\t（六）其他处理\t3.其他\t1\t0\t0\t0\t0\t0\t1\n"
        "\t（七）合计\t\t5\t0\t0\t0\t0\t0\t5\n"
    )
    head = TOTAL + "\t\t\t自然人\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t总计\n"
    report = parse_bytes((head + rows + "五、其他\n").encode(), "r.txt")
    assert report.cells["requests.other_other.natural_person"] == 1 and report.cells["requests.other_other.total"] == 1
    assert report.cells["requests.total_handled.total"] == 5  # （七）合计 is （七）总计
    assert "row.unattributed" in {f.rule for f in report.findings}  # 9.其他's numbers: said, not placed


ROW_FORMS = [r for r in FORMS if r.name in ("html", "docx", "tabs", "index-rows", "markdown")]


def _with_serials(rows: list[list[Cell]]) -> list[list[Cell]]:
    """The requests table with a leading 序号 column numbering its rows 1, 2, 3 …"""
    rows = [[replace(c) for c in row] for row in rows]
    rows[0].insert(0, Cell("序号", rowspan=3))
    for n, row in enumerate(rows[3:], 1):
        row.insert(0, Cell(str(n)))
    return rows


@cache
def _requests_rows() -> list[tuple[int, str]]:
    """(fixture, row key) for every requests row a fixture prints."""
    return [(i, key) for i, table, key in _cases() if table == "requests"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.integers(0, len(_requests_rows()) - 1), form=st.sampled_from(ROW_FORMS))
def test_a_serial_column_gives_no_row_the_next_rows_number(case, form):
    """A province's 序号 column: the number before a row's label is no value of the row above,
    even where that row printed blank cells (before, 2 and 3 filled an empty row's first cell)."""
    doc, key = _requests_rows()[case]
    if not available(form):
        return
    path, gold = fixtures()[doc]
    m = model(path, gold)
    for cell in [k for k in gold["cells"] if k.startswith(f"requests.{key}.")]:
        m = with_cell(m, cell, None)  # the row above a serial printed blank
    before = parse_bytes(form.render(m), form.filename)
    at = next(i for i, (heading, _) in enumerate(m.tables) if heading.startswith(REQUESTS.title))
    tables = list(m.tables)
    tables[at] = (tables[at][0], _with_serials(tables[at][1]))
    report = parse_bytes(form.render(replace(m, tables=tables)), form.filename)
    assert wrong_numbers(differences(report, m.gold, form.keeps_absent)) == {}, (path.name, form.name, key)
    assert report.cells == before.cells, (path.name, form.name, key)
