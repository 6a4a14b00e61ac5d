"""The general list-reading mechanisms on generated variants (no network): dates beside
titles in any sibling layout and format, JSON lists under any key names and nesting (in
scripts, comments and answers), list API calls in any of the usual syntaxes, the visible
date against <meta PubDate>, per-year sub-columns, and the coverage warnings."""

from __future__ import annotations

import html
import json
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.coverage import Walk, pager_claim
from crawler.detail import published_date, read_detail
from crawler.embedded import hidden_entries
from crawler.families import profile
from crawler.listapi import find_calls, next_request, request
from crawler.listing import read_list, year_columns
from crawler.page import Page

BASE = "http://www.x.gov.cn/zfxxgk/zfxxgknb/"
CHINA = timezone(timedelta(hours=8))
DATES = st.dates(min_value=date(2008, 1, 1), max_value=date(2030, 12, 31))
FORMATS = {
    "iso": lambda d: f"{d:%Y-%m-%d}",
    "slash": lambda d: f"{d.year}/{d.month}/{d.day}",
    "cn": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "dots": lambda d: f"{d:%Y.%m.%d}",
    "bracket": lambda d: f"[{d:%Y-%m-%d}]",
    "time": lambda d: f"{d:%Y-%m-%d} 10:31:07",
}


def _page(body: str, url: str = BASE, ctype: str = "text/html; charset=utf-8") -> Page:
    return Page(url, 200, f"<html><body>{body}</body></html>".encode(), ctype)


def _title(k: int) -> str:
    return f"某某县第{k}局2024年政府信息公开工作年度报告"


# ---- dates beside titles -------------------------------------------------------------------

LAYOUTS = {
    "span_after": ("<ul>{rows}</ul>", '<li><a href="{href}">{title}</a><span class="date">{date}</span></li>'),
    "span_before": ("<ul>{rows}</ul>", '<li><span class="date">{date}</span><a href="{href}">{title}</a></li>'),
    "inside_anchor": ("<ul>{rows}</ul>", '<li><a href="{href}" title="{title}">{title}<em>{date}</em></a></li>'),
    "tail_text": ("<ul>{rows}</ul>", '<li><a href="{href}">{title}</a> {date}</li>'),
    "dt_dd": ("<dl>{rows}</dl>", '<dt><a href="{href}">{title}</a></dt><dd>{date}</dd>'),
    "next_td": ("<table>{rows}</table>", '<tr><td><a href="{href}">{title}</a></td><td>{date}</td></tr>'),
    "third_td": (
        "<table>{rows}</table>",
        '<tr><td>{k}</td><td><a href="{href}">{title}</a></td><td>部门</td><td>{date}</td></tr>',
    ),
    "div_item": (
        '<div class="list">{rows}</div>',
        '<div class="item"><div class="t"><a href="{href}">{title}</a></div><div class="d">{date}</div></div>',
    ),
    "flat_spans": ('<div class="list">{rows}</div>', '<a href="{href}">{title}</a><span>{date}</span><br>'),
    "nested_p": ("<ul>{rows}</ul>", '<li><p class="tit"><a href="{href}">{title}</a></p><p class="info"><i>{date}</i></p></li>'),
}


@settings(max_examples=60, deadline=None)
@given(
    layout=st.sampled_from(sorted(LAYOUTS)),
    fmt=st.sampled_from(sorted(FORMATS)),
    dates=st.lists(st.one_of(DATES, st.none()), min_size=1, max_size=6),
)
def test_list_dates_beside_titles(layout, fmt, dates):
    outer, row = LAYOUTS[layout]
    rows = "".join(
        row.format(k=k, href=f"./{k}.html", title=_title(k), date=FORMATS[fmt](d) if d else "") for k, d in enumerate(dates)
    )
    links = {l.url: l for l in _page(outer.format(rows=rows)).links()}
    for k, d in enumerate(dates):
        # an item without a date never takes its neighbour's
        assert links[f"{BASE}{k}.html"].date == (d.isoformat() if d else None), (layout, fmt, k)


def test_nextlink_lists_without_list_items_are_read_by_their_dates():
    outer, row = LAYOUTS["div_item"]
    page = _page(
        outer.format(rows="".join(row.format(href=f"/nb/{k}.html", title=_title(k), date="2025-01-2" + str(k)) for k in range(3)))
    )
    entries = profile("nextlink").entries(page)
    assert [(e.url.rsplit("/", 1)[1], e.date) for e in entries] == [(f"{k}.html", f"2025-01-2{k}") for k in range(3)]


