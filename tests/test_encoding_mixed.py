"""Decoding pages whose bytes and labels disagree, or whose bytes are a little broken.

A UTF-8 list page with one bad byte (a title cut mid-character, a raw latin-1
(c) in the footer) must stay UTF-8, and GBK bytes under a Tomcat-default
``charset=ISO-8859-1`` must be read as GBK: otherwise every title on the list
is mojibake and every report on it is lost without a word.
"""

from __future__ import annotations

import codecs

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from archive.encoding import decode
from crawler.page import Page

PLACES = ["某某县", "凤泉区", "新乡市", "东城区", "邯郸市", "丛台区", "临漳县", "赣州市", "于都县", "黔东南州"]
UNITS = [
    "人民政府",
    "人民政府办公室",
    "住房和城乡建设局",
    "发展和改革委员会",
    "教育局",
    "财政局",
    "卫生健康委员会",
    "市场监督管理局",
    "自然资源和规划局",
    "某某镇人民政府",
    "某某街道办事处",
]
# Common characters (GB2312 level 1): every one of them encodes in GBK, GB18030 and UTF-8.
GB2312_L1 = [
    bytes([lead, trail]).decode("gb2312")
    for lead in range(0xB0, 0xD8)
    for trail in range(0xA1, 0xFF)
    if not (lead == 0xD7 and trail > 0xF9)
]
# Only in GB18030 (four bytes there) and UTF-8, not in GBK: CJK Extension A.
EXT_A = ["㐀", "㑇", "㒳", "㔉", "䁖"]

WESTERN = ["iso-8859-1", "ISO-8859-1", "latin1", "windows-1252", "us-ascii", "ascii"]
DECLARED = [None, "utf-8", "UTF-8", "gbk", "gb2312", "GB2312", "gb18030", *WESTERN]


def title_strategy(rare: bool) -> st.SearchStrategy[str]:
    filler = st.text(st.sampled_from(GB2312_L1 + (EXT_A if rare else [])), min_size=0, max_size=4)
    return st.builds(
        lambda place, filler, unit, year, tail: f"{place}{filler}{unit}{year}年{tail}",
        st.sampled_from(PLACES),
        filler,
        st.sampled_from(UNITS),
        st.integers(2008, 2025),
        st.sampled_from(["政府信息公开工作年度报告", "政府信息公开年度报告", "政务公开工作年度报告"]),
    )


def list_page(titles: list[str], meta: str | None) -> tuple[str, list[tuple[int, int]]]:
    """An HTML list page and each title's (start, end) character span in it."""
    head = (
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={meta}">'
        if meta
        else "<html><head>"
    )
    text = (
        head + '<title>政府信息公开年报</title></head><body><div class="nav">首页 &gt; 信息公开 &gt; 年报</div><ul class="list">'
    )
    spans = []
    for i, title in enumerate(titles):
        text += f'<li><a href="./202501/t20250120_{i}.html">'
        spans.append((len(text), len(text) + len(title)))
        text += f'{title}</a><span class="date">2025-01-{i % 28 + 1:02d}</span></li>'
    return text + "</ul><p>版权所有 Copyright 2025</p></body></html>", spans


def encode_with_strays(text: str, encoding: str, strays: list[tuple[int, bytes]]) -> tuple[bytes, list[int]]:
    """``text`` encoded, with each stray's bytes inserted before character ``at``; returns the bytes and
    the character positions the strays went in at."""
    strays = sorted((min(at, len(text)), stray) for at, stray in strays)
    pieces, last = [], 0
    for at, stray in strays:
        pieces += [text[last:at].encode(encoding), stray]
        last = at
    pieces.append(text[last:].encode(encoding))
    return b"".join(pieces), [at for at, _ in strays]


def stray_strategy(encoding: str) -> st.SearchStrategy[bytes]:
    """Bytes invalid where they land: a lone latin-1 (c) or 0xFF, a lone continuation byte, a truncated character."""
    truncated = st.sampled_from(GB2312_L1).flatmap(
        lambda ch: st.integers(1, len(ch.encode(encoding)) - 1).map(lambda n: ch.encode(encoding)[:n])
    )
    if encoding == "utf-8":
        return st.one_of(st.sampled_from([b"\xa9", b"\xff", b"\x80", b"\xae", b"\xb7"]), truncated)
    return st.one_of(st.sampled_from([b"\xff", b"\x80"]), truncated)


