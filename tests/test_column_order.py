"""A province that prints the columns under 法人或其他组织 in its own order (法律服务机构 before
商业企业 …): where the header's cells have positions (a grid, a PDF's glyphs, tabs) the values
go under the columns the header puts there; where a line of the header says the order differs
and nothing says where each column is, the table's cells are null with a finding. Never the
template's order over the header's."""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from renderings import RENDERINGS, available, differences, fixtures, model, with_column_order, with_organisations, wrong_numbers

from archive.parse import parse_bytes
from archive.template import APPLICANT_COLUMNS

FORMS = [r for r in RENDERINGS if r.name in ("html", "docx", "pdf", "tabs", "markdown", "index-rows", "w3m")]
PLACED = ("html", "docx", "pdf", "tabs", "markdown")  # forms whose header cells keep their columns
ORGANISATIONS = APPLICANT_COLUMNS[1:]


@cache
def _docs() -> list[int]:
    """Fixtures printing a requests row with a number under some organisation."""
    return [
        i
        for i, (_, gold) in enumerate(fixtures())
        if any(k.startswith("requests.") and k.split(".")[2] in ORGANISATIONS and v for k, v in gold["cells"].items())
    ]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.sampled_from(_docs()), form=st.sampled_from(FORMS), order=st.permutations(ORGANISATIONS))
def test_the_headers_order_of_the_organisations_is_read_or_nothing_is(doc, form, order):
    if not available(form):
        return
    path, gold = fixtures()[doc]
    report = parse_bytes(form.render(with_organisations(model(path, gold), tuple(order))), form.filename)
    diff = differences(report, gold, form.keeps_absent)
    assert wrong_numbers(diff) == {}, (path.name, form.name, order)
    if form.name in PLACED:  # read in full, each under its own column
        assert {k: v for k, v in diff.items() if k.startswith("requests.")} == {}, (path.name, form.name, order)


ORDERS = (
    ("total", "natural_person", *ORGANISATIONS),  # 总计 first
    (*ORGANISATIONS, "natural_person", "total"),  # 自然人 after the organisations
    ("total", *ORGANISATIONS, "natural_person"),
)


def _errors(report) -> set[tuple[str, str]]:
    return {(f.rule, f.where) for f in report.findings if f.severity == "error"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.sampled_from(_docs()),
    form=st.sampled_from(
        [r for r in RENDERINGS if r.name in ("html", "docx", "pdf", "tabs", "markdown", "index-rows", "index-cells")]
    ),
    order=st.sampled_from(ORDERS),
)
def test_total_or_natural_person_printed_elsewhere_moves_no_number(doc, form, order):
    """总计 printed first, or 自然人 after the organisations: read where the header's cells have
    positions; one cell per line, 法人或其他组织 read before 自然人 says the order differs, and
    totals that do not add up in most rows say 总计 is elsewhere — null with a finding, never
    a number under another column nor an office accused of sums it did not print."""
    if not available(form):
        return
    path, gold = fixtures()[doc]
    m = model(path, gold)
    before = parse_bytes(form.render(m), form.filename)
    report = parse_bytes(form.render(with_column_order(m, order)), form.filename)
    diff = differences(report, gold, form.keeps_absent)
    assert wrong_numbers(diff) == {}, (path.name, form.name, order)
    assert _errors(report) <= _errors(before), (path.name, form.name, order)
    if form.name in ("html", "docx"):  # read in full, each under its own column
        assert {k: v for k, v in diff.items() if k.startswith("requests.")} == {}, (path.name, form.name, order)
