"""A text cut off inside a table (a search index keeps a page's first thousand or two
characters, cut wherever its budget ends): no number the cut shortened, and no value a
cut row shifted, is ever read into a cell."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from renderings import FIXTURES, RENDERINGS, available, fixtures, model

from archive.parse import parse_bytes

SEED = (FIXTURES / "seeds" / "004_5508c84fc82701dc.txt").read_text("utf-8")
FEES = "行政事业性收费\t1017.737\t\t\n"
SECRET = "\t(三) 不 予公开\t1.属于国家秘密\t0\t0\t0\t0\t0\t0\t0\n"
NEW = "一、本年新收政府信息公开申请数量\t\t\t4\t0\t0\t0\t0\t8\t12\n"
TEXT_FORMS = [
    r
    for r in RENDERINGS
    if r.filename.endswith((".txt", ".md")) and r.name not in ("pdftotext", "pdftotext-layout") and available(r)
]


def _upto(line: str, keep: int = 0) -> str:
    """The seed up to ``line`` (which must be in it), with ``keep`` characters of it."""
    at = SEED.index(line)
    return SEED[: at + keep]


def _parse(text: str):
    return parse_bytes(text.encode("utf-8"), "excerpt.txt")


def _cut_off(report) -> list[str]:
    return [f.message for f in report.findings if f.rule == "row.cut_off"]


def test_a_number_the_cut_may_have_shortened_is_not_read():
    # "1017.737" cut to "101": the fee is left out, with a finding naming the value
    report = _parse(_upto(FEES, len("行政事业性收费\t101")))
    assert "disclosure.fees.amount" not in report.cells
    (message,) = _cut_off(report)
    assert "“101”" in message and "disclosure.fees.amount" in message
    # the same text with a line break after the number (pdftotext adds a form feed after
    # it): nothing was cut inside it
    for end in ("\n", "\n\x0c", "\r\n "):
        whole = _parse(_upto(FEES, len("行政事业性收费\t101")) + end)
        assert whole.cells["disclosure.fees.amount"] == 101 and _cut_off(whole) == []


def test_a_row_cut_short_is_left_out_entirely():
    text = _upto(SECRET, len("\t(三) 不 予公开\t1.属于国家秘密\t0\t0\t0"))
    for ending in ("", " ", "\t"):  # the text stops inside the row, after a value or a separator
        report = _parse(text + ending)
        assert not any(k.startswith("requests.denied_state_secret.") for k in report.cells)
        assert report.cells["requests.granted.total"] == 10  # the rows before it are read
        (message,) = _cut_off(report)
        assert "1.属于国家秘密" in message and "该行未印全" in message
    # a text ending with a line break ended where its writer ended it: a short row, as printed
    ended = _parse(text + "\n")
    assert ended.cells["requests.denied_state_secret.research"] == 0 and _cut_off(ended) == []
    assert "row.short" in {f.rule for f in ended.findings}


def test_a_complete_last_row_of_zeros_is_kept():
    """No number of several digits starts with 0: a whole row of zeros ending the text is whole."""
    report = _parse(_upto(SECRET, len(SECRET) - 1))  # the row's last 0 is the text's last character
    assert [report.cells[f"requests.denied_state_secret.{c}"] for c in ("natural_person", "total")] == [0, 0]
    assert _cut_off(report) == []


def test_an_amount_ending_the_text_is_in_doubt_even_when_zero():
    """0 may be the start of 0.5 where the column is money."""
    text = _upto(FEES) + "行政事业性收费\t0"
    assert "disclosure.fees.amount" not in _parse(text).cells
    assert _parse(text + "\n").cells["disclosure.fees.amount"] == 0


def test_a_grid_row_whose_blank_cells_would_shift_a_cut_row_is_left_out():
    """``一、本年新收 | | | 4 | 0 …`` prints two blank cells of merged labels before its values:
    cut after seven cells, its values fill the seven columns shifted by two."""
    text = _upto(NEW, len("一、本年新收政府信息公开申请数量\t\t\t4\t0\t0\t0\t0"))
    report = _parse(text + " ")
    assert not any(k.startswith("requests.new.") for k in report.cells)
    assert "本年新收" in _cut_off(report)[0]
    # cut one cell later, the row's eight cells fill its seven columns shifted by one
    shifted = _parse(_upto(NEW, len("一、本年新收政府信息公开申请数量\t\t\t4\t0\t0\t0\t0\t8")) + "\t")
    assert not any(k.startswith("requests.new.") for k in shifted.cells)
    assert "可能未印全" in _cut_off(shifted)[0]
    # the whole row, followed by the rest of the report, reads as printed
    whole = _parse(SEED)
    assert whole.cells["requests.new.natural_person"] == 4 and whole.cells["requests.new.total"] == 12
    assert _cut_off(whole) == []


def test_only_text_is_cut_so():
    """An HTML page's cells are whole elements: its last cell is read as printed."""
    html = "<html><body><p>二、主动公开政府信息情况</p><table><tr><td>行政事业性收费</td><td>101</td></tr></table></body></html>"
    report = parse_bytes(html.encode(), "page.html")
    assert report.cells["disclosure.fees.amount"] == 101 and _cut_off(report) == []


@cache
def _rendered(doc: int, form: int) -> tuple[str, dict]:
    path, gold = fixtures()[doc]
    return TEXT_FORMS[form].render(model(path, gold)).decode("utf-8"), gold


@pytest.mark.skipif(not TEXT_FORMS, reason="no text rendering available")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.integers(0, len(fixtures()) - 1), form=st.integers(0, max(0, len(TEXT_FORMS) - 1)), at=st.floats(0, 1))
def test_a_text_cut_anywhere_puts_no_number_in_a_cell_gold_does_not_hold(doc, form, at):
    text, gold = _rendered(doc, form)
    start = max(0, text.find("二、主动公开"))  # cut in the tables, not in the prose before them
    cut = text[: start + int((len(text) - start) * at)]
    assume(cut.strip())
    report = _parse(cut)
    wrong = {
        key: (gold["cells"].get(key, "ABSENT"), value)
        for key, value in report.cells.items()
        if isinstance(value, (int, float)) and gold["cells"].get(key) != value
    }
    assert wrong == {}, (TEXT_FORMS[form].name, cut[-80:])
