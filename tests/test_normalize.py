from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.normalize import (
    _NOTE_AFTER,
    _NOTE_MARKS,
    _NUMBER,
    _NUMBERING,
    _SIGNS,
    BLANK,
    PLACEHOLDERS,
    TEXT,
    _digit_forms,
    label_key,
    nfkc,
    parse_value,
    split_trailing_values,
    to_cell,
)


@pytest.mark.parametrize(
    "raw,kind,number",
    [
        ("0", "number", 0),
        (" 12 ", "number", 12),
        ("1,036", "number", 1036),
        ("１２３", "number", 123),
        ("+1036", "number", 1036),
        ("-8", "number", -8),
        ("－8", "number", -8),
        ("602.5492", "number", 602.5492),
        ("0件", "number", 0),
        ("251000元", "number", 251000),
        ("12.5万元", "number", 12.5),
        ("", "blank", None),
        ("&nbsp;".replace("&nbsp;", "\u00a0"), "blank", None),
        ("/", "blank", None),
        ("／", "blank", None),
        ("-", "blank", None),
        ("－", "blank", None),
        ("--", "blank", None),
        ("—", "blank", None),
        ("——", "blank", None),
        ("无", "blank", None),
        ("空白", "blank", None),
        ("规章", "text", None),
        ("详见附件", "text", None),
        # a note mark after a number, dropped; one that may be a sign or say "of which" is not
        ("12*", "number", 12),
        ("12※", "number", 12),
        ("12注", "number", 12),
        ("12注1", "number", 12),
        ("12[1]", "number", 12),
        ("12【注】", "number", 12),
        ("12（注）", "number", 12),
        ("3.5万元*", "number", 3.5),
        ("12(1)", "text", None),
        ("12△", "text", None),
        ("[1]", "text", None),
        ("行政许可*", "text", None),
    ],
)
def test_parse_value(raw, kind, number):
    v = parse_value(raw)
    assert v.kind == kind and v.number == number


def test_money_in_yuan_becomes_wanyuan():
    assert to_cell(parse_value("251000元"), "money") == pytest.approx(25.1)
    assert to_cell(parse_value("25.1"), "money") == pytest.approx(25.1)
    assert to_cell(parse_value("-"), "count") is None


@pytest.mark.parametrize(
    "a,b",
    [
        ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "(二) 部分公开 (区分处理的, 只计这一情形, 不计其他情形)"),
        ("商业企业", "商业 企业"),
        ("3.危及“三安全一稳定”", '3. 危及"三安全一稳定"'),
        ("1、其他", "（1）其他"),
        ("本年增/减", "本年增\\减"),
    ],
)
def test_label_variants_share_a_key(a, b):
    assert label_key(a) == label_key(b)


def test_split_trailing_values():
    assert split_trailing_values("规章 1 0 11") == ("规章", ["1", "0", "11"])
    assert split_trailing_values("4.无正当理由大量反复 申请 0 0") == ("4.无正当理由大量反复 申请", ["0", "0"])
    assert split_trailing_values("2024 年") == ("2024 年", [])


# Text a report prints: CJK, full-width forms, ideographic and other spaces, circled and
# compatibility characters, ASCII; the fast paths must agree with the plain definitions.
_REPORT_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0xFF01, max_codepoint=0xFF65),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x4E40),
        st.sampled_from("\u3000\u00a0\t\n（）、，。：①㈠⑴Ⅳ㎡﹙﹚…—ｰ"),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)


@given(st.one_of(_REPORT_TEXT, st.lists(_REPORT_TEXT, min_size=2, max_size=12).map("".join)))
@settings(max_examples=400, deadline=None)
def test_nfkc_is_unicode_nfkc(text):
    """Short cells and long prose (which takes another path) alike."""
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


@given(_REPORT_TEXT)
@settings(max_examples=400, deadline=None)
def test_label_key_is_its_definition(text):
    """NFKC, no whitespace, numbering stripped from the front again and again, no punctuation."""
    text_ = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).strip()
    prev = None
    while prev != text_:
        prev, text_ = text_, _NUMBERING.sub("", text_, count=1).strip()
    label_key.cache_clear()
    assert label_key(text) == re.sub(r"[^\w]|_", "", text_)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
@settings(max_examples=200, deadline=None)
def test_plain_digits_read_as_the_full_reading_reads_them(digits):
    """A cell of ASCII digits takes a short path; padded, it takes the full one: both agree."""
    parse_value.cache_clear()
    assert parse_value(digits) == parse_value(f" {digits} ") == parse_value(f"{digits}|")


@given(st.one_of(_REPORT_TEXT, st.tuples(_REPORT_TEXT, st.sampled_from(["行政许可", "无", "暂无", "空"])).map("".join)))
@settings(max_examples=400, deadline=None)
def test_cells_read_as_their_full_reading_reads_them(raw):
    """Labels take a short path to 'text'; the full reading (footnote marks dropped, NFKC,
    placeholders, the number pattern, a note mark after a number) must agree on every cell."""
    bare = _NOTE_MARKS.sub("", raw)
    s = unicodedata.normalize("NFKC", bare).replace("\u00a0", " ").strip().strip("|").strip()
    unmarked = _NOTE_AFTER.sub("", s)
    parse_value.cache_clear()
    if bare != raw and not bare.strip():
        assert parse_value(raw) == TEXT  # a footnote mark alone
    elif s in PLACEHOLDERS:
        assert parse_value(raw) == BLANK
    elif _NUMBER.match(s.translate(_SIGNS)):
        assert parse_value(raw).kind == "number"
    elif unmarked != s and unmarked.strip():
        assert parse_value(raw) == parse_value(unmarked)  # 12*, 12注: the number, its mark dropped
    else:
        assert parse_value(raw) == TEXT


def test_every_digit_form_is_known():
    """Every character NFKC turns into a digit (scanned over all of Unicode) is one the
    short path for labels looks for."""
    import sys

    forms = _digit_forms()
    missed = [
        hex(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.decomposition(chr(c))
        and re.search(r"\d", unicodedata.normalize("NFKC", chr(c)))
        and not forms.search(chr(c))
    ]
    assert missed == []


_MARKS = st.sampled_from(list("①②③⑩⑳⑴⑵⒈⒉⓪❶➀㉑㊱¹²³⁴⁰₁₂"))


@given(st.integers(0, 10**6), _MARKS, st.sampled_from(["{n}{m}", "{m}{n}", "{n} {m}", "{n}{m}件"]))
@settings(max_examples=300, deadline=None)
def test_a_footnote_mark_beside_a_number_is_no_digit_of_it(n, mark, form):
    """12① is 12 with a note, never 121 (NFKC makes a digit of the mark); a mark alone is no
    number, and digits in other widths (１２, 𝟏𝟐) still are."""
    parse_value.cache_clear()
    assert parse_value(form.format(n=n, m=mark)).number == n
    assert parse_value(mark).kind == "text"
    assert parse_value(str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))).number == n


@pytest.mark.parametrize("mark", ["①", "¹", "₂", "❶", "⓫", "➀", "㉑", "㊱"])
def test_a_footnote_mark_beside_any_cell_is_dropped(mark):
    """Marks NFKC leaves alone (❶, ⓫) as well as those it makes digits of (①, ¹)."""
    parse_value.cache_clear()
    assert parse_value(f"12{mark}") == parse_value("12")
    assert parse_value(f"无{mark}") == BLANK
    assert parse_value(f"行政许可{mark}") == TEXT
    assert parse_value(mark) == TEXT