# ---- JSON lists under any names --------------------------------------------------------------

TITLE_KEYS = ["title", "DOCTITLE", "docTitle", "articleTitle", "name", "biaoti", "f_title", "Title"]
URL_KEYS = ["url", "DOCPUBURL", "linkurl", "href", "link", "post_url", "detailUrl", "docUrl"]
DATE_KEYS = {
    "pubDate": lambda d: f"{d:%Y-%m-%d}",
    "DOCRELTIME": lambda d: f"{d:%Y-%m-%d} 09:31:00",
    "fbrq": lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}日",
    "publish_time": lambda d: int(datetime(d.year, d.month, d.day, 10, tzinfo=CHINA).timestamp()),
    "createTime": lambda d: int(datetime(d.year, d.month, d.day, 10, tzinfo=CHINA).timestamp() * 1000),
    "date": lambda d: f"/Date({int(datetime(d.year, d.month, d.day, 10, tzinfo=CHINA).timestamp() * 1000)})/",
}
NESTINGS = {
    "bare": lambda records: records,
    "data_list": lambda records: {"code": 0, "data": {"list": records, "total": len(records)}},
    "result_records": lambda records: {"result": {"records": records}, "page": {"total": len(records)}},
    "deep": lambda records: {"a": {"b": [{"c": {"rows": records}}]}},
}


def _records(title_key, url_key, date_key, dates):
    out = []
    for k, d in enumerate(dates):
        record = {
            "id": 1000 + k,
            title_key: _title(k),
            url_key: f"/zfxxgk/zfxxgknb/202501/t20250120_{k}.html",
            "imgUrl": f"/img/{k}.jpg",  # not the item's URL
            "updateTime": "2026-06-18 03:00:00",  # a regeneration time, not the date
        }
        if d is not None:
            record[date_key] = DATE_KEYS[date_key](d)
        out.append(record)
    return out


