"""Agency and reporting year from titles in every form portals print."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.extract import Document, extract
from archive.extract.text import text_lines
from archive.metadata import identify


def ident(text: str, title: str | None = None, meta: dict | None = None):
    return identify(Document(lines=text_lines(text), format="text", title=title, meta=meta or {}))


@pytest.mark.parametrize(
    "text,agency,year",
    [
        ("凤泉区人民政府 2021 年政府信息公开工作年度报告\n一、总体情况", "凤泉区人民政府", 2021),
        ("互助县城市管理综合行政执法局 2024 年度政府信息公开工作年度报告", "互助县城市管理综合行政执法局", 2024),
        ("二〇二四年某某县住房和城乡建设局政府信息公开工作年度报告", "某某县住房和城乡建设局", 2024),
        ("某某县住房和城乡建设局二○二三年度政府信息公开工作年度报告", "某某县住房和城乡建设局", 2023),
        ("2024年政府信息公开工作年度报告（上海市浦东新区应急管理局）", "上海市浦东新区应急管理局", 2024),
        ("2019年上海市人民政府办公厅政府信息公开工作年度报告", "上海市人民政府办公厅", 2019),
        ("淮安市人民政府\n2024 年政府信息公开工作年度报告", "淮安市人民政府", 2024),
        ("正文\n2024 年上海市科委政府信息公开工作\n年度报告", "上海市科委", 2024),
        ("2025湖口县大垅乡2025年度政府信息公开工作年度报告", "湖口县大垅乡", 2025),
        ("泉港区人民政府办公室关于印发泉港区2024年度政府信息公开工作年度报告的通知", "泉港区", 2024),
        ("云林街道2019年度政府信息公开工作报告", "云林街道", 2019),
        ("红旗区2018年度政府信息与政务公开工作报告", "红旗区", 2018),
        ("首页 政务资讯 政务公开\n牛华镇2021年政府信息公开工作年度报告", "牛华镇", 2021),
    ],
)
def test_titles(text, agency, year):
    found = ident(text)
    assert (found.agency, found.year) == (agency, year)


def test_no_agency_named_gives_null_agency_and_period_year():
    found = ident("一、总体情况\n本报告统计期限自2024年1月1日起至2024年12月31日止。2023年以来……")
    assert (found.agency, found.year) == (None, 2024)


def test_year_only_title_takes_agency_from_page_metadata():
    found = ident("2024年政府信息公开工作年度报告", meta={"ContentSource": "湖南省生态环境厅"})
    assert (found.agency, found.year, found.agency_source) == ("湖南省生态环境厅", 2024, "page")


def test_page_title_when_body_has_none():
    found = ident(
        "一、总体情况\n……", title="某某县住房和城乡建设局2024年政府信息公开工作年度报告_政府信息公开年报_某某县人民政府"
    )
    assert (found.agency, found.year) == ("某某县住房和城乡建设局", 2024)


def test_narrative_sentence_is_not_a_title():
    found = ident("2024 年，凤泉区建管局以习近平新时代中国特色社会主义思想为指导，认真贯彻落实中央要求。")
    assert found.agency is None and found.year == 2024


# Identity from what the document says (issue 12): each pattern with a case where it must
# fire and one where it must not.
@pytest.mark.parametrize(
    "text,agency,year",
    [
        # the body named only in the prose
        (
            "为做好红旗区城乡建设局政府信息公开工作，根据《条例》编制本报告。统计期限自2023年1月1日起至2023年12月31日止。",
            "红旗区城乡建设局",
            2023,
        ),
        ("为做好政府信息公开工作，根据《条例》编制本报告。统计期限自2023年1月1日起至2023年12月31日止。", None, 2023),
        ("本报告由凤泉区民政局编制，所列数据统计期限为2024年1月1日至12月31日。", "凤泉区民政局", 2024),
        ("本报告由本机关编制，所列数据统计期限为2024年1月1日至12月31日。", None, 2024),
        ("现将凤泉区民政局2024年政府信息公开工作情况报告如下：\n一、总体情况", "凤泉区民政局", 2024),
        ("现将我局2024年政府信息公开工作情况报告如下：\n一、总体情况", None, 2024),
        # a cited notice is never the title
        ("根据《关于做好2023年政府信息公开工作年度报告有关事项的通知》要求，现将我局2023年工作报告如下。", None, 2023),
        ("根据《关于做好政府信息公开工作年度报告的通知》要求\n淮阳区住建局2022年政府信息公开工作年度报告", "淮阳区住建局", 2022),
        # verbs that introduce a name are not part of it
        ("编制凤泉区民政局2024年政府信息公开工作年度报告", "凤泉区民政局", 2024),
        ("特发布凤泉区民政局2024年政府信息公开工作年度报告", "凤泉区民政局", 2024),
        ("根据《条例》规定，现公开锡山区云林街道2019年度政府信息公开工作年度报告。", "锡山区云林街道", 2019),
        ("现予公开锡山区云林街道2019年度政府信息公开工作年度报告", "锡山区云林街道", 2019),
        ("现向社会公开锡山区云林街道2019年度政府信息公开工作年度报告", "锡山区云林街道", 2019),
        ("现报送凤泉区民政局2024年政府信息公开工作年度报告", "凤泉区民政局", 2024),
        ("特向社会公告凤泉区民政局2024年政府信息公开工作年度报告", "凤泉区民政局", 2024),
        ("凤泉区政务公开办公室2024年政府信息公开工作年度报告", "凤泉区政务公开办公室", 2024),  # 公开 in the name
        ("本报告由凤泉区民政局根据《条例》要求编制，统计期限为2024年1月1日至12月31日。", "凤泉区民政局", 2024),
        ("本报告由本机关根据《条例》要求编制，统计期限为2024年1月1日至12月31日。", None, 2024),
        # a page's link to another article is never the title (上一篇, 相关文章 before it)
        ("上一篇：凤泉区民政局2023年政府信息公开工作年度报告\n凤泉区民政局2024年政府信息公开工作年度报告", "凤泉区民政局", 2024),
        (
            "相关文章：凤泉区财政局2024年政府信息公开工作年度报告\n凤泉区民政局2024年政府信息公开工作年度报告",
            "凤泉区民政局",
            2024,
        ),
        ("相关部门：凤泉区民政局\n2024年政府信息公开工作年度报告", None, 2024),
        # short titles
        ("凤泉区民政局2024年信息公开年报\n一、总体情况", "凤泉区民政局", 2024),
        ("2024年信息公开年报\n一、总体情况", None, 2024),
        # traditional characters (a mirror site re-rendered the page)
        ("鳳泉區民政局2024年政府信息公開工作年度報告\n一、總體情況", "凤泉区民政局", 2024),
        # the body's name on the line below a title that has none
        ("2022年政府信息公开工作年度报告\n桃江县松木塘镇人民政府\n一、总体情况", "桃江县松木塘镇人民政府", 2022),
        ("2022年政府信息公开工作年度报告\n一、总体情况\n2022年，我镇认真贯彻落实《条例》。", None, 2022),
        # {机关}关于…的年度报告, 关于{机关}…, 【{机关}】…, the year after the report's name
        ("洪泽区财政局关于2024年政府信息公开工作的年度报告\n一、总体情况", "洪泽区财政局", 2024),
        ("关于洪泽区财政局2024年政府信息公开工作年度报告\n一、总体情况", "洪泽区财政局", 2024),
        ("【洪泽区财政局】2024年政府信息公开工作年度报告\n一、总体情况", "洪泽区财政局", 2024),
        ("洪泽区财政局政府信息公开工作年度报告（2024年度）\n一、总体情况", "洪泽区财政局", 2024),
        ("洪泽区财政局2024年度政府信息公开工作情况的报告\n一、总体情况", "洪泽区财政局", 2024),
        ("关于2024年政府信息公开工作的年度报告\n一、总体情况", None, 2024),
        # a page's metadata line beside the title names the publisher, not the body
        (
            "发布机构：县政府办公室\n2024年政府信息公开工作年度报告\n长沙县黄花镇人民政府\n一、总体情况",
            "长沙县黄花镇人民政府",
            2024,
        ),
        ("发布机构：县政府办公室\n2024年政府信息公开工作年度报告\n一、总体情况", None, 2024),
        # a breadcrumb is no name
        ("当前位置：首页 > 信息公开 > 2023年政府信息公开工作年度报告\n一、总体情况", None, 2023),
    ],
)
def test_identity_from_what_the_document_says(text, agency, year):
    found = identify(extract(text.encode(), "r.txt"))
    assert (found.agency, found.year) == (agency, year)


AGENCIES = [
    "凤泉区民政局",
    "互助县城市管理综合行政执法局",
    "淮安市人民政府",
    "桃江县松木塘镇人民政府",
    "上海市浦东新区应急管理局",
    "广州市天河区教育局",
]
NUMERALS = {2019: "二〇一九", 2020: "二〇二〇", 2021: "二〇二一", 2022: "二〇二二", 2023: "二〇二三", 2024: "二〇二四"}
TITLE_FORMS = [
    "{a}{y}年政府信息公开工作年度报告",
    "{a}{y}年度政府信息公开工作年度报告",
    "{y}年{a}政府信息公开工作年度报告",
    "{a}关于{y}年政府信息公开工作的年度报告",
    "关于{a}{y}年政府信息公开工作年度报告",
    "{y}年政府信息公开工作年度报告（{a}）",
    "{a}\n{y}年政府信息公开工作年度报告",
    "{y}年政府信息公开工作年度报告\n{a}",
    "{a}{y}年政府信息公开年报",
    "{a}政府信息公开工作年度报告（{y}年度）",
    "【{a}】{y}年政府信息公开工作年度报告",
    "{a}{y}年政府信息公开工作\n年度报告",
]
CHROME = [
    "首页 > 政务公开 > 政府信息公开年报",
    "发布日期：{p}",
    "来源：县政府办公室",
    "发布机构：市人民政府",
    "字号：[ 大 中 小 ]",
    "浏览次数：1234",
    "上一篇：{a}{py}年政府信息公开工作年度报告",
    "下一篇：某某县财政局{y}年政府信息公开工作年度报告",
    "相关文章：某某县财政局{y}年政府信息公开工作年度报告",
]


@given(
    st.sampled_from(AGENCIES),
    st.sampled_from(sorted(NUMERALS)),
    st.sampled_from(TITLE_FORMS),
    st.sampled_from(["arabic", "numerals", "full width", "spaced"]),
    st.lists(st.sampled_from(CHROME), max_size=4, unique=True),
    st.integers(0, 4),
)
@settings(max_examples=300, deadline=None)
def test_every_title_form_among_page_chrome(agency, year, form, digits, chrome, split):
    """The body and year whatever the title's form and the page's chrome around it (a portal
    page dumped as text: breadcrumbs, dates, publisher and source lines)."""
    y = {
        "arabic": str(year),
        "numerals": NUMERALS[year],
        "full width": str(year).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        "spaced": f" {year} ",
    }[digits]
    lines = [c.format(p=f"{year + 1}-01-20", a=agency, py=year - 1, y=year) for c in chrome]
    title = form.format(a=agency, y=y)
    text = "\n".join([*lines[:split], title, *lines[split:], "一、总体情况", f"{year}年，我局认真贯彻落实《条例》。"])
    found = identify(extract(text.encode(), "r.txt"))
    assert (found.agency, found.year) == (agency, year)


def _page(title: str, body: str, meta: str = "") -> bytes:
    return f"<html><head><meta charset='utf-8'><title>{title}</title>{meta}</head><body>{body}</body></html>".encode()


BODY = "<p>一、总体情况</p><p>2024年，我局认真贯彻落实《条例》。</p>"


@pytest.mark.parametrize(
    "page,agency",
    [
        # the body's title without the name, the page's <title> with it
        (
            _page("洪泽区财政局2024年政府信息公开工作年度报告_某某县人民政府", "<h1>2024年政府信息公开工作年度报告</h1>" + BODY),
            "洪泽区财政局",
        ),
        # … even when the page's metadata names the office that published it
        (
            _page(
                "洪泽区财政局2024年政府信息公开工作年度报告_某某县人民政府",
                "<h1>2024年政府信息公开工作年度报告</h1>" + BODY,
                '<meta name="ContentSource" content="县政府办公室">',
            ),
            "洪泽区财政局",
        ),
        # the site's name joined to the title by a bare dash
        (_page("某某市人民政府门户网站-洪泽区财政局关于2024年政府信息公开工作的年度报告", BODY), "洪泽区财政局"),
        # a <title> about another year names no body for this report
        (_page("洪泽区财政局2023年政府信息公开工作年度报告", "<h1>2024年政府信息公开工作年度报告</h1>" + BODY), None),
        # the body's own title names it: the page's <title> does not override it
        (
            _page("淮安市人民政府2024年政府信息公开工作年度报告", "<h1>洪泽区财政局2024年政府信息公开工作年度报告</h1>" + BODY),
            "洪泽区财政局",
        ),
    ],
)
def test_identity_from_the_page_title_where_the_body_names_none(page, agency):
    found = identify(extract(page, "r.html"))
    assert (found.agency, found.year) == (agency, 2024)
