"""Every value lands in the cell it was printed in (issues 12 and 18).

Properties over every seed and real document, rebuilt as printed (tests/renderings.py):
change one printed number — or blank one cell — and re-render the report in the
document's own format (and others): the parse differs from the original in exactly
that cell, with exactly that value. CI runs 200 examples per document for the
change property; ``bench/placement.py`` runs many more.
"""

from __future__ import annotations

import os
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from renderings import (
    FIXTURES,
    RENDERINGS,
    available,
    differences,
    fixtures,
    model,
    own_rendering,
    run_together,
    same,
    with_cell,
    wrong_numbers,
)

from archive.parse import parse_bytes
from archive.template import TABLES_BY_KEY
from crawler.mock.documents import to_html_body, to_pdf

EXAMPLES = int(os.environ.get("NIANBAO_PLACEMENT_EXAMPLES", "200"))
DOCS = fixtures()
BY_NAME = {r.name: r for r in RENDERINGS}


@cache
def _baseline(index: int, rendering: str) -> dict:
    path, gold = DOCS[index]
    r = BY_NAME[rendering]
    return parse_bytes(r.render(model(path, gold)), r.filename).cells


def _kind(key: str) -> str:
    table, _, column = key.split(".")
    return TABLES_BY_KEY[table].column(column).kind


@st.composite
def edits(draw, gold: dict, allow_blank: bool = False):
    """A printed cell and a new value for it: 0 ↔ k, k → k′, a neighbour's value or the row's total."""
    cells = gold["cells"]
    key = draw(st.sampled_from(sorted(cells)))
    old = cells[key]
    row = key.rsplit(".", 1)[0]
    neighbours = [v for k, v in cells.items() if k.startswith(row + ".") and k != key and v is not None]
    kind = _kind(key)
    numbers = st.integers(1, 9999) if kind != "signed" else st.integers(-999, 999)
    if kind == "money":
        numbers = st.one_of(numbers, st.decimals(1, 99999, places=2).map(float))
    choices = [numbers, st.just(0)]
    if neighbours:
        choices.append(st.sampled_from(neighbours))
    if allow_blank:
        choices.append(st.none())
    value = draw(st.one_of(*choices))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if same(value, old):
        value = None if allow_blank and old is not None else (old or 0) + 1
    return key, value


def _changed(before: dict, after: dict) -> dict:
    keys = set(before) | set(after)
    return {k: after.get(k, "ABSENT") for k in keys if not same(before.get(k, "ABSENT"), after.get(k, "ABSENT"))}


def _check_edit(index: int, rendering_name: str, key: str, value) -> None:
    path, gold = DOCS[index]
    r = BY_NAME[rendering_name]
    edited = with_cell(model(path, gold), key, value)
    report = parse_bytes(r.render(edited), r.filename)
    changed = _changed(_baseline(index, rendering_name), report.cells)
    if r.lossy:
        assert wrong_numbers(differences(report, edited.gold, r.keeps_absent)) == {}
    else:
        assert changed == {key: value}, f"{path.name} in {r.name}: {key} → {value}"


@pytest.mark.parametrize("index", range(len(DOCS)), ids=[p.name for p, _ in DOCS])
def test_changing_one_number_changes_exactly_that_cell_in_the_documents_own_format(index):
    path, gold = DOCS[index]
    own = own_rendering(path).name

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(edits(gold))
    def prop(edit):
        _check_edit(index, own, *edit)

    prop()


SPREAD = ("html", "pdf", "docx", "xlsx", "index-rows", "markdown", "tabs", "html2text", "w3m", "lynx")


