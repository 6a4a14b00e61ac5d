"""List links as a browser follows them, on generated list pages (no network, no mocks):
every family's list markup and plain li/tr/div/dl/flat rows, with random titles (cut
short or not), @title garbage, dates in any format before, after or inside the link,
``<base href>``, and links written in JavaScript (window.open, location.href, data-href,
a row that opens on click). Every report's title, absolute URL and date must be found,
and nothing else may be listed."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.families import profile
from crawler.listing import read_list
from crawler.page import Page, iso_date, pick_title, split_date

HOST = "http://www.x.gov.cn"
SITE = "某某县人民政府"
DATES = st.dates(min_value=date(2010, 1, 1), max_value=date(2030, 12, 31))
AGENCIES = [
    "某某县住房和城乡建设局",
    "某某镇人民政府",
    "某某县财政局",
    "某某街道办事处",
    "县城市管理综合行政执法局",
    "区卫生健康委员会",
]
REPORTS = ["政府信息公开工作年度报告", "政务公开工作年度报告", "年度政府信息公开工作报告"]
FULL_WIDTH = str.maketrans("0123456789-/.", "０１２３４５６７８９－／．")

FORMATS = {
    "iso": lambda d: f"{d:%Y-%m-%d}",
    "slash": lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    "cn": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "dots": lambda d: f"{d:%Y.%m.%d}",
    "bracket": lambda d: f"[{d:%Y-%m-%d}]",
    "paren": lambda d: f"({d:%Y-%m-%d})",
    "time": lambda d: f"{d:%Y-%m-%d} 16:05",
    "seconds": lambda d: f"{d:%Y-%m-%d} 09:31:07",
    "full_width": lambda d: f"{d:%Y-%m-%d}".translate(FULL_WIDTH),
    "full_width_cn": lambda d: f"{d.year}年{d.month}月{d.day}日".translate(FULL_WIDTH),
}
GARBAGE = ["点击查看详情", "查看", "详细", "详情", "点击查看", "在新窗口打开", "", SITE]


# ---- the families' list pages ------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    page: str  # the list page's URL
    href: str  # an item's href, from its number k
    wrap: str = "{rows}"  # where the rows go


FAMILIES = {
    "trs": Family(
        f"{HOST}/zfxxgk/zfxxgknb/",
        "./202501/t20250120_43{k:04d}.html",
        '<div class="overview_right">{rows}<div class="page"><script>var currentPage = 0; var countPage = 1;'
        'createPageHTML(countPage, currentPage, "index", "html");</script></div></div>',
    ),
    "gdpost": Family(f"{HOST}/xxgk/xxgknb/index.html", "/xxgk/xxgknb/content/post_21476{k:02d}.html"),
    "vsb": Family(f"{HOST}/zfxxgk/zfxxgknb.htm", "../info/1005/86{k:03d}.htm"),
    "shtml_uuid": Family(f"{HOST}/qy/gknb/list.shtml", "/qy/gknb/202501/{k:032x}.shtml"),
    "nextlink": Family(f"{HOST}/nb/list-1.html", "/nb/detail-{k}.html"),
}


def _page(url: str, body: str, base: str | None = None) -> Page:
    head = f'<meta charset="utf-8"><title>政府信息公开年报_{SITE}</title>'
    if base is not None:
        head += f'<base href="{base}">'
    nav = '<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>'
    return Page(url, 200, f"<!DOCTYPE html><html><head>{head}</head><body>{nav}{body}</body></html>".encode(), "text/html")


# ---- one item, printed some way -------------------------------------------------------------


@dataclass
class Item:
    title: str  # the full title
    shown: str  # the link text (maybe cut short)
    attr: str | None  # the @title (None: none)
    day: date | None
    fmt: str
    href: str

    @property
    def expected_title(self) -> str:
        return self.title if self.attr == self.title else self.shown

    def printed(self) -> str:
        return FORMATS[self.fmt](self.day) if self.day else ""


LINK_FORMS = {
    "href": lambda h: f'href="{h}"',
    "js_open": lambda h: f"href=\"javascript:window.open('{h}')\"",
    "onclick_open": lambda h: f"href=\"javascript:void(0)\" onclick=\"window.open('{h}','_blank','width=800')\"",
    "location": lambda h: f'href="#" onclick="window.location.href=\'{h}\';return false;"',
    "data_href": lambda h: f'href="javascript:;" data-href="{h}"',
    "data_url": lambda h: f'data-url="{h}"',
    "row_onclick": lambda h: 'href="javascript:;"',  # the row carries onclick
}

# where the date is printed, per row container: (container, position)
POSITIONS = {
    "li": ["inside_end", "inside_start", "inside_paren", "after", "before", "after_pdf", "tail"],
    "div": ["inside_end", "inside_start", "after", "before", "after_pdf"],
    "tr": ["next_td", "prev_td", "after_pdf", "inside_end"],
    "dl": ["dd"],
    "flat": ["before_br", "after_br", "before", "after"],
}
OUTER = {"li": '<ul class="list">{}</ul>', "div": '<div class="list">{}</div>', "tr": "<table>{}</table>"}


def _anchor(item: Item, form: str, position: str) -> str:
    attrs = LINK_FORMS[form](item.href)
    if item.attr is not None:
        attrs += f' title="{html.escape(item.attr)}"'
    text, printed = html.escape(item.shown), item.printed()
    if position in ("inside_end", "inside_paren") and printed:
        wrapped = printed if printed[0] in "[(" else f"（{printed}）"
        text = f"{text}<span>{printed}</span>" if position == "inside_end" else f"{text} {wrapped}"
    elif position == "inside_start" and printed:
        text = f'<span class="date">{printed}</span>{text}'
    return f'<a {attrs} target="_blank">{text}</a>'


def _row(item: Item, form: str, container: str, position: str, k: int) -> str:
    a, d = _anchor(item, form, position), item.printed()
    pdf = f'<a href="./P0202501{k:02d}5399385226.pdf">[PDF]</a>'
    onclick = f" onclick=\"window.open('{item.href}')\"" if form == "row_onclick" else ""
    if container == "dl":
        return f"<dt{onclick}>{a}</dt><dd>{d}</dd>"
    if container == "flat":
        return {
            "before_br": f"<span>{d}</span>{a}<br>",
            "after_br": f"{a}<span>{d}</span><br>",
            "before": f"<span>{d}</span>{a}",
            "after": f"{a}<span>{d}</span>",
        }[position]
    if container == "tr":
        cells = {
            "next_td": f"<td>{a}</td><td>{d}</td>",
            "prev_td": f"<td>{k + 1}</td><td>{d}</td><td>{a}</td>",
            "after_pdf": f"<td>{a} {pdf}</td><td>{d}</td>",
            "inside_end": f"<td>{a}</td><td>部门</td>",
        }[position]
        return f"<tr{onclick}>{cells}</tr>"
    inner = {
        "after": f'{a}<span class="date">{d}</span>',
        "before": f'<span class="date">{d}</span>{a}',
        "after_pdf": f'{a}<a href="./P0202501{k:02d}5399385226.pdf" class="pdf">[PDF]</a><span class="date">{d}</span>',
        "tail": f"{a} {d}",
    }.get(position, a)
    tag = "li" if container == "li" else 'div class="item"'
    return f"<{tag}{onclick}>{inner}</{tag.split()[0]}>"


@st.composite
def items(draw, family: str, n_min: int = 1, dated: bool = False) -> list[Item]:
    n = draw(st.integers(n_min, 5))
    out = []
    for k in range(n):
        agency = draw(st.sampled_from(AGENCIES)) + draw(st.sampled_from(["", "第二", "（机关）"]))
        title = f"{agency}{draw(st.integers(2015, 2025))}年{draw(st.sampled_from(REPORTS))}"
        cut = draw(st.sampled_from(["none", "…", "...", "none"]))
        shown = title if cut == "none" else title[: draw(st.integers(6, len(title) - 2))] + cut
        attr = draw(st.sampled_from(["none", "full", "garbage"]))
        attr_value = {"none": None, "full": title, "garbage": draw(st.sampled_from(GARBAGE))}[attr]
        day = draw(DATES if dated else st.one_of(DATES, DATES, st.none()))
        href = FAMILIES[family].href.format(k=k)
        out.append(Item(title, shown, attr_value, day, draw(st.sampled_from(sorted(FORMATS))), href))
    return out


BASES = [None, "/zfxxgk/other/", f"{HOST}/bm/czj/gknb/", "http://cdn.x.gov.cn/site/nb/index.html"]


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_every_report_is_found_however_its_list_prints_it(data):
    family = data.draw(st.sampled_from(sorted(FAMILIES)), "family")
    container = data.draw(st.sampled_from(sorted(POSITIONS)), "container")
    position = data.draw(st.sampled_from(POSITIONS[container]), "position")
    forms = sorted(f for f in LINK_FORMS if not (f == "row_onclick" and container == "flat"))
    form = data.draw(st.sampled_from(forms), "form")
    # a list a family reads by its dates needs them; a flat run with a date before each
    # title and no line breaks is told by the run starting with a date
    dated = family == "nextlink" or (container == "flat" and position == "before")
    listed = data.draw(items(family, dated=dated), "items")
    base = data.draw(st.sampled_from(BASES), "base")
    fam = FAMILIES[family]
    rows = "".join(_row(item, form, container, position, k) for k, item in enumerate(listed))
    body = fam.wrap.format(
        rows=OUTER.get(container, '<div class="list">{}</div>' if container == "flat" else "<dl>{}</dl>").format(rows)
    )
    page = _page(fam.page, body, base)
    resolve = urljoin(fam.page, base) if base else fam.page
    expected = {urljoin(resolve, item.href): item for item in listed}

    links = {link.url: link for link in page.links()}
    for url, item in expected.items():
        assert url in links, (url, sorted(links))
        assert links[url].text == item.expected_title
        assert links[url].date == (item.day.isoformat() if item.day else None)

    entries = read_list(profile(family), page, {}, 2026, top=True).entries
    got = {e.url: (e.title, e.date) for e in entries}
    want = {url: (item.expected_title, item.day.isoformat() if item.day else None) for url, item in expected.items()}
    assert got == want


# ---- the hanweb datastore (CDATA records): JS links and dates inside the record --------------


@settings(max_examples=80, deadline=None)
@given(
    listed=items("trs"),
    form=st.sampled_from(sorted(set(LINK_FORMS) - {"row_onclick"})),
    position=st.sampled_from(POSITIONS["li"]),
)
def test_hanweb_records_are_read_like_any_list(listed, form, position):
    for k, item in enumerate(listed):
        item.href = f"/art/2025/1/{20 + k}/art_1229850470_{5901 + k}.html"
    records = "".join(f"<record><![CDATA[{_row(item, form, 'li', position, k)}]]></record>" for k, item in enumerate(listed))
    page = _page(
        f"{HOST}/col/col1229850470/index.html",
        f'<script type="text/xml"><datastore><recordset>{records}</recordset></datastore></script>',
    )
    got = {e.url: (e.title, e.date) for e in read_list(profile("hanweb"), page, {}, 2026).entries}
    assert got == {HOST + item.href: (item.expected_title, item.day.isoformat() if item.day else None) for item in listed}


# ---- @title: when it wins, and when it must not ----------------------------------------------


@given(
    title=st.sampled_from(AGENCIES).map(lambda a: f"{a}2024年政府信息公开工作年度报告"),
    cut=st.integers(4, 20),
    mark=st.sampled_from(["…", "...", "。。。", ""]),
)
def test_a_real_title_attribute_beats_a_text_cut_short(title, cut, mark):
    assert pick_title(title[:cut] + mark, title) == title


@given(title=st.sampled_from(AGENCIES).map(lambda a: f"{a}2024年政府信息公开工作年度报告"), garbage=st.sampled_from(GARBAGE[:-1]))
def test_a_title_attribute_that_names_nothing_never_wins(title, garbage):
    assert pick_title(title, garbage) == title
    assert pick_title(title, garbage + " ") == title


@pytest.mark.parametrize(
    "text, attr, site, want",
    [
        ("某某县财政局2024年政府信息公开工作年度报告", SITE, frozenset({SITE}), "text"),  # the site's name
        ("某某县财政局2024年政府信息公开工作年度报告", "某某县人民政府门户网站", frozenset(), "text"),  # longer, unrelated
        ("某某县财政局2024年政府信息公开工作年度报告", "某某县财政局", frozenset(), "text"),  # a shorter part
        ("财政局2024年年报", "某某县财政局2024年政府信息公开工作年度报告", frozenset(), "attr"),  # longer, holds the text
        ("1. 某某县财政局2024年…", "某某县财政局2024年政府信息公开工作年度报告", frozenset(), "attr"),  # numbered
        ("查看", "某某县财政局2024年政府信息公开工作年度报告", frozenset(), "attr"),  # the text names nothing
        ("", "某某县财政局2024年政府信息公开工作年度报告", frozenset(), "attr"),  # an image link
        ("财政局年报", "某某县财政局2024年政府信息公开工作年度报告", frozenset(), "attr"),  # names the year and report
        ("某某县财政局2024年政府信息公开工作年度报告", "政府信息公开", frozenset(), "text"),
    ],
)
def test_title_attribute_cases(text, attr, site, want):
    assert pick_title(text, attr, site) == (text if want == "text" else attr)


# ---- dates printed inside the link -----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    title=st.sampled_from(AGENCIES).map(lambda a: f"{a}2024年政府信息公开工作年度报告"),
    cut=st.sampled_from([None, 8, 14]),
    day=DATES,
    fmt=st.sampled_from(sorted(FORMATS)),
    where=st.sampled_from(["end", "start"]),
    glue=st.sampled_from(["", " ", " | ", "　"]),
)
def test_a_date_at_either_end_of_the_text_is_the_items_date_not_its_title(title, cut, day, fmt, where, glue):
    shown = title if cut is None else title[:cut] + "…"
    printed = FORMATS[fmt](day)
    text = f"{shown}{glue}{printed}" if where == "end" else f"{printed}{glue}{shown}"
    assert split_date(text) == (shown, day.isoformat())


@pytest.mark.parametrize("printed", ["[01-20]", "(01-20)", "【1月20日】"])
def test_a_month_and_day_is_cut_from_the_title(printed):
    assert split_date(f"某某县财政局2024年政府信息公开工作年度报告{printed}") == (
        "某某县财政局2024年政府信息公开工作年度报告",
        None,
    )
    assert split_date(f"{printed}某某县财政局2024年年报") == ("某某县财政局2024年年报", None)


@pytest.mark.parametrize(
    "text",
    [
        "关于2025年1月20日起施行新规定的通知2024年度",  # a date inside the title
        "某某县财政局政府信息公开工作年度报告（2024.1.1-2024.12.31）",  # a period, not a date
        "某某县财政局2024.1.1-2024.12.31工作报告",
        "2024年1-3月政府信息公开情况",  # months, not a month-day
        "某某县2024年政府信息公开工作年度报告",
        "2025-01-20",  # the link is the date
        "第12-3号文件",
    ],
)
def test_a_date_that_is_part_of_the_title_stays(text):
    assert split_date(text)[0] == text


def test_full_width_dates_are_read():
    assert iso_date("发布日期：２０２５－０１－２７") == "2025-01-27"
    assert iso_date("２０２５年１月２７日") == "2025-01-27"
    assert iso_date("２０２５／０１／２７") == "2025-01-27"


# ---- <base href> -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base, href, want",
    [
        (None, "./202501/t1.html", f"{HOST}/zfxxgk/zfxxgknb/202501/t1.html"),
        ("/bm/czj/", "./202501/t1.html", f"{HOST}/bm/czj/202501/t1.html"),
        ("http://cdn.x.gov.cn/a/b.html", "../c/t1.html", "http://cdn.x.gov.cn/c/t1.html"),
        ("javascript:void(0)", "./t1.html", f"{HOST}/zfxxgk/zfxxgknb/t1.html"),  # no base
        ("", "./t1.html", f"{HOST}/zfxxgk/zfxxgknb/t1.html"),
        ("/bm/czj/", "http://other.gov.cn/t1.html", "http://other.gov.cn/t1.html"),
    ],
)
def test_relative_links_resolve_against_the_base(base, href, want):
    page = _page(f"{HOST}/zfxxgk/zfxxgknb/", f'<ul><li><a href="{href}">某某县财政局2024年年报</a></li></ul>', base)
    assert [link.url for link in page.links() if "2024" in link.text] == [want]
    assert page.absolute(href) == want


# ---- links written in JavaScript -----------------------------------------------------------


@pytest.mark.parametrize(
    "anchor",
    [
        '<a href="javascript:void(0)">某某县财政局2024年年报</a>',
        "<a href=\"javascript:;\" onclick=\"queryDetail('1','123')\">某某县财政局2024年年报</a>",
        '<a href="javascript:;" onclick="_simple_list_gotopage_fun(3,\'u5_goto\',2)">跳转</a>',
        '<a href="#" onclick="return false;">某某县财政局2024年年报</a>',
        "<a onclick=\"window.open('mailto:nb@x.gov.cn')\">某某县财政局2024年年报</a>",
    ],
)
def test_javascript_that_opens_no_url_is_no_link(anchor):
    assert [link.url for link in _page(f"{HOST}/nb/", f"<ul><li>{anchor}</li></ul>").links() if "2024" in link.text] == []


def test_a_row_that_opens_on_click_gives_its_link_to_the_rows_title_only():
    rows = "".join(
        f'<tr onclick="location.href=\'./{k}.html\'"><td><a href="javascript:;">某某县第{k}局2024年年报</a></td><td>2025-01-2{k}</td></tr>'
        for k in range(3)
    )
    links = _page(f"{HOST}/nb/", f"<table>{rows}</table>").links()
    assert [(link.url, link.text, link.date) for link in links if "2024" in link.text] == [
        (f"{HOST}/nb/{k}.html", f"某某县第{k}局2024年年报", f"2025-01-2{k}") for k in range(3)
    ]


# ---- flat runs: whose date is which ----------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    days=st.lists(st.one_of(DATES, st.none()), min_size=1, max_size=6),
    before=st.booleans(),
    sep=st.sampled_from(["<br>", "<br/>", "<hr>"]),
    fmt=st.sampled_from(sorted(FORMATS)),
    as_text=st.booleans(),
)
def test_a_flat_run_with_line_breaks_never_gives_an_item_its_neighbours_date(days, before, sep, fmt, as_text):
    def shown(d: date | None) -> str:
        printed = FORMATS[fmt](d) if d else ""
        return f" {printed} " if as_text else f"<span>{printed}</span>"

    rows = "".join(
        (
            shown(d) + f'<a href="./{k}.html">某某县第{k}局2024年年报</a>'
            if before
            else f'<a href="./{k}.html">某某县第{k}局2024年年报</a>' + shown(d)
        )
        + sep
        for k, d in enumerate(days)
    )
    links = {link.url: link.date for link in _page(f"{HOST}/nb/", f'<div class="list">{rows}</div>').links()}
    assert [links[f"{HOST}/nb/{k}.html"] for k in range(len(days))] == [d.isoformat() if d else None for d in days]


@settings(max_examples=100, deadline=None)
@given(days=st.lists(DATES, min_size=1, max_size=6), before=st.booleans(), fmt=st.sampled_from(sorted(FORMATS)))
def test_a_flat_run_without_line_breaks_is_read_by_where_its_dates_start(days, before, fmt):
    rows = "".join(
        f"<span>{FORMATS[fmt](d)}</span><a href='./{k}.html'>某某县第{k}局2024年年报</a>"
        if before
        else f"<a href='./{k}.html'>某某县第{k}局2024年年报</a><span>{FORMATS[fmt](d)}</span>"
        for k, d in enumerate(days)
    )
    links = {link.url: link.date for link in _page(f"{HOST}/nb/", f"<p>{rows}</p>").links()}
    assert [links[f"{HOST}/nb/{k}.html"] for k in range(len(days))] == [d.isoformat() for d in days]


@pytest.mark.parametrize(
    "extra",
    [
        '<a href="./0.pdf">[PDF]</a>',
        '<a href="./0.doc">下载</a>',
        '<a href="./0.pdf"><img src="pdf.png"></a>',
        "<a href='./0.pdf'>附件</a>",
    ],
)
def test_a_rows_second_link_to_its_own_file_keeps_the_rows_date(extra):
    rows = f'<li><a href="./0.html">某某县财政局2024年年报</a>{extra}<span>2025-01-20</span></li>'
    rows += '<li><a href="./1.html">某某县民政局2024年年报</a><span>2025-01-21</span></li>'
    links = {link.url: link.date for link in _page(f"{HOST}/nb/", f"<ul>{rows}</ul>").links()}
    assert (links[f"{HOST}/nb/0.html"], links[f"{HOST}/nb/1.html"]) == ("2025-01-20", "2025-01-21")


def test_another_items_link_in_the_row_still_bounds_the_date():
    """Two items in one row with one date after the second: the first has none."""
    rows = '<li><a href="./0.html">某某县财政局2024年年报</a><a href="./1.html">某某县民政局2024年年报</a><span>2025-01-21</span></li>'
    links = {link.url: link.date for link in _page(f"{HOST}/nb/", f"<ul>{rows}</ul>").links()}
    assert links == {f"{HOST}/": None, f"{HOST}/zwgk/": None, f"{HOST}/nb/0.html": None, f"{HOST}/nb/1.html": "2025-01-21"}