def _js(value) -> str:
    """A JavaScript literal the way template engines write them: unquoted keys, single quotes."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_js(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_js(v) for v in value) + "]"
    if isinstance(value, str):
        return "'" + value.replace("'", "\\'") + "'"
    return json.dumps(value)


@settings(max_examples=80, deadline=None)
@given(
    title_key=st.sampled_from(TITLE_KEYS),
    url_key=st.sampled_from(URL_KEYS),
    date_key=st.sampled_from(sorted(DATE_KEYS)),
    nesting=st.sampled_from(sorted(NESTINGS)),
    where=st.sampled_from(["script_json", "script_js", "comment_js", "answer", "jsonp"]),
    dates=st.lists(st.one_of(DATES, st.none()), min_size=1, max_size=5),
)
def test_json_lists_under_any_names_and_nesting(title_key, url_key, date_key, nesting, where, dates):
    value = NESTINGS[nesting](_records(title_key, url_key, date_key, dates))
    if where == "answer":
        page = Page(BASE + "api", 200, json.dumps(value, ensure_ascii=False).encode(), "application/json")
    elif where == "jsonp":
        page = Page(BASE + "api", 200, f"jQuery1720({json.dumps(value, ensure_ascii=False)});".encode(), "text/javascript")
    else:
        literal = json.dumps(value, ensure_ascii=False) if where == "script_json" else _js(value)
        script = f"<script>var articleList = {literal}; render(articleList);</script>"
        page = _page(f'<ul id="list"></ul><!--{script}-->' if where == "comment_js" else f'<ul id="list"></ul>{script}')
    entries, sources = hidden_entries(page, profile("trs").entries)
    got = {e.url.rsplit("_", 1)[1]: (e.title, e.date) for e in entries}
    assert got == {f"{k}.html": (_title(k), d.isoformat() if d else None) for k, d in enumerate(dates)}
    assert sources == {"json" if where in ("answer", "jsonp") else "comment" if where == "comment_js" else "script"}


def test_markup_in_comments_and_inside_json_strings():
    rows = "".join(f'<li><a href="./202501/t20250120_{k}.html">{_title(k)}</a><span>2025-01-2{k}</span></li>' for k in range(3))
    commented = _page(f'<ul class="list"></ul><!--<ul class="list">{rows}</ul>-->')
    listing = read_list(profile("trs"), commented, {}, 2026)
    assert [(e.title, e.date) for e in listing.entries] == [(_title(k), f"2025-01-2{k}") for k in range(3)]
    assert listing.sources == {"comment"}
    answer = json.dumps({"success": True, "data": {"html": f"<ul>{rows}</ul>", "total": 3}}, ensure_ascii=False)
    entries, sources = hidden_entries(Page(BASE + "unit", 200, answer.encode(), "application/json"), profile("trs").entries)
    assert len(entries) == 3 and sources == {"json"} and entries[0].date == "2025-01-20"


def test_a_commented_pager_call_is_still_the_pager():
    page = _page('<ul class="list"></ul><!--<script>createPageHTML(3, 0, "index", "html");</script>-->')
    assert [f.url for f in read_list(profile("trs"), page, {}, 2026).follow] == [BASE + "index_1.html"]
    assert pager_claim(page) == (1, 3)


def test_navigation_json_is_not_taken_for_items():
    nav = json.dumps([{"name": "首页", "url": "/"}, {"name": "政府信息公开年报", "url": "/zfxxgk/zfxxgknb/"}], ensure_ascii=False)
    entries, _ = hidden_entries(_page(f"<script>var nav = {nav};</script>"), profile("trs").entries)
    assert [e.title for e in entries] == ["政府信息公开年报"]  # offered, and the selection drops it (no year)


# ---- list API calls --------------------------------------------------------------------------

CALLS = {
    "ajax_post_form": (
        "var chnl = '6021'; $.ajax({url: '/trsapi/search/doc', type: 'POST', dataType: 'json',"
        " data: {channelid: chnl, page: 1, pagesize: 15}, success: function (d) { render(d.data.list); }});",
        ("POST", False, ("page",), 1, 15, {"channelid": "6021"}),
    ),
    "ajax_json_body": (
        'jQuery.ajax({url: "/irs/front/search", type: "post", contentType: "application/json",'
        " data: JSON.stringify({columnId: 88, pageNo: 1, pageSize: 10}), success: cb});",
        ("POST", True, ("pageNo",), 1, 10, {"columnId": 88}),
    ),
    "post_shorthand": (
        "$.post('/api/list.do', {catId: 12, curPage: 1, rows: 20}, function (r) { show(r); }, 'json');",
        ("POST", False, ("curPage",), 1, 20, {"catId": 12}),
    ),
    "get_json_zero_based": (
        "$.getJSON('/api/docs', {nodeId: 'a1', pageIndex: 0, size: 8}, function (r) { show(r); });",
        ("GET", False, ("pageIndex",), 0, 8, {"nodeId": "a1"}),
    ),
    "fetch_offset": (
        "fetch('/search/api', {method: 'POST', body: JSON.stringify({channel: 'nb', start: 0, limit: 25})})"
        ".then(function (r) { return r.json(); });",
        ("POST", True, ("start",), 0, 25, {"channel": "nb"}),
    ),
    "axios_post": (
        "axios.post('/gateway/list', {typeId: 3, pageNum: 1, pageSize: 12}).then(render);",
        ("POST", True, ("pageNum",), 1, 12, {"typeId": 3}),
    ),
    "jpaas_param_json": (
        "$.ajax({url: '/jpaas-jpage-server/front/page/build/unit', type: 'GET',"
        " data: {webId: '3214', pageId: '99', paramJson: '{\"pageNo\":1,\"pageSize\":15}'}, success: f});",
        ("GET", False, ("paramJson", "pageNo"), 1, 15, {"webId": "3214"}),
    ),
}


@pytest.mark.parametrize("syntax", sorted(CALLS))
def test_list_api_calls_in_the_usual_syntaxes(syntax):
    script, (method, json_body, path, first, size, fixed) = CALLS[syntax]
    (call,) = find_calls(_page(f"<script>{script}</script>"), [script])
    assert (call.method, call.json_body, call.page_path, call.first, call.size) == (method, json_body, path, first, size)
    assert call.url.startswith("http://www.x.gov.cn/") and all(call.params[k] == v for k, v in fixed.items())
    second = request(call, 2)
    if json_body:
        params = second.json
    elif method == "POST":
        params = second.formdata
    else:
        params = dict(parse_qsl(urlsplit(second.url).query))
    value = params[path[0]]
    if len(path) == 2:  # the page number inside a JSON-string parameter
        value = json.loads(value)[path[1]]
    assert str(value) == str(first + (size if call.offset else 1))
    assert second.headers["X-Requested-With"] == "XMLHttpRequest"


@pytest.mark.parametrize(
    "script",
    [
        "$.ajax({url: '/count.jsp', data: {docid: 5}});",  # a visit counter: no page, no column
        "$.ajax({url: '/api/list', data: {channelid: getQuery('id'), page: 1}});",  # the column id is computed
        "$.get(url + '/x', {page: 1});",  # the address is computed
    ],
)
def test_calls_that_are_not_a_followable_list(script):
    assert find_calls(_page(f"<script>{script}</script>"), [script]) == []


@pytest.mark.parametrize(
    "answer, items, more",
    [
        ({"data": {"list": [1] * 10, "pager": {"pageCount": 3}}}, 10, True),
        ({"data": {"list": [1] * 10, "pager": {"pageCount": 2}}}, 10, True),
        ({"total": 25, "rows": [1] * 10}, 10, True),
        ({"total": 20, "rows": [1] * 10}, 10, True),
        ({"rows": [1] * 10}, 10, True),  # nothing stated: a full page asks for the next
        ({"rows": [1] * 4}, 4, False),  # a short page is the last
        ({"total": 0, "rows": []}, 0, False),
    ],
)
def test_list_api_pagination(answer, items, more):
    script = "$.post('/api/list', {catId: 1, page: 1, rows: 10});"
    (call,) = find_calls(_page(f"<script>{script}</script>"), [script])
    first = request(call, 1)
    nxt = next_request(answer, items, first.context)
    assert (nxt is not None) == more
    if nxt is not None:
        assert nxt.formdata["page"] == "2" and nxt.context["api_page"] == 2


# ---- the visible date against <meta PubDate> -----------------------------------------------


@pytest.mark.parametrize(
    "meta, block, published, source",
    [
        ("2025-06-18 03:12", "发布日期：2025-01-20", "2025-01-20", "page"),  # regenerated meta: the visible date wins
        ("2025-01-20 09:31", "发布日期：2025-01-20", "2025-01-20", "meta"),
        ("2025-06-18", "<span>发布时间：</span><span>2025年1月20日 10:00</span>", "2025-01-20", "page"),
        ("2025-06-18", "日期：2025-01-20 来源：某某县", "2025-01-20", "page"),
        ("2025-06-18", "时间:2025-01-20 10:01", "2025-01-20", "page"),
        ("2025-06-18", "成文日期：2025-01-02 更新时间：2025-06-19", "2025-06-18", "meta"),  # neither is the publication
        (None, "成文日期：2025-01-02", "2025-01-02", "written"),
        (None, "", None, None),
    ],
)
def test_visible_date_against_meta(meta, block, published, source):
    head = f'<meta name="PubDate" content="{meta}">' if meta else ""
    body = f"<div class='info'>{block}</div><h1>某某县2024年政府信息公开工作年度报告</h1><p>正文</p>"
    page = Page(BASE + "t.html", 200, f"<html><head>{head}</head><body>{body}</body></html>".encode())
    info = read_detail(page)
    assert (info.published.date, info.published.source) == (published, source)
    if source == "page" and meta:
        assert info.published.meta == meta[:10].replace(" ", "") and "采用页面日期" in info.published.why


def test_published_date_keeps_both():
    chosen = published_date("2025-06-18 03:00", "2025-01-20", "2025-01-21", None)
    assert (chosen.date, chosen.source, chosen.meta, chosen.visible) == ("2025-01-20", "page", "2025-06-18", "2025-01-20")
    assert published_date(None, None, "2025-01-21", "2025-01-02").source == "list"


# ---- per-year sub-columns --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, column",
    [
        ("2024年度", True),
        ("2023年", True),
        ("二〇二三年度", True),
        ("2022年度年报", True),
        ("2024 年度", True),
        ("2024年政府信息公开工作年度报告", False),  # a report, not a tab
        ("2006年度", False),  # before the 条例
        ("政务公开", False),
    ],
)
def test_year_sub_columns(text, column):
    page = _page(f'<div class="tabs"><a href="sub/">{html.escape(text)}</a></div>')
    assert year_columns(page, profile("trs"), 2026) == ([BASE + "sub/"] if column else [])


def test_a_column_of_year_tabs_is_a_shell_not_an_empty_list():
    page = _page('<div class="tabs"><a href="2024n/">2024年度</a><a href="2023n/">2023年度</a></div><p>请选择年度</p>')
    listing = read_list(profile("trs"), page, {}, 2026, top=True)
    assert listing.columns == [BASE + "2024n/", BASE + "2023n/"] and listing.shell


# ---- coverage warnings -----------------------------------------------------------------------


def _judge(body: str, family: str = "trs", page_no: int = 1, url: str = BASE) -> Walk:
    page = _page(body, url)
    walk = Walk("p", BASE, None, family, "t")
    listing = read_list(profile(family), page, {}, 2026)
    walk.page_read(page, page_no, listing.entries, listing.shell, False)
    walk.finish()
    return walk


def test_rows_of_dated_links_the_family_cannot_read_are_unreadable():
    rows = "".join(
        f'<li><a href="/art/{k}.jsp">关于第{k}季度政务公开工作的通知</a><span>2025-01-2{k}</span></li>' for k in range(3)
    )
    walk = _judge(f"<ul>{rows}</ul>")  # TRS, but these are not TRS item URLs, nor reports
    assert (walk.seen, walk.warning) == ("partial", "list_unreadable") and "带日期的链接" in walk.detail


def test_reports_off_the_familys_url_shape_are_read():
    rows = "".join(f'<li><a href="/art/{k}.jsp">{_title(k)}</a><span>2025-01-2{k}</span></li>' for k in range(3))
    listing = read_list(profile("trs"), _page(f"<ul>{rows}</ul>"), {}, 2026)  # a report is kept off the shape
    assert [e.url for e in listing.entries] == [f"http://www.x.gov.cn/art/{k}.jsp" for k in range(3)]


@pytest.mark.parametrize(
    "body, page_no, warning",
    [
        ("<p>欢迎访问</p>", 1, "list_empty"),  # a moved column: nothing at all
        ('<ul id="list"></ul><script>renderList(decrypt("x"));</script>', 1, "list_unreadable"),
        ('<ul class="list"></ul><div class="page">共3页</div>', 1, "list_unreadable"),
        ('<ul class="list"></ul><p>暂无信息</p>', 1, None),  # an empty column that says so
        ('<table class="list"></table><a href="cal-2.html">下一页</a>', 2, None),  # past the end of a calendar list
    ],
)
def test_pages_that_yield_nothing(body, page_no, warning):
    walk = _judge(body, "nextlink", page_no)
    assert walk.warning == warning and walk.seen == ("partial" if warning else "full")


@pytest.mark.parametrize(
    "pager, warning",
    [
        ("<span>第1/3页</span>", "pager_unreadable"),
        ("<span>共3页</span>", "pager_unreadable"),
        ('<script>createPageHTML(3, 2, "index", "html");</script>', None),  # the last page
        ("<script>var currentPage = 0; var countPage = 1;</script>", None),
        ("", None),
    ],
)
def test_a_pager_stating_more_pages_than_were_walked(pager, warning):
    rows = "".join(f'<tr><td><a href="/nb/{k}.html">{_title(k)}</a></td><td>2025-01-2{k}</td></tr>' for k in range(3))
    walk = _judge(f"<table>{rows}</table>{pager}", "nextlink")
    assert walk.warning == warning and walk.pager == ("unfollowed" if warning else "single")


def test_a_list_api_that_ignores_the_page_asked_for_is_not_fully_seen():
    """The API answers page 1 again whatever page is asked: the walk ends on a repeat, but
    the answer's stated total shows the list was not fully seen."""
    answer = json.dumps(
        {"total": 30, "list": [{"title": _title(k), "url": f"/a/{k}.html"} for k in range(10)]}, ensure_ascii=False
    )
    walk = Walk("p", BASE, None, "nextlink", "t")
    for page_no in (2, 3):  # the column page was 1
        page = Page(BASE + "api", 200, answer.encode(), "application/json")
        entries, _ = hidden_entries(page, profile("nextlink").entries)
        walk.page_read(page, page_no, entries, False, True, 30)
        for e in entries:
            walk.kept_entry(e.url, e.title, 2026)
    walk.end("repeated")
    walk.finish()
    assert (walk.seen, walk.warning) == ("partial", "pager_unreadable") and "共 30 条，只读到 10 条" in walk.detail