@pytest.mark.parametrize("rendering", SPREAD)
@pytest.mark.parametrize("index", range(len(DOCS)), ids=[p.name for p, _ in DOCS])
def test_blanking_or_changing_any_cell_touches_no_other_cell(index, rendering):
    if not available(BY_NAME[rendering]):
        pytest.skip(f"{BY_NAME[rendering].needs} is not installed")
    _, gold = DOCS[index]

    @settings(
        max_examples=max(5, EXAMPLES // 20),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(edits(gold, allow_blank=True))
    def prop(edit):
        _check_edit(index, rendering, *edit)

    prop()


def _rows_with_numbers(gold: dict) -> list[tuple[str, str, int]]:
    """(table, row, numbers printed) for every labelled row printing at least two numbers."""
    counts: dict[tuple[str, str], int] = {}
    for key, value in gold["cells"].items():
        table, row, _ = key.split(".")
        if table != "appeals" and value is not None:
            counts[(table, row)] = counts.get((table, row), 0) + 1
    return sorted((t, r, n) for (t, r), n in counts.items() if n >= 2)


@pytest.mark.parametrize("rendering", ["tabs", "index-rows", "html", "docx"])
@pytest.mark.parametrize("index", range(len(DOCS)), ids=[p.name for p, _ in DOCS])
def test_numbers_run_together_short_of_their_columns_are_never_guessed(index, rendering):
    """A row whose numbers were printed in its label's cell, one of them missing: its cells
    are null with a ``row.unplaced`` finding naming the row, and no other cell changes."""
    _, gold = DOCS[index]
    rows = _rows_with_numbers(gold)
    if not rows:
        pytest.skip("no labelled row prints two numbers")
    r = BY_NAME[rendering]

    @settings(max_examples=max(5, EXAMPLES // 40), deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(rows), st.integers(0, 10), st.booleans())
    def prop(row, drop, keep_grid):
        table, key, printed = row
        label = TABLES_BY_KEY[table].row(key).label
        edited = run_together(model(*DOCS[index]), table, label, drop % printed, keep_grid)
        report = parse_bytes(r.render(edited), r.filename)
        prefix = f"{table}.{key}."
        assert {k: v for k, v in report.cells.items() if k.startswith(prefix) and v is not None} == {}
        assert any(f.rule == "row.unplaced" and f.where == f"{table}.{key}.*" for f in report.findings)
        others = {k: v for k, v in _baseline(index, rendering).items() if not k.startswith(prefix)}
        assert _changed(others, {k: v for k, v in report.cells.items() if not k.startswith(prefix)}) == {}

    prop()


SEED_001 = (FIXTURES / "seeds/001_924043a2ff6d2acf.txt").read_text("utf-8")


@pytest.mark.parametrize("fmt", ["text", "html", "pdf"])
def test_seed_001_sparse_carried_over_row_in_every_format(fmt):
    """The row 二、上年结转 printed as 1 0 0 0 0 0 1 (自然人 1, 总计 1) was stored as 其他 = 1."""
    label = "二、上年结转政府信息公开申请数量"
    lines = SEED_001.split("\n")
    row = next(i for i, line in enumerate(lines) if line.startswith(label))
    lines[row] = "\t".join([label, "", "1", "0", "0", "0", "0", "0", "1", ""])
    text = "\n".join(lines)
    if fmt == "text":
        data, name = text.encode(), "r.txt"
    elif fmt == "html":
        data, name = f"<html><body>{to_html_body(text)}</body></html>".encode(), "r.html"
    else:
        data, name = to_pdf(text), "r.pdf"
    cells = parse_bytes(data, name).cells
    gold = dict(next(g for p, g in DOCS if p.name.startswith("001"))["cells"])
    gold["requests.carried_over.natural_person"] = 1
    gold["requests.carried_over.total"] = 1
    assert {k: cells.get(k) for k in gold if not same(cells.get(k, "ABSENT"), gold[k])} == {}


@pytest.mark.parametrize("column", ["issued", "repealed", "in_force"])
def test_a_one_column_row_never_makes_the_header_misleading(column):
    """Found by bench/placement.py: in a PDF, 行政许可's single value under its own header
    was taken for a row contradicting the header in force, so a 行政规范性文件 row with a
    blank cell lost its positions and came out null."""
    index = next(i for i, (p, _) in enumerate(DOCS) if p.name.startswith("09-"))
    _check_edit(index, "pdf", f"disclosure.normative_docs.{column}", None)


@pytest.mark.parametrize(
    "doc, rendering, key, value",
    [
        # lynx runs header labels together and does not keep cells under them: no position
        # is taken from such a header (its words keep their extent only to show that)
        ("09-", "lynx", "disclosure.normative_docs.issued", None),
        ("10-", "lynx", "disclosure.procurement.projects", None),
        # lynx runs a row's first value into its label: that number has no column of its own
        ("10-", "lynx", "disclosure.other_services.decisions", None),
        # a wider number moves the PDF's header word 自然人 into the note printed before it
        ("03-", "pdf", "requests.denied_internal.other_org", 1000),
    ],
)
def test_edits_the_soak_found(doc, rendering, key, value):
    """Falsifying examples bench/placement.py found with fresh random examples."""
    if not available(BY_NAME[rendering]):
        pytest.skip(f"{BY_NAME[rendering].needs} is not installed")
    _check_edit(next(i for i, (p, _) in enumerate(DOCS) if p.name.startswith(doc)), rendering, key, value)