def expect_titles(text: str, titles: list[str], spans: list[tuple[int, int]], hits: list[int]) -> None:
    """Every title no stray byte landed in or right next to is read intact."""
    for title, (start, end) in zip(titles, spans, strict=True):
        if not any(start <= at <= end for at in hits):
            assert title in text, (title, text)


def content_type_and_meta(declared: str | None, via: str) -> tuple[str | None, str | None]:
    if declared is None:
        return ("text/html" if via == "header" else None), None
    return (f"text/html; charset={declared}", None) if via == "header" else (None, declared)


# --- UTF-8 pages with a few bad bytes stay UTF-8 ---------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    titles=st.lists(title_strategy(rare=True), min_size=1, max_size=12),
    declared=st.sampled_from(DECLARED),
    via=st.sampled_from(["header", "meta"]),
    data=st.data(),
)
def test_utf8_with_stray_bytes_stays_utf8(titles, declared, via, data):
    ct, meta = content_type_and_meta(declared, via)
    page, spans = list_page(titles, meta)
    k = data.draw(st.integers(1, min(4, len(titles) + 1)), label="strays")
    strays = data.draw(st.lists(st.tuples(st.integers(0, len(page)), stray_strategy("utf-8")), min_size=k, max_size=k))
    body, hits = encode_with_strays(page, "utf-8", strays)
    text, used = decode(body, ct)
    assert used == "utf-8"
    expect_titles(text, titles, spans, hits)


@settings(max_examples=150, deadline=None)
@given(
    titles=st.lists(title_strategy(rare=True), min_size=1, max_size=8),
    declared=st.sampled_from(DECLARED),
    strays=st.lists(st.tuples(st.integers(0, 10_000), stray_strategy("utf-8")), min_size=0, max_size=3),
)
def test_utf8_with_bom_under_any_label(titles, declared, strays):
    page, spans = list_page(titles, declared)
    body, hits = encode_with_strays(page, "utf-8", strays)
    text, used = decode(codecs.BOM_UTF8 + body, f"text/html; charset={declared}" if declared else None)
    assert used == "utf-8-sig"
    expect_titles(text, titles, spans, hits)


def test_title_cut_mid_character_by_a_byte_counting_cms():
    titles = [f"{place}{unit}2024年政府信息公开工作年度报告" for place in PLACES for unit in UNITS[:3]]
    rows = []
    for i, title in enumerate(titles):
        raw = title.encode("utf-8")
        cut = raw[: 20 + i % 3] + b"..."  # 20..22 bytes: most cuts land inside a character
        rows.append(b'<li><a title="' + raw + b'" href="./t' + str(i).encode() + b'.html">' + cut + b"</a></li>")
    body = b'<html><head><meta charset="utf-8"></head><body><ul>' + b"".join(rows) + b"</ul></body></html>"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text, used = decode(body, "text/html")
    assert used == "utf-8"
    assert all(title in text for title in titles)


def test_every_title_cut_to_a_few_characters_still_utf8():
    rows = ["某某县人民政府"[: 2 + i % 4].encode() + "办".encode()[:2] for i in range(30)]
    body = b"<ul>" + b"".join(b"<li>" + row + b"</li>" for row in rows) + b"</ul>"
    assert decode(body)[1] == "utf-8"


# --- GBK / GB18030 pages, labelled anything, are GB18030 -------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    encoding=st.sampled_from(["gbk", "gb18030"]),
    declared=st.sampled_from(DECLARED),
    via=st.sampled_from(["header", "meta"]),
    data=st.data(),
)
def test_gb_pages_with_or_without_stray_bytes(encoding, declared, via, data):
    titles = data.draw(st.lists(title_strategy(rare=encoding == "gb18030"), min_size=1, max_size=12), label="titles")
    ct, meta = content_type_and_meta(declared, via)
    page, spans = list_page(titles, meta)
    k = data.draw(st.integers(0, min(3, len(titles))), label="strays")
    strays = data.draw(st.lists(st.tuples(st.integers(0, len(page)), stray_strategy(encoding)), min_size=k, max_size=k))
    body, hits = encode_with_strays(page, encoding, strays)
    text, used = decode(body, ct)
    assert used == "gb18030"
    expect_titles(text, titles, spans, hits)


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.sampled_from(GB2312_L1), min_size=6, max_size=60), declared=st.sampled_from(DECLARED))
def test_random_gbk_text_is_never_read_as_utf8(text, declared):
    body = f"<p>{text}</p>".encode("gbk")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        assume(False)  # wholly valid UTF-8: no decoder can tell, and strict UTF-8 keeps winning there
    got, used = decode(body, f"text/html; charset={declared}" if declared else None)
    assert used == "gb18030" and text in got


