from __future__ import annotations

import pytest

from archive.normalize import label_key, parse_value, split_trailing_values, to_cell


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
        ("规章", "text", None),
        ("详见附件", "text", None),
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
