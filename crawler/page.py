"""A fetched page, decoded the way portals need, with its links and dates.

Scrapy decodes by the header charset first; portals mislabel GBK as UTF-8, so
pages are decoded by ``archive.encoding.decode`` (strict UTF-8 first, then the
declared charset, then GB18030) and parsed with parsel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from archive.encoding import decode

_DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_SPACE = re.compile(r"\s+")
# compiled once, run on the lxml tree directly: parsel wraps every result node in a
# Selector, which costs more than the query itself on pages with hundreds of text nodes
_VISIBLE_TEXT = etree.XPath("//body//text()[not(parent::script) and not(parent::style)]", smart_strings=False)
_ANCHORS = etree.XPath("//a[@href]")
_METAS = etree.XPath("//meta[@name]")
_TEXT = etree.XPath(".//text()", smart_strings=False)
_HREFS = etree.XPath("descendant-or-self::a/@href", smart_strings=False)
_CLIMB = 4  # ancestors of a list link searched for its date (td → tr, dt → dl …)


def iso_date(text: str | None) -> str | None:
    """The first date in ``text`` as YYYY-MM-DD (2025-1-7, 2025/01/07, 2025年1月7日, 2025.01.07)."""
    if not text:
        return None
    m = _DATE.search(text)
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def clean(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip()


@dataclass(frozen=True)
class Link:
    url: str
    text: str  # the anchor's title attribute when it has one (lists cut the text short), else its text
    node: etree._Element = field(repr=False, compare=False)

    @cached_property
    def date(self) -> str | None:
        """The date a list shows with this link (see ``item_date``)."""
        return item_date(self.node, self.text)


def _text(node: etree._Element, tail: bool = False) -> str:
    text = " ".join(_TEXT(node)) if isinstance(node.tag, str) else ""
    return text + " " + (node.tail or "") if tail else text


def _holds_other_link(node: etree._Element, href: str) -> bool:
    return isinstance(node.tag, str) and any(h != href for h in _HREFS(node))


def _beside(node: etree._Element, href: str) -> str | None:
    """A date in the elements next to ``node``, up to the nearest one holding another
    item's link: following ones first (``<td>`` after ``<td>``, ``<dd>`` after ``<dt>``,
    ``<span>`` after ``<a>``), then preceding ones (a date printed before the title) when
    nothing but this item precedes it (in a flat run of items, what precedes a title is
    the previous item's)."""
    if date := iso_date(node.tail):
        return date
    for sibling in node.itersiblings():
        if _holds_other_link(sibling, href):
            break
        if date := iso_date(_text(sibling, tail=True)):
            return date
    before = []
    for sibling in node.itersiblings(preceding=True):
        if _holds_other_link(sibling, href):
            return None  # a flat run of items: what precedes is the previous item's
        before.append(sibling)
    for sibling in before:
        if date := iso_date(_text(sibling, tail=True)):
            return date
    return None


def item_date(anchor: etree._Element, title: str = "") -> str | None:
    """The date shown with a list link: inside the anchor beside the title, else in the
    elements around it (the next ``<td>``, a ``<span>`` after the link, the ``<dd>``
    after its ``<dt>``, a date ``<div>`` in the same item), climbing from the anchor
    while the ancestor holds no other item's link; a date inside the title itself last."""
    own = clean(_text(anchor))
    if date := iso_date(own.replace(title, " ") if title else own):
        return date
    href, node = anchor.get("href", ""), anchor
    for _ in range(_CLIMB):
        if date := _beside(node, href):
            return date
        parent = node.getparent()
        if parent is None or _holds_other_link(parent, href):
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

    def absolute(self, href: str) -> str | None:
        href = (href or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
            return None
        url = urljoin(self.url, href)
        return url.split("#", 1)[0] if urlsplit(url).scheme in ("http", "https") else None

    def links(self, selector: str | None = None) -> list[Link]:
        anchors = [s.root for s in self.sel.css(selector)] if selector else _ANCHORS(self.sel.root)
        out = []
        for a in anchors:
            if not isinstance(a, etree._Element):
                continue
            url = self.absolute(a.get("href", ""))
            if url is None:
                continue
            out.append(Link(url, clean(a.get("title") or "".join(_TEXT(a))), a))
        return out

    @cached_property
    def visible_lines(self) -> list[str]:
        """The page's text nodes outside scripts and styles, one per line."""
        return [line for line in (clean(n) for n in _VISIBLE_TEXT(self.sel.root)) if line]
