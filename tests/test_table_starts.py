"""Tables where they really start (issue 12): a table printed without its section heading
(it begins with its first row), with the heading printed inside the table as a row, or
printed entirely blank — the template is still recognised and every cell read (null when
blank), in every rendering."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from renderings import RENDERINGS, available, blank, differences, fixtures, model, with_headings, wrong_numbers

from archive.parse import parse_bytes

DOCS = [(p, g) for p, g in fixtures() if p.name[:3] in ("004", "03-", "10-", "001")]
FORMS = [
    r
    for r in RENDERINGS
    if r.name in ("html", "pdf", "docx", "index-rows", "index-cells", "markdown", "tabs", "html2text", "w3m", "double-spaced")
]


def _check(report, gold, rendering):
    diff = differences(report, gold, rendering.keeps_absent)
    if rendering.lossy:
        diff = wrong_numbers(diff)
    assert diff == {}


@pytest.mark.parametrize("style", ["none", "row"])
@pytest.mark.parametrize("rendering", FORMS, ids=[r.name for r in FORMS])
def test_tables_without_a_heading_or_with_the_heading_inside(rendering, style):
    if not available(rendering):
        pytest.skip(f"{rendering.needs} is not installed")
    for path, gold in DOCS:
        m = with_headings(model(path, gold), style)
        _check(parse_bytes(rendering.render(m), rendering.filename), gold, rendering)


@pytest.mark.parametrize("rendering", FORMS, ids=[r.name for r in FORMS])
def test_a_table_printed_entirely_blank_is_still_the_template_with_null_cells(rendering):
    if not available(rendering):
        pytest.skip(f"{rendering.needs} is not installed")
    for path, gold in DOCS:
        m = blank(model(path, gold))
        report = parse_bytes(rendering.render(m), rendering.filename)
        assert report.template == gold["template"], path.name
        assert all(v is None for v in report.cells.values())
        if not rendering.lossy:
            assert set(report.cells) >= set(m.gold["cells"]), path.name


def test_no_heading_begins_another_regions_heading():
    """Headings are matched by the longest one a line begins with; that is only the
    region's own when no heading of one region begins a heading of another."""
    from archive.tables import _HEADINGS

    for region, headings in _HEADINGS.items():
        for other, others in _HEADINGS.items():
            if other != region:
                assert not any(a.startswith(b) for a in headings for b in others), (region, other)


_VALUE_TOKENS = st.sampled_from(
    ["0", "5", "12", "1,036", "3.5", "-", "+", "－", "|", "件", "个", "万元", "元", "人次", "/", "—", "无"]
)


@given(st.lists(_VALUE_TOKENS, min_size=2, max_size=4))
@settings(max_examples=300, deadline=None)
def test_a_cell_read_as_one_value_is_never_split(tokens):
    """A cell whose whole text reads as one value (``0 |``, ``5 件``, ``- 5``) is kept whole:
    its tokens are never several numbers, nor header words of any table."""
    from archive.normalize import label_key, parse_value
    from archive.tables import _column_named, _split_cell
    from archive.template import TABLES

    cell = " ".join(tokens)
    if parse_value(cell).kind == "text":
        return
    assert not all(parse_value(t).kind == "number" for t in tokens)
    for table in TABLES:
        assert not any(_column_named(table.key, label_key(t)) for t in tokens)
        assert _split_cell(cell, table) == [(cell, 0, len(cell))]


def test_heading_hint_misses_no_heading():
    """Lines are only read as headings when they hold a heading's sign character; every
    character NFKC turns into one is such a sign too (scanned over all of Unicode), and
    every heading holds one."""
    import sys
    import unicodedata

    from archive.tables import _HEADING_REGION, _heading_hint

    signs = {h[-1] for h in _HEADING_REGION} | {"第", "系", "况"}
    for heading in [*_HEADING_REGION, "第二十条第（一）项", "勾稽关系", "申请人情况"]:
        assert _heading_hint().search(heading), heading
    missed = [
        hex(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.decomposition(chr(c))
        and any(sign in unicodedata.normalize("NFKC", chr(c)) for sign in signs)
        and not _heading_hint().search(chr(c))
    ]
    assert missed == []
