"""What a CMS family profile returns, and the helpers all families share.

A profile reads one list page and returns the column's items (URL, title as
listed, visible date) and the next list request(s); the spider does the
fetching, selection and attribution. Profiles never touch the network, so each
is tested against saved pages.

Items are the links of the family's detail-URL shape, and any other link whose
title names a report (a direct PDF, a ``downfile.jsp`` attachment, a page of
another column or CMS): the detail page or the attachment decides later. The
pager is a 下一页 link however it is written (``下一页>``, ``[下一页]``, ``后一页``,
``Next »``, an arrow, an ``<img alt="下一页">``), else the numbered page links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree

from ..page import Link, Page, clean
from ..selection import judge

_NEXT_WORD = re.compile(r"^(?:下一?[页頁]|[后後]一?[页頁]|next(?:page)?)$", re.I)
_NEXT_ARROW = frozenset(">›»＞→〉")
# brackets, arrows and punctuation around a pager label: 下一页>, [下一页], 下一页 », 【后一页】
_DECOR = re.compile(r"[\s\[\]【】()（）<>＜＞《》«»‹›〈〉→←.·…:：|_\-]+")
_PAGE_NO = re.compile(r"^[\[【(（]?\s*(\d{1,3})\s*[\]】)）]?$")
_INDEX_DOC = re.compile(r"/(?:index|default)\.(?:s?html?|aspx?|jsp|php)$", re.I)
# a document, by its URL (the extension may be missing: downfile.jsp, download.jsp?id=)
_DOCUMENT = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|ofd|zip|rar)(?:$|[?#])|/(?:downfile|download)\w*\.(?:jsp|aspx?|php|do)", re.I)
_YEAR_FIRST = re.compile(r"^\s*(?:(?:19|20)\d{2}|二[〇○零0O][〇○零0O一二三四五六七八九]{2})\s*年")
_COLUMN_URL = re.compile(r"(?:/|/(?:index|list|default)(?:_\d+)?\.\w+)$", re.I)
_REPORTISH = re.compile(r"年报|年度报告|信息公开|政务公开")
_TEXT = etree.XPath(".//text()", smart_strings=False)
_IMAGES = etree.XPath(".//img", smart_strings=False)
_ANCHORS = etree.XPath(".//a[@href]", smart_strings=False)
_PAGER_CLIMB = 3  # ancestors of a numbered link searched for the pager that holds the others


@dataclass(frozen=True)
class Entry:
    url: str
    title: str
    date: str | None  # as shown next to the item in the list, YYYY-MM-DD


@dataclass(frozen=True)
class Follow:
    """A further list request; ``context`` travels with it to the next ``parse``."""

    url: str
    method: str = "GET"
    formdata: dict[str, str] | None = None
    context: dict = field(default_factory=dict)
    json: dict | None = None  # a JSON request body (list APIs)
    headers: dict[str, str] | None = None


@dataclass
class Listing:
    entries: list[Entry]
    follow: list[Follow]
    shell: bool = False  # the page holds no items by design: they come from ``follow`` (a JS shell's API)


class Profile:
    """A CMS family. Subclasses set ``name`` and override ``parse`` (and ``start`` if needed)."""

    name = "base"
    detail_pattern: re.Pattern | None = None  # item URLs of this family

    def __init__(self, selectors: dict[str, str] | None = None):
        self.selectors = selectors or {}

    def start(self, url: str) -> Follow:
        return Follow(url)

    def parse(self, page: Page, context: dict) -> Listing:
        return Listing(self.entries(page), self.next_links(page))

    def canonical(self, url: str) -> str:
        return url

    def entries(self, page: Page, links: list[Link] | None = None) -> list[Entry]:
        links = page.links(self.selectors.get("item")) if links is None else links
        out: dict[str, Entry] = {}
        for link in links:
            url = self.canonical(link.url)
            if url not in out and self._is_item(link, url):
                out[url] = Entry(url, link.text, link.date)
        return list(out.values())

    def _is_item(self, link: Link, url: str) -> bool:
        if self.selectors.get("item"):
            return True  # the portal's own selector says what an item is
        if self.detail_pattern is not None and self.detail_pattern.search(url):
            return True
        if self.detail_pattern is None and _looks_listed(link):
            return True
        return titled_report(link)

    def next_links(self, page: Page) -> list[Follow]:
        selector = self.selectors.get("next")
        if selector:
            links = page.links(selector)
            return [Follow(links[0].url)] if links else []
        links = page.links()
        elsewhere = [link for link in links if not same_page(link.url, page.url)]
        for found in (next_link(elsewhere, words=True), next_link(elsewhere, words=False)):
            if found is not None:
                return [Follow(found.url)]
        return numbered_next(page, links)


def _looks_listed(link: Link) -> bool:
    """Without a family URL pattern: a link in a list row that carries a date."""
    return len(link.text) >= 6 and link.date is not None


def is_document(url: str, text: str = "") -> bool:
    """A link to a document file (PDF, Word, WPS, Excel …), by its URL or its text."""
    return bool(_DOCUMENT.search(url) or _DOCUMENT.search(text.strip()))


def titled_report(link: Link) -> bool:
    """A link off the family's item shape that is still a report row: its title names a
    report, or is a title cut short (…) on a dated row or a document link. A menu link
    (首页, 政务公开, 年报专栏) names no year and no report, so it never counts."""
    verdict = judge(link.text)
    if verdict.kind == "report":
        # a year's tab (2024年度政府信息公开年报 → 2024n/) is a column, read as one (listing.year_columns)
        return verdict.agency is not None or not _COLUMN_URL.search(urlsplit(link.url).path)
    if verdict.kind != "maybe":
        return False
    if is_document(link.url, link.text):
        return True
    # a dated row cut short; "2024年…" alone (any news item's start) must name a report too
    return link.date is not None and (not _YEAR_FIRST.match(link.text) or bool(_REPORTISH.search(link.text)))


# ---- pagers ---------------------------------------------------------------------------------


def same_page(a: str, b: str) -> bool:
    """Two URLs of one page: ``…/col/`` and ``…/col/index.html``, with or without a fragment."""
    return _page_key(a) == _page_key(b)


def _page_key(url: str) -> str:
    parts = urlsplit(url.split("#", 1)[0])
    path = _INDEX_DOC.sub("/", parts.path or "/")
    return f"{parts.netloc.lower()}{path}?{parts.query}"


def labels(link: Link) -> list[str]:
    """What a link says: its title, its text, its aria-label, and the alt/title of its images."""
    node = link.node
    out = [link.text, clean("".join(_TEXT(node))), clean(node.get("aria-label"))]
    for img in _IMAGES(node):
        out += [clean(img.get("alt")), clean(img.get("title"))]
    return [text for text in out if text]


def is_next_label(text: str, words: bool = True) -> bool:
    """A pager's "next page" label, however decorated: ``下一页>``, ``[下一页]``, ``下一页 »``,
    ``后一页``, ``下页``, ``Next``; with ``words`` off, a lone arrow (``>``, ``›``, ``»``)."""
    if words:
        return bool(_NEXT_WORD.match(_DECOR.sub("", text)))
    return text.strip() in _NEXT_ARROW


def next_link(links: list[Link], words: bool = True) -> Link | None:
    return next((link for link in links if any(is_next_label(t, words) for t in labels(link))), None)


def numbered_next(page: Page, links: list[Link]) -> list[Follow]:
    """A pager of page numbers only (``1 2 3 4``, ``[1] [2]``): the link numbered one
    more than the page shown as current (unlinked, or linking to itself). A number linking
    where a title links too (a row's serial number) or to a document is no page."""
    texts = [(link, clean("".join(_TEXT(link.node)))) for link in links]
    titled = {link.url for link, text in texts if not _PAGE_NO.match(text) and len(text) >= 6}
    boxes: dict[etree._Element, dict[int, str]] = {}
    for link, text in texts:
        m = _PAGE_NO.match(text)
        if m and int(m.group(1)) >= 1 and link.url not in titled and not is_document(link.url):
            boxes.setdefault(_pager_box(link.node), {}).setdefault(int(m.group(1)), link.url)
    for box, numbered in boxes.items():
        current = _current_number(page, box, numbered)
        if current is None:
            continue
        later = sorted(n for n in numbered if n > current and not same_page(numbered[n], page.url))
        if later:
            return [Follow(numbered[later[0]])]
    return []


def _pager_box(anchor: etree._Element) -> etree._Element:
    """The nearest ancestor of a numbered link that holds other links too (the pager)."""
    node = anchor.getparent()
    for _ in range(_PAGER_CLIMB):
        if node is None or len(_ANCHORS(node)) >= 2:
            break
        node = node.getparent()
    return node if node is not None else anchor


def _current_number(page: Page, box: etree._Element, numbered: dict[int, str]) -> int | None:
    """The page shown as current in a numbered pager: a number linking to this page, else an
    unlinked number, else the first number missing among the links."""
    own = [n for n, url in numbered.items() if same_page(url, page.url)]
    if own:
        return own[0]
    plain = [n for n in _unlinked_numbers(page, box) if n not in numbered]
    if plain:
        return plain[0]
    if len(numbered) < 2:
        return 1 if 2 in numbered else None  # a lone "2" is page 2 of two; a lone "1" or "[3]" is a footnote
    return next(n for n in range(1, max(numbered) + 2) if n not in numbered)


def _unlinked_numbers(page: Page, box: etree._Element) -> list[int]:
    """Numbers printed in the pager outside any real link (``<span class="current">2</span>``,
    ``<a href="javascript:;">2</a>``)."""
    out: list[int] = []

    def take(text: str | None) -> None:
        m = _PAGE_NO.match(clean(text))
        if m:
            out.append(int(m.group(1)))

    def walk(node: etree._Element) -> None:
        if not isinstance(node.tag, str):
            return
        if node.tag == "a" and page.absolute(node.get("href", "")) is not None:
            return
        take(node.text)
        for child in node:
            walk(child)
            take(child.tail)

    walk(box)
    return out
