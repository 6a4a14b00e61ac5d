"""Amounts printed in 元 under a header that says so (采购总金额（元）, 本年收费金额（单位：元）,
a （单位：元） note above the table) are read in 万元, as the contract keeps them: a bare
251000 under such a header is 25.1, not ten thousand times too much."""

from __future__ import annotations

from dataclasses import replace

import pytest
from renderings import RENDERINGS, available, fixtures, model

from archive.normalize import fmt_number
from archive.parse import parse_bytes
from crawler.mock.documents import Cell

AMOUNTS = ("disclosure.fees.amount", "disclosure.procurement.amount")
DOCS = [(p, g) for p, g in fixtures() if any(g["cells"].get(k) for k in AMOUNTS)]
FORMS = [r for r in RENDERINGS if r.name in ("html", "docx", "pdf", "tabs", "markdown", "index-cells", "w3m", "html2text")]


def in_yuan(m):
    """The report with its amounts printed in 元, the headers of their columns saying so."""
    tables = []
    for heading, rows in m.tables:
        out, column = [], None
        for row in rows:
            texts = [c.text for c in row]
            at = next((i for i, t in enumerate(texts) if "金额" in t), None)
            if at is not None:  # a header naming an amount column: its unit becomes 元
                column = at
                label = "本年收费金额（单位：元）" if "收费" in texts[at] else "采购总金额（元）"
                row = [*row[:at], replace(row[at], text=label), *row[at + 1 :]]
            elif len(row) == 1:  # the next section's title: its own header follows
                column = None
            elif column is not None and column < len(row) and row[column].text:
                value = float(row[column].text) * 10000
                row = [*row[:column], Cell(fmt_number(round(value, 6)), row[column].colspan), *row[column + 1 :]]
            out.append(row)
        tables.append((heading, out))
    return replace(m, tables=tables)


@pytest.mark.parametrize("rendering", FORMS, ids=[r.name for r in FORMS])
@pytest.mark.parametrize("doc", range(len(DOCS)), ids=[p.name for p, _ in DOCS])
def test_amounts_under_a_header_in_yuan_read_in_wan_yuan(doc, rendering):
    if not available(rendering):
        pytest.skip(f"{rendering.needs} is not installed")
    path, gold = DOCS[doc]
    report = parse_bytes(rendering.render(in_yuan(model(path, gold))), rendering.filename)
    for key in AMOUNTS:
        if gold["cells"].get(key) is not None:
            assert report.cells.get(key) == pytest.approx(gold["cells"][key]), key


SECTION = "二、主动公开政府信息情况\n{note}第二十条第（八）项\n信息内容\t{header}\n行政事业性收费\t{value}\n三、收到和处理政府信息公开申请情况\n"


@pytest.mark.parametrize(
    ("note", "header", "value", "amount"),
    [
        ("", "本年收费金额（单位：元）", "3500", 0.35),  # the header's unit
        ("（单位：元）\n", "本年收费金额", "3500", 0.35),  # a note of its own above the table
        ("", "本年收费金额（单位：元）", "3500元", 0.35),  # the cell's own unit, once: not 0.000035
        ("", "本年收费金额（单位：万元）", "0.35", 0.35),  # the template's own unit: as printed
        ("", "本年收费金额", "0.35", 0.35),  # no unit anywhere: 万元, the template's
        ("本年收费金额为3500元。\n", "本年收费金额（单位：万元）", "0.35", 0.35),  # prose naming 元 is no header
        ("", "本年收费金额（单位：万元）", "3500元", 0.35),  # a cell printed in 元 under a 万元 header
    ],
)
def test_the_unit_an_amount_is_read_in(note, header, value, amount):
    text = SECTION.format(note=note, header=header, value=value)
    assert parse_bytes(text.encode(), "r.txt").cells["disclosure.fees.amount"] == pytest.approx(amount)
