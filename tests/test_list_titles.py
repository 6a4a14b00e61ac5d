"""A report's title as a list prints it is never judged "other" (then the report is never
fetched, and its body is told it did not publish): cut short with no mark at any point
from its year on, in traditional characters, with a zero-width mark inside, with a
Chinese-numeral year whose zero is typed 0 or O. A companion's title stays "other"
however it is printed."""

from __future__ import annotations

import opencc
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.selection import judge

AGENCIES = ["某某县住房和城乡建设局", "凤泉区民政局", "桃江县松木塘镇人民政府", "广州市天河区教育局", "淮安市人民政府办公室"]
FORMS = [
    "{a}{y}年政府信息公开工作年度报告",
    "{a}{y}年度政府信息公开工作年度报告",
    "{y}年{a}政府信息公开工作年度报告",
    "{a}{y}年政务公开工作年度报告",
    "{a}{y}年信息公开年报",
]
COMPANIONS = [
    "关于做好{y}年政府信息公开工作年度报告编制发布工作的通知",
    "《{a}{y}年政府信息公开工作年度报告》解读",
    "图解：{a}{y}年政府信息公开工作年度报告",
    "{a}{y}年政务公开工作要点",
]
NUMERALS = str.maketrans("0123456789", "〇一二三四五六七八九")
_T = opencc.OpenCC("s2t")


def _year(year: int, style: str) -> str:
    numerals = str(year).translate(NUMERALS)
    return {
        "digits": str(year),
        "numerals": numerals,
        "zero": numerals.replace("〇", "0"),
        "letter o": numerals.replace("〇", "O"),
    }[style]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(AGENCIES),
    st.integers(2008, 2025),
    st.sampled_from(FORMS),
    st.sampled_from(["digits", "numerals", "zero", "letter o"]),
    st.sampled_from(["whole", "traditional", "zero width", "cut"]),
    st.integers(0, 40),
)
def test_a_report_title_is_never_other(agency, year, form, style, printed, cut):
    title = form.format(a=agency, y=_year(year, style))
    if printed == "traditional":
        title = _T.convert(title)
    elif printed == "zero width":
        at = cut % len(title)
        title = title[:at] + "\u200b" + title[at:]
    elif printed == "cut":
        start = title.index(_year(year, style)[:2])  # cut anywhere from the year on, no mark
        title = title[: start + 2 + cut % (len(title) - start - 2)]
    verdict = judge(title, 2026)
    assert verdict.kind != "other", title
    if printed != "cut":
        assert (verdict.kind, verdict.year) == ("report", year), title


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(AGENCIES), st.integers(2008, 2025), st.sampled_from(COMPANIONS), st.integers(0, 40), st.booleans())
def test_a_companion_stays_other_however_printed(agency, year, form, cut, traditional):
    title = form.format(a=agency, y=year)
    if traditional:
        title = _T.convert(title)
    assert judge(title, 2026).kind == "other", title
    # cut short, what is left is still a companion's whenever it keeps the companion's word
    short = title[: max(len(title) - cut % 6, 1)]
    if judge(short, 2026).kind != "other":
        assert not any(w in short for w in ("编制", "解读", "图解", "要点")), short


TABS = ["{y}", "{y}年", "{y}年度", "{y}年度年报", "{y}年度政府信息公开年报", "{y}年政府信息公开工作年度报告专栏", "{n}年度"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(2015, 2025), min_size=1, max_size=4, unique=True),
    st.sampled_from(TABS),
    st.sampled_from(["links", "select"]),
    st.sampled_from(["trs", "gdpost", "vsb", "shtml_uuid", "nextlink"]),
)
def test_a_year_menu_is_walked_however_it_is_printed(years, tab, menu, family):
    """Per-year sub-columns named as portals name them, as tabs or a drop-down list; a dated
    link, a body's report or an attachment among them is no tab."""
    from crawler.families import profile
    from crawler.listing import read_list
    from crawler.page import Page

    def name(y: int) -> str:
        return tab.format(y=y, n=str(y).translate(NUMERALS))

    if menu == "links":
        items = "".join(f'<a href="{y}n/">{name(y)}</a>' for y in years)
    else:
        items = '<select><option value="">请选择年度</option>' + "".join(
            f'<option value="{y}n/">{name(y)}</option>' for y in years
        )
        items += "</select>"
    decoys = (
        '<li><a href="2020n/x.pdf">2020年度</a></li>'  # an attachment
        '<li><a href="2019n/">2019年度</a><span>2020-01-20</span></li>'  # a dated item
        '<li><a href="a/">凤泉区民政局2018年政府信息公开工作年度报告</a></li>'  # a body's report
    )
    page = Page(
        "http://www.example.gov.cn/gknb/index.html",
        200,
        f"<html><body>{items}<ul>{decoys}</ul></body></html>".encode(),
        "text/html",
    )
    columns = read_list(profile(family), page, {}, 2026, top=True).columns
    assert columns == [f"http://www.example.gov.cn/gknb/{y}n/" for y in years]
