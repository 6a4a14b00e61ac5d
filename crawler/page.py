"""A fetched page, decoded the way portals need, with its links and dates.

Scrapy decodes by the header charset first; portals mislabel GBK as UTF-8, so
pages are decoded by ``archive.encoding.decode`` (strict UTF-8 first, then the
declared charset, then GB18030) and parsed with parsel.

Links are what a browser would follow: hrefs resolved against ``<base href>``,
and the URL a ``javascript:`` href, an ``onclick`` or a ``data-href``/``data-url``
opens. A link's title is its text without the date a list prints inside it, or its
``@title`` when that is the title (not 点击查看详情, the site's name …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from archive.encoding import decode

# full-width digits and punctuation (２０２５－０１－２７), dashes and the ideographic space, one for one
_NARROW = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: " "} | dict.fromkeys(range(0x2010, 0x2016), "-")
_NARROW[0x2212] = "-"
# year, month and day with one separator throughout (2025-01-20, 2025/1/20, 2025.01.20, 2025年1月20日),
# not a range of months (2024年1-3月)
_YMD = r"(?:19|20)\d{2}\s*(?:-\s*\d{1,2}\s*-|/\s*\d{1,2}\s*/|\.\s*\d{1,2}\s*\.|年\s*\d{1,2}\s*月)\s*\d{1,2}(?!\d)\s*日?"
_DATE = re.compile(
    r"((?:19|20)\d{2})\s*(?:-\s*(\d{1,2})\s*-|/\s*(\d{1,2})\s*/|\.\s*(\d{1,2})\s*\.|年\s*(\d{1,2})\s*月)\s*(\d{1,2})(?!\d)"
)
_SPACE = re.compile(r"\s+")
# a date printed at either end of a link's text: 2025-01-20, 2025年1月20日, [01-20], (2025.01.20 16:05) …
_FULL = _YMD + r"(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
_MONTH_DAY = r"(?:\d{1,2}[-/]\d{1,2}(?![\d/-])|\d{1,2}月\d{1,2}日)"
_OPEN, _CLOSE = r"[\[【(（〔<]", r"[\]】)）〕>]"
_GLUE = r"[\s|｜丨:：·•、,，-]*"
_LEADING_DATE = re.compile(
    rf"^\s*(?:{_OPEN}\s*(?P<w>{_FULL}|{_MONTH_DAY})\s*{_CLOSE}|(?P<f>{_FULL})|(?P<m>{_MONTH_DAY})(?![年月日号期季度\d]))" + _GLUE
)
_NOT_AFTER_RANGE = r"(?<!\d)(?<!\d[-~至到—/.])"  # not the end of a range (2024.1.1-2024.12.31)
_TRAILING_DATE = re.compile(
    _GLUE
    + rf"(?:{_OPEN}\s*(?P<w>{_FULL}|{_MONTH_DAY})\s*{_CLOSE}|{_NOT_AFTER_RANGE}(?P<f>{_FULL})"
    + rf"|(?<![\d~至到—/.年月-])(?P<m>{_MONTH_DAY}))\s*$"
)
_TRUNCATED = re.compile(r"\s*(?:…+|\.{2,}|。{2,}|·{2,})\s*$")
_NUMBERING = re.compile(r"^\s*(?:\d{1,3}\s*[.、．)]|[·•●○■□◆◇▪►>»\-\s]|\[[^\]]{0,6}\]|【[^】]{0,6}】)+")
# an @title (or a link text) that names no title: 点击查看详情, 查看, 详细, 在新窗口打开, more …
_GENERIC = re.compile(
    r"^(?:点击|请点击|单击|查看|阅读|浏览|进入|打开|访问|下载|详情|详细|全文|内容|更多|原文|信息|链接|新窗口|窗口|在|此处|这里|"
    r"本文|文章|标题|页面|请|>|》|»|\.|…|·|:|：|\s|more|details?|view|click|here|read|open|title|link|null|undefined|none)*$",
    re.I,
)
# a second link in one list row that belongs to the row's item ([PDF], 下载, 附件, an icon)
_AUX = re.compile(
    r"^[\[【(（<《]?\s*(?:pdf|docx?|wps|xlsx?|ofd|zip|rar|pdf版|word版|下载|点击下载|附件|原文|全文|查看|详情|详细|图解|解读|"
    r"文字版|图片版|打印|收藏|分享|更多)?\s*[\]】)）>》]?$",
    re.I,
)
_YEARISH = re.compile(r"(?:19|20)\d{2}|[〇○零二][〇○零0一二三四五六七八九]{3}")
_TITLE_WORDS = re.compile(r"报告|年报|公开")
# a URL inside JavaScript: window.open('…'), location.href = '…', openDetail("…") …
_JS_STRING = re.compile(r"""(['"])\s*([^'"\s]+?)\s*\1""")
_JS_URLISH = re.compile(r"^(?:https?://|/|\./|\.\./)|\.(?:s?html?|jsp|aspx?|php|do|pdf|docx?|wps|xlsx?|ofd)(?:[?#].*)?$", re.I)
_JS_ATTRS = ("onclick", "data-href", "data-url", "data-link")
_SEPARATORS = frozenset({"br", "hr"})
# compiled once, run on the lxml tree directly: parsel wraps every result node in a
# Selector, which costs more than the query itself on pages with hundreds of text nodes
_VISIBLE_TEXT = etree.XPath("//body//text()[not(parent::script) and not(parent::style)]", smart_strings=False)
_LINK_NODES = etree.XPath("//a | //*[@onclick or @data-href or @data-url or @data-link]")
_CANDIDATES = etree.XPath(
    "descendant-or-self::*[self::a or @onclick or @data-href or @data-url or @data-link]", smart_strings=False
)
_ANCHOR_COUNT = etree.XPath("count(.//a)")
_ANCHORS_IN = etree.XPath(".//a", smart_strings=False)
_METAS = etree.XPath("//meta[@name]")
_BASE = etree.XPath("//base[@href]/@href", smart_strings=False)
_TEXT = etree.XPath(".//text()", smart_strings=False)
_CLIMB = 4  # ancestors of a list link searched for its date (td → tr, dt → dl …)
_JS_CLIMB = 3  # ancestors of an <a href="javascript:;"> searched for the row's onclick


def narrow(text: str) -> str:
    """Full-width digits and punctuation as ASCII, character for character."""
    return text.translate(_NARROW)


def iso_date(text: str | None) -> str | None:
    """The first date in ``text`` as YYYY-MM-DD (2025-1-7, 2025/01/07, 2025年1月7日, 2025.01.07, ２０２５－０１－０７)."""
    if not text:
        return None
    m = _DATE.search(narrow(text))
    if not m:
        return None
    year, month, day = int(m.group(1)), int(next(g for g in m.groups()[1:5] if g)), int(m.group(6))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def clean(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip()


def _valid_month_day(text: str) -> bool:
    month, day = (int(n) for n in re.findall(r"\d+", text)[-2:])
    return 1 <= month <= 12 and 1 <= day <= 31


def split_date(text: str) -> tuple[str, str | None]:
    """``text`` without a date printed before or after the title (``2025年1月20日 某某局…``,
    ``某某局…2025-01-20``, ``[01-20]``), and that date as YYYY-MM-DD (None when it has no year)."""
    found: str | None = None
    for pattern in (_LEADING_DATE, _TRAILING_DATE):
        m = pattern.search(narrow(text))
        if not m:
            continue
        printed = m.group("w") or m.group("f") or m.group("m")
        if printed is None or (iso_date(printed) is None and not _valid_month_day(printed)):
            continue
        rest = clean(text[: m.start()] + text[m.end() :])
        if not rest:
            continue  # the link is the date
        text, found = rest, found or iso_date(printed)
    return text, found


def pick_title(text: str, attr: str, site: frozenset[str] = frozenset()) -> str:
    """A link's title: its ``@title`` when that is a title at least as good as its text (the
    full title of a text cut short with …, or a longer one containing the text's start),
    else its text. An ``@title`` of 点击查看详情 / 查看 / the site's name never wins."""
    if not attr or _GENERIC.match(attr) or attr in site:
        return text or attr
    if not text or _GENERIC.match(text):
        return attr
    stem = _TRUNCATED.sub("", text)
    squeezed_attr, squeezed_stem = _squeeze(attr), _squeeze(stem)
    if squeezed_stem and squeezed_stem in squeezed_attr:
        return attr
    if squeezed_attr in _squeeze(text):
        return text
    better = _title_score(attr) - _title_score(stem)
    if better:
        return attr if better > 0 else text
    head = _squeeze(_NUMBERING.sub("", stem))[:8]
    return attr if len(squeezed_attr) > len(squeezed_stem) and head and head in squeezed_attr else text


def _squeeze(text: str) -> str:
    return _SPACE.sub("", narrow(text))


def _title_score(text: str) -> int:
    """How much of a report title ``text`` names: a year, the report."""
    return bool(_YEARISH.search(narrow(text))) + bool(_TITLE_WORDS.search(text))


def _js_url(script: str | None) -> str | None:
    """The URL a piece of JavaScript opens: the first URL-like string argument."""
    for m in _JS_STRING.finditer(script or ""):
        if _JS_URLISH.search(m.group(2)) and not m.group(2).startswith("javascript:"):
            return m.group(2)
    return None


def _real_href(href: str | None) -> str | None:
    href = (href or "").strip()
    if not href or href.lower().startswith(("javascript:", "#", "mailto:", "tel:", "data:")):
        return None
    return href


def link_target(node: etree._Element) -> str | None:
    """Where a link node points, as written: its href, else the URL its ``javascript:``
    href, ``onclick`` or ``data-href``/``data-url`` opens."""
    if not isinstance(node.tag, str):
        return None
    href = node.get("href") if node.tag == "a" else None
    if url := _real_href(href):
        return url
    if href and href.strip().lower().startswith("javascript:") and (url := _js_url(href)):
        return url
    if url := _js_url(node.get("onclick")):
        return url
    return next((url for name in _JS_ATTRS[1:] if (url := _real_href(node.get(name)))), None)


def _row_target(anchor: etree._Element) -> str | None:
    """The URL of a row that opens on click around an ``<a href="javascript:;">``."""
    node = anchor.getparent()
    for _ in range(_JS_CLIMB):
        if node is None or sum(not _aux(a) for a in _ANCHORS_IN(node)) > 1:
            return None
        if url := link_target(node):
            return url
        node = node.getparent()
    return None


@dataclass(frozen=True)
class Link:
    url: str
    text: str  # the title (see ``pick_title``): the anchor's text or its @title, without a date printed in it
    node: etree._Element = field(repr=False, compare=False)
    target: str = field(default="", repr=False, compare=False)  # the URL as written (href, or mined from JS)
    printed: str | None = field(default=None, repr=False, compare=False)  # a date printed inside the anchor

    @cached_property
    def date(self) -> str | None:
        """The date a list shows with this link (see ``item_date``)."""
        return self.printed or item_date(self.node, self.text, self.target or None)


def _text(node: etree._Element, tail: bool = False) -> str:
    text = " ".join(_TEXT(node)) if isinstance(node.tag, str) else ""
    return text + " " + (node.tail or "") if tail else text


def _aux(node: etree._Element) -> bool:
    """A second link of one list row's item: [PDF], 下载, 附件, an icon."""
    return bool(_AUX.match(clean(_text(node))))


def _holds_other_link(node: etree._Element, target: str | None) -> bool:
    """Whether ``node`` holds another item's link (not this item's [PDF] or 下载 link)."""
    if not isinstance(node.tag, str):
        return False
    for candidate in _CANDIDATES(node):
        other = link_target(candidate)
        if other is not None and other != target and not _aux(candidate):
            return True
    return False


Piece = tuple[bool, str]  # (a line break, text)


def _element_pieces(sibling: etree._Element) -> list[Piece]:
    tag = sibling.tag if isinstance(sibling.tag, str) else ""
    return [(tag in _SEPARATORS, _text(sibling)), (False, sibling.tail or "")]


def _pieces(siblings: list[etree._Element]) -> list[Piece]:
    return [piece for sibling in siblings for piece in _element_pieces(sibling)]


def _after(node: etree._Element, target: str | None) -> tuple[list[Piece], bool]:
    """What follows ``node`` up to the next item's link, and whether one ends it."""
    pieces: list[Piece] = [(False, node.tail or "")]
    for sibling in node.itersiblings():
        if _holds_other_link(sibling, target):
            return pieces, True
        pieces += _element_pieces(sibling)
    return pieces, False


def _before(node: etree._Element, target: str | None) -> tuple[list[Piece], bool]:
    """What precedes ``node`` back to the previous item's link, and whether one starts it."""
    pieces: list[Piece] = []
    for sibling in node.itersiblings(preceding=True):
        if _holds_other_link(sibling, target):
            pieces.append((False, sibling.tail or ""))
            return pieces[::-1], True
        pieces += _element_pieces(sibling)[::-1]
    parent = node.getparent()
    pieces.append((False, (parent.text if parent is not None else None) or ""))
    return pieces[::-1], False


def _first_date(pieces: list[Piece]) -> str | None:
    return next((d for _, text in pieces if (d := iso_date(text))), None)


def _last_date(pieces: list[Piece]) -> str | None:
    return _first_date(pieces[::-1])


def _broken(pieces: list[Piece]) -> bool:
    return any(sep for sep, _ in pieces)


def _line_after(pieces: list[Piece]) -> list[Piece]:
    return pieces[: next((k for k, (sep, _) in enumerate(pieces) if sep), len(pieces))]


def _line_before(pieces: list[Piece]) -> list[Piece]:
    return _line_after(pieces[::-1])[::-1]


def _dates_lead(node: etree._Element, target: str | None) -> bool:
    """In a flat run of items with no line breaks: whether dates are printed before the
    titles (the run starts with a date and ends with none) rather than after them."""
    parent = node.getparent()
    if parent is None:
        return False
    return _first_date(_run_start(parent, node, target)) is not None and _first_date(_run_end(parent, node, target)) is None


def _is_item(child: etree._Element, node: etree._Element, target: str | None) -> bool:
    return child is node or _holds_other_link(child, target)


def _run_start(parent: etree._Element, node: etree._Element, target: str | None) -> list[Piece]:
    """What ``parent`` holds before its first item."""
    pieces: list[Piece] = [(False, parent.text or "")]
    for child in parent:
        if _is_item(child, node, target):
            break
        pieces += _element_pieces(child)
    return pieces


def _run_end(parent: etree._Element, node: etree._Element, target: str | None) -> list[Piece]:
    """What ``parent`` holds after its last item."""
    pieces: list[Piece] = []
    for child in reversed(parent):
        if _is_item(child, node, target):
            return [(False, child.tail or "")] + pieces[::-1]
        pieces += _element_pieces(child)[::-1]
    return pieces[::-1]


def _beside(node: etree._Element, target: str | None) -> str | None:
    """A date in the elements next to ``node``, up to the nearest one holding another
    item's link: following ones first (``<td>`` after ``<td>``, ``<dd>`` after ``<dt>``,
    ``<span>`` after ``<a>``), then preceding ones (a date printed before the title).
    In a flat run of items what lies between two titles is one item's: the line breaks
    (``<br>``) say whose, else the run's ends (a run starting with a date prints each
    date before its title)."""
    after, next_item = _after(node, target)
    before, previous_item = _before(node, target)
    if not (next_item or previous_item):
        return _first_date(after) or _last_date(before)
    if (_broken(after) or not next_item) and (_broken(before) or not previous_item) and (_broken(after) or _broken(before)):
        return _first_date(_line_after(after)) or _last_date(_line_before(before))
    if _dates_lead(node, target):
        return _last_date(before)
    return _first_date(after) or (None if previous_item else _last_date(before))


def item_date(anchor: etree._Element, title: str = "", target: str | None = None) -> str | None:
    """The date shown with a list link: inside the anchor beside the title, else in the
    elements around it (the next ``<td>``, a ``<span>`` after the link, the ``<dd>``
    after its ``<dt>``, a date ``<div>`` in the same item), climbing from the anchor
    while the ancestor holds no other item's link; a date inside the title itself last."""
    own = clean(_text(anchor))
    if date := iso_date(own.replace(title, " ") if title else own):
        return date
    target = target or link_target(anchor)
    node = anchor
    for _ in range(_CLIMB):
        if date := _beside(node, target):
            return date
        parent = node.getparent()
        if parent is None or _holds_other_link(parent, target):
            break
        node = parent
    return iso_date(own)


@dataclass
class Page:
    url: str
    status: int
    body: bytes
    content_type: str = ""

    @classmethod
    def from_response(cls, response) -> Page:
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1")
        return cls(response.url, response.status, response.body, ctype)

    @cached_property
    def decoded(self) -> tuple[str, str]:
        return decode(self.body, self.content_type)

    @property
    def text(self) -> str:
        return self.decoded[0]

    @property
    def encoding(self) -> str:
        return self.decoded[1]

    @cached_property
    def sel(self) -> Selector:
        return Selector(text=self.text or "<html></html>", type="html", base_url=self.url)  # JSON answers too

    @cached_property
    def _metas(self) -> dict[str, str]:
        """``<meta name=… content=…>`` by lower-cased name (the first non-empty one), read in one pass."""
        out: dict[str, str] = {}
        for element in _METAS(self.sel.root):
            name, content = (element.get("name") or "").lower(), (element.get("content") or "").strip()
            if name and content and name not in out:
                out[name] = content
        return out

    def meta(self, *names: str) -> str | None:
        for name in names:
            if value := self._metas.get(name.lower()):
                return value
        return None

    @cached_property
    def html_title(self) -> str:
        return clean(self.sel.xpath("//title/text()").get())

    @cached_property
    def base_url(self) -> str:
        """What relative URLs resolve against: the first ``<base href>`` (itself resolved
        against the page URL), else the page URL."""
        for href in _BASE(self.sel.root)[:1]:
            base = urljoin(self.url, href.strip())
            if href.strip() and urlsplit(base).scheme in ("http", "https"):
                return base
        return self.url

    def absolute(self, href: str) -> str | None:
        """``href`` as an absolute http(s) URL; a ``javascript:`` href gives the URL it opens."""
        href = (href or "").strip()
        if href.lower().startswith("javascript:"):
            href = _js_url(href) or ""
        if not _real_href(href):
            return None
        url = urljoin(self.base_url, href)
        return url.split("#", 1)[0] if urlsplit(url).scheme in ("http", "https") else None

    @cached_property
    def _site_names(self) -> frozenset[str]:
        """The site's and the page's names (an @title some portals give every link)."""
        names = {clean(part) for part in re.split(r"[_|｜\-—–]+", self.html_title)} | {self.html_title}
        names |= {clean(self.meta(n) or "") for n in ("SiteName", "ColumnName")}
        return frozenset(n for n in names if n)

    def _link(self, node: etree._Element) -> Link | None:
        if not isinstance(node.tag, str):
            return None
        if node.tag == "a":
            target = link_target(node) or _row_target(node)
            text = "".join(_TEXT(node))
        elif _ANCHOR_COUNT(node):
            return None  # a row that opens on click: its <a> is the link
        else:
            target, text = link_target(node), " ".join(_TEXT(node))
        url = self.absolute(target) if target else None
        if url is None:
            return None
        text, printed = split_date(clean(text))
        attr, _ = split_date(clean(node.get("title")))
        return Link(url, pick_title(text, attr, self._site_names), node, target, printed)

    def links(self, selector: str | None = None) -> list[Link]:
        nodes = [s.root for s in self.sel.css(selector)] if selector else _LINK_NODES(self.sel.root)
        return [link for node in nodes if isinstance(node, etree._Element) and (link := self._link(node))]

    @cached_property
    def visible_lines(self) -> list[str]:
        """The page's text nodes outside scripts and styles, one per line."""
        return [line for line in (clean(n) for n in _VISIBLE_TEXT(self.sel.root)) if line]
