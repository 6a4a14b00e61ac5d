"""Text normalisation for labels and cell values.

Reports print the same label with full- or half-width punctuation, spaces
inside words (``商业 企业``), several numbering styles (``1.`` ``1、`` ``（1）``)
and quote styles. Labels are compared in a *key* form that drops all of that;
cell values are parsed by :func:`parse_value`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

_CN_DIGITS = str.maketrans("〇○零O一二三四五六七八九", "000012345678" + "9")

_NUMBERING = re.compile(
    r"^(?:"
    r"[一二三四五六七八九十]{1,3}[、.．,，]"  # 一、 二.
    r"|[(（][一二三四五六七八九十\d]{1,3}[)）][、.．]?"  # （一） (1)
    r"|\d{1,2}(?:[、.．)）]|\s)(?!\d)"  # 1. 1、 1)
    r")\s*"
)
# Everything that is not a letter or digit (CJK ideographs count as letters).
_NON_WORD = re.compile(r"[^\w]|_", re.UNICODE)


# Full-width ASCII and the ideographic space, mapped to what NFKC makes of them: most of
# what a Chinese report needs normalised, done by one translation instead of NFKC's
# decomposition and recomposition (which then runs only on what remains).
_FULL_WIDTH = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {0x3000: " "}


_COMMON_WIDE = (
    *((wide, chr(ord(wide) - 0xFEE0)) for wide in "，：；（）！？％．／－０１２３４５６７８９"),
    ("\u3000", " "),
    ("…", "..."),
)


def nfkc(text: str) -> str:
    if unicodedata.is_normalized("NFKC", text):
        return text
    if len(text) > 64:  # prose: a few replacements scan it faster than a translation table
        for wide, narrow in _COMMON_WIDE:
            if wide in text:
                text = text.replace(wide, narrow)
        if unicodedata.is_normalized("NFKC", text):
            return text
    text = text.translate(_FULL_WIDTH)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def strip_numbering(text: str) -> str:
    """Remove leading list numbering, repeatedly (``三、（一）`` → ``''``)."""
    text = text.strip()
    while m := _NUMBERING.match(text):
        text = text[m.end() :].strip()
    return text


@lru_cache(maxsize=65536)
def label_key(text: str) -> str:
    """The comparison form of a label: NFKC, no numbering, no spaces or punctuation."""
    text = "".join(nfkc(text).split())  # str.split() and the regex \s agree on what whitespace is
    text = strip_numbering(text)
    return _NON_WORD.sub("", text)


def compact(text: str) -> str:
    """NFKC without whitespace or punctuation, numbering kept: for keyword searches."""
    return _NON_WORD.sub("", "".join(nfkc(text).split()))


def chinese_year(text: str) -> int | None:
    """``2024`` / ``二〇二四`` / ``二零二四`` → 2024 (None when not a plausible year)."""
    digits = nfkc(text).translate(_CN_DIGITS)
    if len(digits) == 4 and digits.isdigit():
        year = int(digits)
        if 1990 <= year <= 2100:
            return year
    return None


# --------------------------------------------------------------------------
# Cell values
# --------------------------------------------------------------------------

PLACEHOLDERS = frozenset(
    {"", "/", "\\", "-", "--", "---", "—", "——", "–", "－", "−", "─", "无", "空", "空白", "暂无", "x", "X", "×", "*"}
)

_SIGNS = str.maketrans({"－": "-", "−": "-", "–": "-", "—": "-", "＋": "+"})
_NUMBER = re.compile(
    r"^(?P<sign>[+\-]?)\s*"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*"
    r"(?P<unit>万元|亿元|元|件|个|条|项|次|宗|起|份|人次|人)?$"
)

ValueKind = Literal["blank", "number", "text"]


@dataclass(frozen=True, slots=True)
class Value:
    kind: ValueKind
    number: int | float | None = None
    unit: str | None = None
    signed: bool = False


BLANK = Value("blank")
TEXT = Value("text")


_IDEOGRAPH = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")  # NFKC leaves these as they are


# where NFKC makes digits and ideographs out of other characters: super- and subscripts,
# number forms, enclosed alphanumerics, radicals, enclosed and squared CJK, compatibility
# ideographs, half and full width, mathematical digits, enclosed supplements
_COMPATIBILITY_BLOCKS = (
    (0x00B2, 0x00BF),
    (0x2070, 0x20A0),
    (0x2150, 0x2190),
    (0x2460, 0x2500),
    (0x2E80, 0x2FE0),
    (0x3200, 0x3400),
    (0xF900, 0xFB00),
    (0xFF00, 0xFFF0),
    (0x1D7CE, 0x1D800),
    (0x1F100, 0x1F300),
    (0x2F800, 0x2FA20),
)


def compatibility_forms(wanted: Callable[[str], bool]) -> str:
    """Every character NFKC turns into something ``wanted`` accepts (tests scan all of
    Unicode to show none lies outside these blocks)."""
    return "".join(chr(c) for start, end in _COMPATIBILITY_BLOCKS for c in range(start, end) if wanted(nfkc(chr(c))))


# footnote marks printed beside a number (12①, 12¹, ⑴12): circled, parenthesised and
# full-stop digits, super- and subscripts. NFKC makes digits of most of them (12① would
# read 121): they are dropped from a number, and a mark alone is no number.
_NOTE_MARK_CHARS = "\u00b2\u00b3\u00b9\u2070-\u2079\u2080-\u2089\u2460-\u249b\u24ea-\u24ff\u2776-\u2793\u3251-\u325f\u32b1-\u32bf"
_NOTE_MARKS = re.compile(f"[{_NOTE_MARK_CHARS}]")


@cache
def _digit_forms() -> re.Pattern:
    """A digit, a character NFKC turns into digits (full width, circled, parenthesised,
    super- and subscript, enclosed CJK dates, mathematical) or a footnote mark: where a
    number, or a mark beside one, may hide."""
    return re.compile("[\\d" + compatibility_forms(_DIGIT.search) + _NOTE_MARK_CHARS + "]")


_DIGIT = re.compile(r"\d")


# a note mark printed after a number in a mark of its own (12*, 12※, 12注, 12注1, 12[1], 12【注】,
# 12(注)), as NFKC leaves it: dropped as footnote digits are. A mark that could be a sign
# (△ for a decrease) or a bracketed number (12(1): of which 1?) is not one of them.
_NOTE_AFTER = re.compile(r"\s*(?:[*※†‡#]+|注\d{0,2}|\[注?\d{0,2}\]|【注?\d{0,2}】|\(注\d{0,2}\))$")
_NOTE_ENDS = frozenset("*※†‡#注0123456789]】)")  # the last character of every such mark


@lru_cache(maxsize=65536)
def parse_value(raw: str) -> Value:
    """Classify one cell: a number (with its printed unit), blank/placeholder, or text."""
    if raw.isascii() and raw.isdigit():  # most cells: what the full reading below makes of them
        return Value("number", int(raw))
    if not raw.isascii():
        if not _digit_forms().search(raw):  # no digit in any form, no footnote mark
            ideograph = _IDEOGRAPH.search(raw)
            if ideograph and ideograph.group() not in "无空暂":
                return TEXT  # a label: an ideograph no placeholder holds
        elif _NOTE_MARKS.search(raw):
            bare = _NOTE_MARKS.sub("", raw)
            return parse_value(bare) if bare.strip() else TEXT
    s = nfkc(raw).replace("\u00a0", " ").strip().strip("|").strip()
    if s in PLACEHOLDERS:
        return BLANK
    m = _NUMBER.match(s.translate(_SIGNS))
    if not m:
        bare = _NOTE_AFTER.sub("", s) if s and s[-1] in _NOTE_ENDS else s
        return parse_value(bare) if bare != s and bare.strip() else TEXT
    num_text = m.group("num").replace(",", "")
    number: int | float = float(num_text) if "." in num_text else int(num_text)
    if m.group("sign") == "-":
        number = -number
    return Value("number", number, m.group("unit"), bool(m.group("sign")))


def value_shaped(raw: str) -> str | None:
    """Whether a cell that does not read as a number could stand in a number's place: a
    digit and no ideograph (``12(1)``, ``5/6``: "value"; ``（5）``, ``1.``, which may also
    number the label after them: "list number"); None for any other text."""
    if not _DIGIT.search(raw) or _IDEOGRAPH.search(raw):  # most text: a label
        return None
    s = nfkc(raw).strip()
    if len(s) > 20:
        return None
    return "value" if strip_numbering(s) else "list number"


def fmt_number(n: int | float) -> str:
    """A number as printed: integers plainly, decimals without trailing zeros."""
    if isinstance(n, float):
        return f"{n:.6f}".rstrip("0").rstrip(".")
    return str(n)


def to_cell(value: Value, kind: str, unit: str | None = None) -> int | float | None:
    """The contract value of a parsed cell for a column of ``kind`` (count/money/signed);
    ``unit``: the money unit the column's header prints, for a number printed without one."""
    if value.kind != "number":
        return None
    n = value.number
    if kind == "money":
        unit = value.unit or unit
        if unit == "元":
            n = round(n / 10000, 6)
        elif unit == "亿元":
            n = round(n * 10000, 6)
        return n
    if isinstance(n, float) and n.is_integer():
        return int(n)
    return n


_TRAILING_TOKEN = re.compile(r"(?:^|\s+)(\S+)$")


TRAILING_DASHES = frozenset(("-", "—", "/", "－", "——", "--"))


def is_trailing_value(token: str) -> bool:
    """A token :func:`split_trailing_values` peels off a label: a number or a dash."""
    return token in TRAILING_DASHES or parse_value(token).kind == "number"


def split_trailing_values(text: str) -> tuple[str, list[str]]:
    """``'规章 1 0 11'`` → ``('规章', ['1', '0', '11'])``: peel space-separated values
    off the end of a label cell (PDF text lines print a row on one line)."""
    values: list[str] = []
    rest = text.rstrip()
    while rest:
        m = _TRAILING_TOKEN.search(rest)
        if not m:
            break
        token = m.group(1)
        if not is_trailing_value(token):
            break
        values.append(token)
        rest = rest[: m.start()].rstrip()
    values.reverse()
    return rest, values