def test_gbk_that_holds_valid_utf8_sequences_is_not_utf8():
    # 某 (C4 B3), 场 (B3 A1) ... are valid two-byte UTF-8 sequences in GBK; 宕 (E5 B4) + 昂 (B0 BA)
    # hold a valid three-byte one. The page still fails UTF-8 almost everywhere else.
    title = "某某县场宕昂局2024年政府信息公开工作年度报告"
    raw = title.encode("gbk")
    replaced = raw.decode("utf-8", errors="replace")
    assert len(replaced.replace("\ufffd", "")) > len(replaced) // 4  # a fair share of it is "valid" UTF-8
    assert any("\u0800" <= ch != "\ufffd" for ch in replaced)  # including a wide character
    for ct in (None, "text/html; charset=utf-8", "text/html; charset=iso-8859-1"):
        text, used = decode(b"<li><a>" + raw + b"</a></li>", ct)
        assert used == "gb18030" and title in text


def test_utf8_list_under_a_gbk_include_reads_as_utf8():
    """A GBK-encoded server-side include (the site header) in a UTF-8 list page: the list wins."""
    nav = "首页 网站地图 无障碍 政务公开 政务服务 互动交流 走进某某 信息公开目录".encode("gbk")
    titles = [f"{place}{unit}2024年政府信息公开工作年度报告" for place in PLACES[:4] for unit in UNITS[:5]]
    lst = "".join(f"<li><a>{t}</a></li>" for t in titles).encode("utf-8")
    text, used = decode(b'<html><head><meta charset="utf-8"></head><body><div>' + nav + b"</div><ul>" + lst + b"</ul>")
    assert used == "utf-8"
    assert all(t in text for t in titles)


# --- the two pages the hunt found ------------------------------------------------------------------------------------

R1 = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body>'
    '<div class="overview_right"><ul class="list">'
    '<li><a href="./202501/t20250120_431880.html" title="某某县住房和城乡建设局2024年政府信息公开工作年度报告">'
    '某某县住房和城乡建设局2024年政府信息公开工作年度报告</a><span class="date">2025-01-20</span></li>'
    '<li><a href="./202501/t20250121_431881.html" title="某某镇人民政府2024年政府信息公开工作年度报告">'
    '某某镇人民政府2024年政府信息公开工作年度报告</a><span class="date">2025-01-21</span></li></ul>'
    '<div class="page"><script>var currentPage = 0; var countPage = 1;'
    'createPageHTML(countPage, currentPage, "index", "html");</script></div></div>'
    "<p>Copyright \x00 2025</p></body></html>"
)
R1_BYTES = R1.encode("utf-8").replace(b"\x00", b"\xa9")  # a raw latin-1 (c) in a UTF-8 page
R6_BYTES = R1.replace('charset="utf-8"', 'charset="gbk"').replace("<p>Copyright \x00 2025</p>", "").encode("gbk")
R1_TITLES = ["某某县住房和城乡建设局2024年政府信息公开工作年度报告", "某某镇人民政府2024年政府信息公开工作年度报告"]


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (R1_BYTES, "text/html; charset=utf-8", "utf-8"),
        (R1_BYTES, "text/html", "utf-8"),
        (R1_BYTES, "text/html; charset=GBK", "utf-8"),
        (R6_BYTES, "text/html; charset=ISO-8859-1", "gb18030"),
        (R6_BYTES, "text/html;charset=iso-8859-1", "gb18030"),
        (R6_BYTES, "text/html; charset=windows-1252", "gb18030"),
        (R6_BYTES, "text/html", "gb18030"),
    ],
    ids=["r1-utf8", "r1-unlabelled", "r1-gbk-label", "r6-latin1", "r6-latin1-tight", "r6-cp1252", "r6-unlabelled"],
)
def test_hunt_repros(body, content_type, expected):
    page = Page("http://www.x.gov.cn/zfxxgk/zfxxgknb/", 200, body, content_type)
    assert page.encoding == expected
    assert all(t in page.text for t in R1_TITLES)
    assert page.text.count("\ufffd") <= 1


