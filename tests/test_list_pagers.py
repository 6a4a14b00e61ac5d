"""List pagers, off-pattern report rows, family detection and gkmlpt answers, on generated
pages read through the family profiles (no network).

* a 下一页 link however it is written (``下一页>``, ``[下一页]``, ``下一页 »``, ``后一页``,
  ``下页``, ``<img alt="下一页">``, a lone arrow) and a pager of page numbers only are
  followed; 上一页, 尾页, 下一篇, 更多>> and a lone footnote number are not;
* the TRS WCM pager as literals, as the variables the call names, or a page count alone;
* a report row linking off the family's item shape (a PDF, downfile.jsp, a page of
  another column or CMS) is an item; a menu link or a news item is not;
* ``auto`` takes the family with the most evidence, not the first stray link found;
* gkmlpt answers in seconds, milliseconds or date strings, with ``total``, ``count`` or
  nested under ``data``, never lose the page or its next one.
"""

from __future__ import annotations

import html
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.families import detect, profile
from crawler.families.gkmlpt import stamp_date
from crawler.listing import read_list
from crawler.page import Page

HOST = "http://www.x.gov.cn"
TRS_BASE = f"{HOST}/zfxxgk/zfxxgknb/"
CHINA = timezone(timedelta(hours=8))
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _page(body: str, url: str, ctype: str = "text/html; charset=utf-8") -> Page:
    return Page(url, 200, f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>".encode(), ctype)


def _title(k: int) -> str:
    return f"某某县第{k}局2024年政府信息公开工作年度报告"


def _follow(family: str, page: Page) -> list[str]:
    return [f.url for f in profile(family).parse(page, {}).follow]


# ---- list layouts per family: the list page's URL, page n's URL, an item's href -------------

FAMILIES = {
    "trs": (
        TRS_BASE,
        lambda n: TRS_BASE + ("index.html" if n == 1 else f"index_{n - 1}.html"),
        lambda k: f"./202501/t20250120_{k}.html",
    ),
    "gdpost": (
        f"{HOST}/xxgk/xxgknb/index.html",
        lambda n: f"{HOST}/xxgk/xxgknb/" + ("index.html" if n == 1 else f"index_{n}.html"),
        lambda k: f"{HOST}/xxgk/xxgknb/content/post_{2147680 + k}.html",
    ),
    "shtml_uuid": (
        f"{HOST}/qy/gknb/list.shtml",
        lambda n: f"{HOST}/qy/gknb/" + ("list.shtml" if n == 1 else f"list_{n}.shtml"),
        lambda k: f"/qy/gknb/202501/{k:032x}.shtml",
    ),
    "vsb": (
        f"{HOST}/zfxxgk/zfxxgknb.htm",
        lambda n: f"{HOST}/zfxxgk/" + ("zfxxgknb.htm" if n == 1 else f"zfxxgknb/{40 - n}.htm"),
        lambda k: f"../info/1005/{86340 + k}.htm",
    ),
    "nextlink": (f"{HOST}/nb/list-1.html", lambda n: f"{HOST}/nb/list-{n}.html", lambda k: f"/nb/show-{k}.html"),
    "hanweb": (
        f"{HOST}/col/col1229850470/index.html",
        lambda n: f"{HOST}/col/col1229850470/index_{n}.html",
        lambda k: f"/art/2025/1/20/art_1229850470_{k}.html",
    ),
}
PAGED = sorted(FAMILIES)


def _rows(family: str, count: int, start: int = 0) -> str:
    item = FAMILIES[family][2]
    return "".join(
        f'<li><a href="{item(k)}" title="{_title(k)}">{_title(k)}</a><span class="date">2025-01-{10 + k % 20:02d}</span></li>'
        for k in range(start, start + count)
    )


# ---- 下一页 however it is written ------------------------------------------------------------

NEXT_WORDS = ["下一页", "下页", "后一页", "后页", "下一頁", "後一頁", "Next", "next page", "NEXT"]
DECOR_BEFORE = ["", "[", "【", "&lt;", " ", "&nbsp;", "《"]
DECOR_AFTER = ["", "]", "】", ">", "&gt;", "&gt;&gt;", " »", "»", " ›", "→", "&nbsp;", "》", " >>"]
NOT_NEXT = ["上一页", "首页", "尾页", "末页", "下一篇", "上一篇", "更多>>", "&gt;&gt;", "»»", "返回", "1", "第2页"]


def _next_anchor(href: str, form: str, word: str, before: str, after: str) -> str:
    if form == "text":
        return f'<a href="{href}">{before}{word}{after}</a>'
    if form == "span":
        return f'<a href="{href}"><span class="p_next">{before}{word}{after}</span></a>'
    if form == "img":
        return f'<a href="{href}"><img src="/images/next.gif" alt="{word}"></a>'
    if form == "title":  # a title attribute that says something else
        return f'<a href="{href}" title="第2页">{before}{word}{after}</a>'
    return f'<a href="{href}"><img src="/images/next.gif" title="{word}" border="0"></a>'


@SETTINGS
@given(
    family=st.sampled_from(["shtml_uuid", "vsb", "nextlink", "trs", "gdpost", "hanweb"]),
    word=st.sampled_from(NEXT_WORDS),
    before=st.sampled_from(DECOR_BEFORE),
    after=st.sampled_from(DECOR_AFTER),
    form=st.sampled_from(["text", "span", "img", "title", "img_title"]),
    others=st.lists(st.sampled_from(NOT_NEXT), max_size=4),
)
def test_a_next_link_is_followed_however_it_is_written(family, word, before, after, form, others):
    url, page_url, _ = FAMILIES[family]
    target = page_url(2)
    pager = "".join(f'<a href="{page_url(9)}?o={k}">{text}</a>' for k, text in enumerate(others))
    pager += _next_anchor(target, form, word, before, after)
    page = _page(f"<ul>{_rows(family, 2)}</ul><div class='pages'>{pager}</div>", url)
    assert _follow(family, page) == [target]


@SETTINGS
@given(
    family=st.sampled_from(["shtml_uuid", "vsb", "nextlink", "trs"]),
    texts=st.lists(st.sampled_from(NOT_NEXT), min_size=1, max_size=5, unique=True),
)
def test_links_that_are_not_a_next_page_are_not_followed(family, texts):
    """上一页, 首页, 尾页, 下一篇, 更多>> … lead elsewhere: with no next link there is no follow
    (a lone number is no pager either)."""
    url, page_url, _ = FAMILIES[family]
    pager = "".join(f'<a href="{page_url(9)}?o={k}">{text}</a>' for k, text in enumerate(texts))
    page = _page(f"<ul>{_rows(family, 2)}</ul><div class='pages'>{pager}</div>", url)
    assert _follow(family, page) == []


@pytest.mark.parametrize("family", ["shtml_uuid", "nextlink", "vsb"])
def test_a_next_link_to_the_page_itself_is_not_followed(family):
    """The last page of some pagers links 下一页 to itself."""
    url, _, _ = FAMILIES[family]
    page = _page(f"<ul>{_rows(family, 2)}</ul><a href='{url}'>下一页</a>", url)
    assert _follow(family, page) == []


def test_the_hunted_next_gt_page_is_followed():
    """r9a: ``下一页&gt;`` on the uuid-.shtml platform."""
    url = f"{HOST}/qy/gknb/list.shtml"
    page = _page(
        f"<div class='cont_right'><ul>{_rows('shtml_uuid', 2)}</ul><div class='pages'><a href='list_2.shtml'>下一页&gt;</a></div></div>",
        url,
    )
    listing = read_list(profile("shtml_uuid"), page, {}, 2026, top=True)
    assert [f.url for f in listing.follow] == [f"{HOST}/qy/gknb/list_2.shtml"] and len(listing.entries) == 2


# ---- pagers of page numbers only --------------------------------------------------------------

CURRENT_STYLES = {
    "span": lambda n, url: f'<span class="current">{n}</span>',
    "strong": lambda n, url: f"<strong>{n}</strong>",
    "a_no_href": lambda n, url: f'<a class="on">{n}</a>',
    "a_js": lambda n, url: f'<a href="javascript:;" class="on">{n}</a>',
    "a_hash": lambda n, url: f'<a href="#" class="active">{n}</a>',
    "self": lambda n, url: f'<a href="{url}" class="cur">{n}</a>',
    "omitted": lambda n, url: "",
}
NUMBER_FORMS = {"plain": "{n}", "bracket": "[{n}]", "spaced": " {n} ", "cn_bracket": "【{n}】"}


def _numbered_pager(page_url, total: int, current: int, style: str, form: str, li: bool, window: int | None) -> str:
    parts = []
    shown = range(1, total + 1)
    if window is not None:
        shown = sorted({1, total} | set(range(max(1, current - window), min(total, current + window) + 1)))
    previous = 0
    for n in shown:
        if n > previous + 1:
            parts.append("<span>...</span>")
        previous = n
        if n == current:
            cell = CURRENT_STYLES[style](n, page_url(n))
        else:
            cell = f'<a href="{page_url(n)}">{NUMBER_FORMS[form].format(n=n)}</a>'
        parts.append(f"<li>{cell}</li>" if li else cell)
    inner = "".join(parts)
    return f'<div class="page"><ul>{inner}</ul></div>' if li else f'<div class="page">{inner}</div>'


@SETTINGS
@given(
    family=st.sampled_from(PAGED),
    total=st.integers(1, 15),
    data=st.data(),
    style=st.sampled_from(sorted(CURRENT_STYLES)),
    form=st.sampled_from(sorted(NUMBER_FORMS)),
    li=st.booleans(),
    windowed=st.booleans(),
)
def test_a_pager_of_page_numbers_only_is_followed(family, total, data, style, form, li, windowed):
    current = data.draw(st.integers(1, total))
    window = 2 if windowed and style != "omitted" else None  # an omitted current page leaves a gap only unwindowed
    _, page_url, _ = FAMILIES[family]
    url = page_url(current)
    pager = _numbered_pager(page_url, total, current, style, form, li, window)
    page = _page(f"<ul>{_rows(family, 3, current * 10)}</ul>{pager}", url)
    expected = [page_url(current + 1)] if current < total else []
    assert _follow(family, page) == expected


@pytest.mark.parametrize(
    "extra",
    [
        '<p>见注释<a href="/notes.html#1">[1]</a></p>',  # a lone footnote number
        '<p>见注释<a href="/notes.html">[3]</a></p>',
        '<div class="years"><a href="2024n/">2024</a><a href="2023n/">2023</a></div>',  # years are no page numbers
        "<p>共 3 页 当前第 1 页</p>",  # a page count in words, no links: coverage's business
        # a table whose rows' serial numbers link to the rows' pages
        "<table>"
        + "".join(
            f'<tr><td><a href="/show/{k}.html">{k}</a></td><td><a href="/show/{k}.html">{_title(k)}</a></td></tr>'
            for k in (1, 2, 3)
        )
        + "</table>",
        '<p>附件：<a href="/files/2.pdf">2</a></p>',  # a numbered attachment
    ],
)
@pytest.mark.parametrize("family", ["shtml_uuid", "nextlink", "trs"])
def test_numbers_that_are_no_pager_are_not_followed(family, extra):
    url, _, _ = FAMILIES[family]
    assert _follow(family, _page(f"<ul>{_rows(family, 2)}</ul>{extra}", url)) == []


# ---- the TRS WCM pager -----------------------------------------------------------------------

WCM_DEFINITION = (
    "function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){"
    " if(_nPageCount == null || _nPageCount<=1){ return; } var nCurrIndex = _nCurrIndex || 0;"
    " document.write('<a href=\"' + _sPageName + '.' + _sPageExt + '\">首页</a>'); }"
)


def _trs_script(form: str, count: int, current: int, name: str, ext: str, q: str, sp: str, names: tuple[str, ...]) -> str:
    c, k, n, e = names
    if form == "literal":
        return f"createPageHTML({sp}{count},{sp}{current},{sp}{q}{name}{q},{sp}{q}{ext}{q});"
    if form == "wcm_vars":
        return (
            f"var _nPageCount{sp}={sp}{count}; var _nCurrIndex = {current}; var _sPageName = {q}{name}{q};"
            f" var _sPageExt = {q}{ext}{q}; createPageHTML(_nPageCount,{sp}_nCurrIndex,{sp}_sPageName,{sp}_sPageExt);"
        )
    if form == "named_vars":
        return f"var {c} = {count}; var {k}={current}; var {n} = {q}{name}{q}; var {e} = {q}{ext}{q};createPageHTML({c}, {k}, {n}, {e});"
    if form == "mixed":
        return f"var countPage = {count};var currentPage = {current};createPageHTML(countPage, currentPage, {q}{name}{q}, {q}{ext}{q});"
    if form == "page_div":
        return f"createPageHTML({q}page_div{q},{sp}{count},{sp}{current},{sp}{q}{name}{q},{sp}{q}{ext}{q},{sp}{count * 15});"
    if form == "count_page":
        return f"var currentPage{sp}={sp}{current};{sp}var countPage{sp}={sp}{count};"
    return f"var pageCount={count};"  # no current page stated: the URL says it


@SETTINGS
@given(
    count=st.integers(1, 40),
    data=st.data(),
    name=st.sampled_from(["index", "common_list", "xxgk_list"]),
    ext=st.sampled_from(["html", "shtml", "htm"]),
    form=st.sampled_from(["literal", "wcm_vars", "named_vars", "mixed", "page_div", "count_page", "page_count"]),
    q=st.sampled_from(['"', "'"]),
    sp=st.sampled_from(["", " ", "  "]),
    defined=st.booleans(),
    commented=st.booleans(),
    names=st.tuples(*(st.sampled_from(["pc", "cnt", "nPages", "cp", "ci", "pn", "pe", "sExt"]) for _ in range(4))).filter(
        lambda t: len(set(t)) == 4
    ),
)
def test_the_trs_pager_is_read_in_any_of_its_forms(count, data, name, ext, form, q, sp, defined, commented, names):
    current = data.draw(st.integers(0, count - 1))
    url = TRS_BASE + (f"{name}.{ext}" if current == 0 else f"{name}_{current}.{ext}")
    script = (WCM_DEFINITION if defined else "") + _trs_script(form, count, current, name, ext, q, sp, names)
    script = f"<!--<script>{script}</script>-->" if commented else f"<script>{script}</script>"
    page = _page(f"<ul>{_rows('trs', 2)}</ul><div class='page'>{script}</div>", url)
    expected = [TRS_BASE + f"{name}_{current + 1}.{ext}"] if current + 1 < count else []
    assert _follow("trs", page) == expected


@pytest.mark.parametrize(
    "script",
    [
        "createPageHTML(getCount(), 0, 'index', 'html');",  # a computed count: nothing to read
        "createPageHTML(nPages, 0, 'index', 'html');",  # a variable the page never assigns
        WCM_DEFINITION,  # the function alone, never called
        'var _nPageCount = 1; var _nCurrIndex = 0; createPageHTML(_nPageCount, _nCurrIndex, "index", "html");',
    ],
)
def test_a_trs_pager_with_no_further_page_is_not_followed(script):
    page = _page(f"<ul>{_rows('trs', 2)}</ul><script>{script}</script>", TRS_BASE)
    assert _follow("trs", page) == []


def test_the_hunted_wcm_variables_page_is_followed():
    """r9b: ``createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt)`` after the vars."""
    script = (
        'var _nPageCount = 3; var _nCurrIndex = 0; var _sPageName = "index"; var _sPageExt = "html";'
        "createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt);"
    )
    listing = read_list(profile("trs"), _page(f"<ul>{_rows('trs', 2)}</ul><script>{script}</script>", TRS_BASE), {}, 2026)
    assert [f.url for f in listing.follow] == [TRS_BASE + "index_1.html"]


# ---- report rows linking off the family's item shape -------------------------------------------

OFF_PATTERN = [
    "./202501/P020250121371922650117.pdf",
    "/attach/0/599/599288/4804801.pdf",
    "/uploadfiles/2025/nb{k}.doc",
    "/uploadfiles/2025/nb{k}.docx",
    "/uploadfiles/2025/nb{k}.wps",
    "/uploadfiles/2025/nb{k}.xls",
    "/module/download/downfile.jsp?classid=0&filename=3f2a9c0d8b7e4f51a6c2d9e0b1f47a{k:02x}.pdf",
    "/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1&wbfileid={k}",
    "/common/download.jsp?id={k}",
    "/news/show.jsp?id={k}",
    "/Article/View.aspx?id={k}",
    "/bm/czj/gknb/2025-01/22/1234{k}.html",
    "http://czj.x.gov.cn/art/2025/1/22/art_1_{k}.html",
    "http://www.y.gov.cn/zwgk/content/post_{k}.html",
]
REPORT_TITLES = [
    "某某县第{k}局2024年政府信息公开工作年度报告",
    "某某县第{k}局2024年度政府信息公开工作年度报告.pdf",
    "某某县人民政府办公室关于印发某某县第{k}局2024年度政府信息公开工作年度报告的通知",
    "某某县第{k}局政府信息公开工作年度报告（2024年度）",
]
MENU = [
    "首页",
    "政务公开",
    "政府信息公开",
    "政府信息公开年报",
    "机构概况",
    "联系我们",
    "年报专栏",
    "更多>>",
    "政府信息公开指南",
    "2024年度",
    "2024年度政府信息公开年报",
]
NEWS = [
    "2024年春节放假安排",
    "我县召开2024年安全生产工作会议",
    "2025年政府工作报告",
    "关于做好2024年政府信息公开工作年度报告编制工作的通知",
    "《2024年政府信息公开工作年度报告》解读",
]


@SETTINGS
@given(
    family=st.sampled_from(["trs", "gdpost", "shtml_uuid", "vsb", "hanweb"]),
    rows=st.lists(
        st.tuples(st.sampled_from(OFF_PATTERN + [None]), st.sampled_from(REPORT_TITLES), st.booleans()), min_size=1, max_size=6
    ),
    menu=st.lists(st.sampled_from(MENU), max_size=6, unique=True),
    news=st.lists(st.sampled_from(NEWS), max_size=4, unique=True),
)
def test_a_report_row_off_the_family_shape_is_an_item_and_a_menu_link_is_not(family, rows, menu, news):
    url, _, item = FAMILIES[family]
    body, expected = [], set()
    for k, (shape, title, dated) in enumerate(rows):
        href = item(k) if shape is None else shape.format(k=k)
        text = title.format(k=k)
        body.append(f'<li><a href="{html.escape(href)}">{text}</a>{"<span>2025-01-20</span>" if dated else ""}</li>')
        expected.add(profile(family).canonical(Page(url, 200, b"").absolute(href)))
    nav = "".join(f'<a href="/nav/{k}/index.html">{html.escape(t)}</a>' for k, t in enumerate(menu))
    side = "".join(f'<li><a href="/news/{k}.html">{t}</a><span>2025-01-0{k + 1}</span></li>' for k, t in enumerate(news))
    page = _page(f'<div class="nav">{nav}</div><ul class="list">{"".join(body)}</ul><ul class="side">{side}</ul>', url)
    listing = read_list(profile(family), page, {}, 2026)
    assert {e.url for e in listing.entries} == expected


@pytest.mark.parametrize("family", ["trs", "gdpost", "shtml_uuid", "vsb"])
def test_a_document_cut_short_is_an_item_an_undated_page_cut_short_is_not(family):
    url, _, _ = FAMILIES[family]
    body = (
        '<ul><li><a href="/files/a.pdf">某某县第1局2024年政府信…</a></li>'
        '<li><a href="/other/b.html">某某县第2局2024年政府信…</a><span>2025-01-20</span></li>'
        '<li><a href="/other/c.html">某某县第3局2024年政府信…</a></li></ul>'
    )
    entries = {e.url for e in profile(family).parse(_page(body, url), {}).entries}
    assert entries == {f"{HOST}/files/a.pdf", f"{HOST}/other/b.html"}


def test_the_hunted_off_pattern_rows_are_three_reports():
    """r5: a TRS row, a direct PDF, and a page of another column."""
    rows = (
        f'<li><a href="./202501/t20250120_431880.html" title="{_title(1)}">{_title(1)}</a><span class="date">2025-01-20</span></li>'
        f'<li><a href="./202501/P020250121371922650117.pdf" title="{_title(2)}">{_title(2)}</a><span class="date">2025-01-21</span></li>'
        f'<li><a href="/bm/czj/gknb/2025-01/22/12345.html" title="{_title(3)}">{_title(3)}</a><span class="date">2025-01-22</span></li>'
    )
    script = '<script>var currentPage = 0; var countPage = 1;createPageHTML(countPage, currentPage, "index", "html");</script>'
    listing = read_list(profile("trs"), _page(f'<ul class="list">{rows}</ul>{script}', TRS_BASE), {}, 2026, top=True)
    assert len(listing.entries) == 3 and all(e.date for e in listing.entries) and listing.follow == []


# ---- family detection ------------------------------------------------------------------------

SCRIPTS = {
    "trs": '<script>var currentPage = 0; var countPage = 1;createPageHTML(countPage, currentPage, "index", "html");</script>',
    "vsb": '<a href="javascript:;" onclick="_simple_list_gotopage_fun(1,\'u5_goto\',2)">跳转</a>',
    "hanweb": "<script>var jpage = 1;</script>",
}
DECOY_TITLES = [
    "关于做好2024年政府信息公开工作年度报告编制和发布工作的通知",
    "《2024年政府信息公开工作年度报告》解读",
    "县领导调研安全生产工作",
    "2025年政务公开工作要点",
]
DETECTED = ["trs", "gdpost", "shtml_uuid", "vsb", "hanweb"]


@SETTINGS
@given(
    real=st.sampled_from(DETECTED),
    decoy=st.sampled_from(DETECTED),
    n=st.integers(1, 6),
    data=st.data(),
    scripted=st.booleans(),
    where=st.sampled_from(["before", "after"]),
    dated=st.booleans(),
)
def test_a_stray_link_of_another_family_does_not_decide_the_family(real, decoy, n, data, scripted, where, dated):
    if real == decoy:
        decoy = "trs" if real != "trs" else "gdpost"
    url, _, _ = FAMILIES[real]
    item = FAMILIES[decoy][2]
    m = data.draw(st.integers(1, 3))
    decoys = "".join(
        f'<li><a href="{item(900 + k)}">{DECOY_TITLES[k % len(DECOY_TITLES)]}</a>{"<span>2025-01-05</span>" if dated else ""}</li>'
        for k in range(m)
    )
    box = f'<div class="notice"><ul>{decoys}</ul></div>'
    listed = f'<div class="news_list"><ul>{_rows(real, n)}</ul></div>' + (SCRIPTS.get(real, "") if scripted else "")
    page = _page(box + listed if where == "before" else listed + box, url)
    assert detect(page) == real
    entries = read_list(profile(detect(page)), page, {}, 2026).entries
    assert {e.title for e in entries} >= {_title(k) for k in range(n)}


@SETTINGS
@given(real=st.sampled_from(DETECTED), n=st.integers(1, 6), data=st.data())
def test_fewer_report_links_of_another_family_do_not_outweigh_the_list(real, n, data):
    """A sidebar of related reports on another CMS: the list itself has more."""
    decoy = data.draw(st.sampled_from([f for f in DETECTED if f != real]))
    m = data.draw(st.integers(0, n - 1))
    url, _, _ = FAMILIES[real]
    side = "".join(
        f'<li><a href="{FAMILIES[decoy][2](500 + k)}">{_title(500 + k)}</a><span>2025-01-05</span></li>' for k in range(m)
    )
    page = _page(f'<ul class="list">{_rows(real, n)}</ul><ul class="side">{side}</ul>', url)
    assert detect(page) == real


@SETTINGS
@given(n=st.integers(1, 8), m=st.integers(0, 2), titled=st.booleans())
def test_a_real_trs_page_still_detects_as_trs(n, m, titled):
    """TRS's own pager script weighs as much as a few rows: a sidebar of Guangdong posts
    (even report-titled ones) does not take it."""
    side = "".join(
        f'<li><a href="{HOST}/gk/content/post_{k}.html">{_title(k) if titled else "县领导调研"}</a><span>2025-01-05</span></li>'
        for k in range(m)
    )
    page = _page(f'<ul class="list">{_rows("trs", n)}</ul>{SCRIPTS["trs"]}<ul>{side}</ul>', TRS_BASE)
    assert detect(page) == "trs"


@pytest.mark.parametrize(
    "body, url, family",
    [
        # a gkmlpt shell with the portal's menu of posts
        (
            "<script>window._CONFIG = { SID: '175', TREE: [] };</script>"
            + "".join(f'<a href="/xxgk/content/post_{k}.html">{_title(k)}</a>' for k in range(2)),
            f"{HOST}/gkmlpt/annualreport",
            "gkmlpt",
        ),
        # a Guangdong post list whose menu links the gkmlpt directory
        (
            f'<a href="/gkmlpt/index">政府信息公开目录</a><ul>{_rows("gdpost", 2)}</ul>',
            f"{HOST}/xxgk/xxgknb/index.html",
            "gdpost",
        ),
        # hanweb: the items only in the datastore's CDATA
        (
            '<script type="text/xml"><datastore><recordset>'
            + "".join(
                f'<record><![CDATA[<li><a href="/art/2025/1/20/art_1229850470_{k}.html">{_title(k)}</a></li>]]></record>'
                for k in range(3)
            )
            + "</recordset></datastore></script>"
            + f'<a href="{TRS_BASE}202501/t20250105_1.html">{DECOY_TITLES[0]}</a>',
            f"{HOST}/col/col1229850470/index.html",
            "hanweb",
        ),
        # nothing of any family: rows with dates and a 下一页
        (
            '<ul><li><a href="/nb/1.html">某某县第1局2024年政府信息公开工作年度报告</a> 2025-01-20</li></ul><a href="list-2.html">下一页</a>',
            f"{HOST}/nb/list-1.html",
            "nextlink",
        ),
    ],
)
def test_detection_cases(body, url, family):
    assert detect(_page(body, url)) == family


def test_the_hunted_decoy_page_detects_as_gdpost():
    """r7: one TRS-shaped 通知 before two Guangdong posts."""
    body = (
        f'<div class="notice"><a href="/zfxxgk/tzgg/202501/t20250105_1.html">{DECOY_TITLES[0]}</a><span>2025-01-05</span></div>'
        f'<div class="news_list"><ul>{_rows("gdpost", 2)}</ul></div>'
    )
    page = _page(body, f"{HOST}/xxgk/xxgknb/index.html")
    assert detect(page) == "gdpost"
    reports = [e for e in read_list(profile("gdpost"), page, {}, 2026).entries if "年度报告" in e.title and "通知" not in e.title]
    assert len(reports) == 2


# ---- gkmlpt answers ----------------------------------------------------------------------------

GK_URL = f"{HOST}/gkmlpt/api/all/2629?page={{page}}&sid=175"
DAYS = st.dates(min_value=date(2008, 1, 1), max_value=date(2035, 12, 31))


def _stamp(day: date, unit: str):
    moment = datetime(day.year, day.month, day.day, 10, 30, tzinfo=CHINA)
    seconds = int(moment.timestamp())
    return {
        "s": seconds,
        "ms": seconds * 1000,
        "s_str": str(seconds),
        "ms_str": str(seconds * 1000),
        "float": seconds + 0.25,
        "ms_float": seconds * 1000.0,
        "iso": f"{day:%Y-%m-%d} 10:30:00",
        "cn": f"{day.year}年{day.month}月{day.day}日",
    }[unit]


UNITS = ["s", "ms", "s_str", "ms_str", "float", "ms_float", "iso", "cn"]
BAD_STAMPS = [None, 0, -1, "", "abc", True, 10**30, -(10**30), float("inf"), [], {}, "99999999999999999999999"]


def _shape(shape: str, articles: list, total: int | None) -> dict | list:
    if shape == "total":
        return {"total": total, "articles": articles} if total is not None else {"articles": articles}
    if shape == "count":
        return {"count": total, "articles": articles} if total is not None else {"articles": articles}
    if shape == "nested":
        return {"code": 0, "data": {"total": total, "articles": articles} if total is not None else {"articles": articles}}
    if shape == "nested_list":
        return {"data": {"list": articles, "totalCount": str(total)}} if total is not None else {"data": {"list": articles}}
    if shape == "data_list":
        return {"data": articles, "count": total} if total is not None else {"data": articles}
    return articles  # a bare array


@SETTINGS
@given(
    days=st.lists(st.tuples(DAYS, st.sampled_from(UNITS + ["bad"]), st.integers(0, len(BAD_STAMPS) - 1)), max_size=8),
    shape=st.sampled_from(["total", "count", "nested", "nested_list", "data_list", "bare"]),
    page_no=st.integers(1, 6),
    extra=st.integers(-3, 40),
    stated=st.booleans(),
    key=st.sampled_from(["display_publish_time", "create_time", "created_at"]),
)
def test_a_gkmlpt_answer_never_loses_its_page_or_the_next(days, shape, page_no, extra, stated, key):
    articles, expected = [], []
    for k, (day, unit, bad) in enumerate(days):
        value = BAD_STAMPS[bad] if unit == "bad" else _stamp(day, unit)
        articles.append({"id": k, "title": _title(k), "url": f"/gkmlpt/content/4/4688/post_{k}.html", key: value})
        expected.append(None if unit == "bad" else f"{day:%Y-%m-%d}")
    total = max(0, page_no * len(articles) + extra) if stated and shape != "bare" else None
    body = json.dumps(_shape(shape, articles, total), ensure_ascii=False)
    page = Page(GK_URL.format(page=page_no), 200, body.encode(), "application/json")
    context = {"category": "2629", "sid": "175", "page": page_no}
    listing = profile("gkmlpt").parse(page, context)
    assert [e.date for e in listing.entries] == expected
    assert [e.title for e in listing.entries] == [_title(k) for k in range(len(articles))]
    more = bool(articles) and (total is None or page_no * len(articles) < total)
    assert [f.url for f in listing.follow] == ([GK_URL.format(page=page_no + 1)] if more else [])
    assert not more or listing.follow[0].context["page"] == page_no + 1
    read = read_list(profile("gkmlpt"), page, context, 2026)  # the page read in full never raises either
    assert {e.url for e in listing.entries} <= {e.url for e in read.entries}


@pytest.mark.parametrize("stamp", BAD_STAMPS + [1737532800000 * 1000, "2025-13-45", 1.5e300])
def test_an_unreadable_time_is_no_date(stamp):
    assert stamp_date(stamp) is None


def test_the_hunted_millisecond_answer_keeps_its_page():
    """r13: ``display_publish_time`` in milliseconds crashed the parse (year 57030)."""
    body = {
        "total": 37,
        "articles": [
            {
                "id": 4688997,
                "title": _title(1),
                "url": "http://whly.gd.gov.cn/gkmlpt/content/4/4688/post_4688997.html",
                "display_publish_time": 1737532800000,
            }
        ],
    }
    page = Page("http://whly.gd.gov.cn/gkmlpt/api/all/2629?page=1&sid=175", 200, json.dumps(body).encode(), "application/json")
    listing = profile("gkmlpt").parse(page, {"category": "2629", "sid": "175", "page": 1})
    assert [e.date for e in listing.entries] == ["2025-01-22"] and [f.url for f in listing.follow] == [
        "http://whly.gd.gov.cn/gkmlpt/api/all/2629?page=2&sid=175"
    ]