# --- what worked before keeps working --------------------------------------------------------------------------------

PAGE = '<html><head><meta charset="{}"><title>政府信息公开</title></head><body><a>某某县2024年政府信息公开工作年度报告</a></body></html>'


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (PAGE.format("utf-8").encode("gbk"), "text/html; charset=utf-8", "gb18030"),  # GBK under a utf-8 header
        (PAGE.replace('<meta charset="{}">', "").encode("gbk"), None, "gb18030"),  # unlabelled GBK
        (PAGE.format("gbk").encode("gbk"), "text/html; charset=gbk", "gb18030"),  # labelled GBK
        (codecs.BOM_UTF8 + PAGE.format("gbk").encode("utf-8"), "text/html; charset=gbk", "utf-8-sig"),
        (PAGE.format("gbk").encode("utf-8"), "text/html; charset=gbk", "utf-8"),  # utf-8 labelled gbk
        (PAGE.format("gb18030").replace("某某县", "㐀县").encode("gb18030"), None, "gb18030"),
        (PAGE.format("utf-16").encode("utf-16"), None, "utf-16"),
        (codecs.BOM_UTF16_BE + PAGE.format("utf-16").encode("utf-16-be"), None, "utf-16"),
        (PAGE.format("utf-8").encode("utf-8"), "text/html; charset=ISO-8859-1", "utf-8"),  # utf-8 under latin-1
    ],
    ids=[
        "gbk-utf8-header",
        "gbk-unlabelled",
        "gbk-labelled",
        "bom-gbk-label",
        "utf8-gbk-label",
        "gb18030",
        "utf16le-bom",
        "utf16be-bom",
        "utf8-latin1-header",
    ],
)
def test_what_worked_before(body, content_type, expected):
    text, used = decode(body, content_type)
    assert used == expected
    assert "年政府信息公开工作年度报告" in text and "\ufffd" not in text


def test_real_western_single_byte_page_keeps_its_label():
    body = "<p>Café, naïve résumé — déjà vu: façade; 2024 © Ministère</p>".encode("windows-1252")
    text, used = decode(body, "text/html; charset=windows-1252")
    assert used == "windows-1252" and "déjà vu" in text and "©" in text
    text, used = decode("<p>Größe: 12 m² - café</p>".encode("latin-1"), "text/html; charset=iso-8859-1")
    assert used == "iso-8859-1" and "Größe" in text


def test_big5_label_is_still_honoured():
    body = "<p>臺北市政府113年政府資訊公開年報</p>".encode("big5")
    assert decode(body, "text/html; charset=big5") == ("<p>臺北市政府113年政府資訊公開年報</p>", "big5")


@pytest.mark.parametrize(
    "label", ["utf-16", "utf-16le", "utf-32", "idna", "punycode", "unicode_escape", "undefined", "utf-7", "rot13", "base64"]
)
def test_lying_or_odd_labels_over_gbk(label):
    body = PAGE.format(label).encode("gbk")
    text, used = decode(body, f"text/html; charset={label}")
    assert used == "gb18030" and "某某县2024年政府信息公开工作年度报告" in text


# --- bad input never crashes -----------------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(
    body=st.binary(max_size=400),
    content_type=st.one_of(
        st.none(), st.text(max_size=60), st.sampled_from(DECLARED[1:]).map(lambda c: f"text/html; charset={c}")
    ),
)
def test_any_bytes_any_label_never_crash(body, content_type):
    text, used = decode(body, content_type)
    assert isinstance(text, str) and codecs.lookup(used)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200), label=st.from_regex(r"[A-Za-z0-9_\-]{1,20}", fullmatch=True))
def test_any_meta_label_never_crashes(body, label):
    text, used = decode(b'<meta charset="' + label.encode() + b'">' + body)
    assert isinstance(text, str) and codecs.lookup(used)
