"""List items a page carries outside its visible markup.

Real portals hide lists where a link walker never looks: CMS templates comment
out the static list and re-render it by script (the items sit in an HTML
comment), template engines render an ``articleList``-style JSON array from a
``<script>``, and search APIs answer JSON whose records carry the title, the
URL and the date under names of their own (``DOCTITLE``/``DOCPUBURL``,
``title``/``url``, ``name``/``link`` …) or carry the rendered ``<li>`` markup
as a string. This module finds them all, by shape rather than by name:

* an array of objects with a title-like and a URL-like field is a list, each
  object an item (its date from a date-like field: text or epoch seconds/ms);
* a string holding ``<a href>`` markup is a fragment of a list page;
* an HTML comment holding markup is a fragment of the page.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import chompjs
from lxml import etree

from .families.base import Entry
from .page import Page, clean, iso_date

_CHINA = timezone(timedelta(hours=8))
_SCRIPTS = etree.XPath("//script[not(@src)]/text()", smart_strings=False)
_COMMENTS = etree.XPath("//comment()")
_TAGS = re.compile(r"<[^>]+>")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MARKUP = re.compile(r"<a\s[^>]*href", re.I)
_URLISH = re.compile(r"^(?:https?://|//|/|\./|\.\./)|^[\w%.-]+(?:/[\w%.-]+)*\.(?:s?html?|jsp|php|aspx?|do)(?:[?#]|$)", re.I)
_STAMP = re.compile(r"^/?Date\((\d{10,13})")
# field names, most telling first; matched on the lower-cased name with _ and - dropped
_TITLE_NAMES = ("doctitle", "articletitle", "title", "biaoti", "bt", "subject", "name", "text", "label")
_URL_NAMES = ("docpuburl", "puburl", "docurl", "detailurl", "linkurl", "url", "href", "link", "posturl", "pageurl", "path")
_DATE_NAMES = (
    (
        "docreltime",
        "pubdate",
        "publishdate",
        "publishtime",
        "pubtime",
        "releasetime",
        "reltime",
        "fbrq",
        "fbsj",
        "displaypublishtime",
    ),
    ("date", "time", "rq", "sj", "day"),
    ("create", "crtime", "addtime", "inputtime"),
)
_LATER_DATES = ("update", "modif", "edit", "last")  # a page's regeneration time, not its publication
MIN_TITLE = 4
JSON_START = re.compile(r"^\s*(?:[\w$.]+\s*\()?\s*[\[{]")  # JSON, or JSONP callback(…)


def _norm(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _by_names(record: dict, names: tuple[str, ...], accept: Callable[[Any], bool]) -> tuple[str, Any] | None:
    keys = {_norm(k): k for k in record if isinstance(k, str)}
    for name in names:
        for norm, key in keys.items():
            if (norm == name or (len(name) > 3 and name in norm)) and accept(record[key]):
                return key, record[key]
    return None


def _title_value(value: Any) -> bool:
    return isinstance(value, str) and len(clean(_TAGS.sub("", value))) >= MIN_TITLE and not _URLISH.match(value.strip())


_NOT_ITEMS = re.compile(r"\.(?:jpe?g|png|gif|svg|ico|css|js)(?:[?#]|$)", re.I)


def _url_value(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    value = value.strip()
    return bool(_URLISH.match(value)) and " " not in value and not _NOT_ITEMS.search(value)


def record_date(value: Any) -> str | None:
    """A record's date: text (2025-01-20, 2025年1月20日 …), epoch seconds or
    milliseconds (China time), or a ``/Date(ms)/`` stamp."""
    if isinstance(value, str):
        m = _STAMP.match(value.strip())
        value = int(m.group(1)) if m else value
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10**11 else value
        if 946_684_800 <= seconds <= 4_102_444_800:  # 2000 … 2100
            return datetime.fromtimestamp(seconds, _CHINA).strftime("%Y-%m-%d")
        return None
    return iso_date(value) if isinstance(value, str) else None


def _date_of(record: dict) -> str | None:
    keys = [k for k in record if isinstance(k, str) and not any(w in _norm(k) for w in _LATER_DATES)]
    for names in _DATE_NAMES:
        for name in names:
            for key in keys:
                if name in _norm(key) and (date := record_date(record[key])):
                    return date
    return None


def as_item(record: dict) -> tuple[str, str, str | None] | None:
    """(title, url, date) of a JSON object that describes a list item, else None. Field
    names decide first; without telling names, a CJK title-like string and a URL-like
    string in the same object do."""
    title = _by_names(record, _TITLE_NAMES, _title_value)
    url = _by_names(record, _URL_NAMES, _url_value)
    if title is None:
        texts = [v for v in record.values() if _title_value(v) and _CJK.search(v)]
        title = ("", max(texts, key=len)) if texts else None
    if url is None:
        urls = [v for v in record.values() if _url_value(v)]
        url = ("", urls[0]) if urls else None
    if title is None or url is None:
        return None
    return clean(html.unescape(_TAGS.sub("", title[1]))), html.unescape(url[1].strip()), _date_of(record)


def _walk(value: Any, depth: int = 0) -> Iterator[Any]:
    yield value
    if depth > 12:
        return
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        if isinstance(child, (dict, list)):
            yield from _walk(child, depth + 1)


def json_items(value: Any) -> tuple[list[tuple[str, str, str | None]], list[str]]:
    """Every item of every list inside a JSON value, and the strings in it that hold markup."""
    items, fragments = [], []
    for node in _walk(value):
        if isinstance(node, list):
            items += [item for r in node if isinstance(r, dict) and (item := as_item(r)) is not None]
        elif isinstance(node, dict):
            fragments += [v for v in node.values() if isinstance(v, str) and _MARKUP.search(v)]
    if isinstance(value, list):
        fragments += [v for v in value if isinstance(v, str) and _MARKUP.search(v)]
    return items, fragments


def parse_json(text: str) -> Any | None:
    """A JSON (or JSONP) body, else None."""
    if not JSON_START.match(text[:200]):
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return chompjs.parse_js_object(text)
    except (ValueError, TypeError):
        return None


def script_values(text: str) -> list[Any]:
    """The object and array literals in a script (``var articleList = [{…}]`` …)."""
    if "{" not in text:
        return []
    try:
        return list(chompjs.parse_js_objects(text))
    except (ValueError, TypeError):
        return []


def comments(page: Page) -> list[str]:
    """HTML comments of the page that hold markup (a commented-out list, a pager call)."""
    return [c.text for c in _COMMENTS(page.sel.root) if c.text and ("<" in c.text or "(" in c.text)]


def fragment(page: Page, markup: str) -> Page:
    """Markup found inside a page (a comment, a JSON string) as a page of its own, at the same URL."""
    return Page(page.url, page.status, f"<html><body>{markup}</body></html>".encode(), "text/html; charset=utf-8")


def hidden_entries(page: Page, markup_entries: Callable[[Page], list[Entry]], body: Any = ...) -> tuple[list[Entry], set[str]]:
    """Items of a list page found outside its visible markup, and where they were found
    (``comment``, ``script``, ``json``). ``markup_entries`` reads a fragment of markup
    the way the page's family reads its visible list; ``body`` is the page parsed as
    JSON when the caller has done so (None: not JSON)."""
    found: dict[str, Entry] = {}
    sources: set[str] = set()

    def add(entries: list[Entry], source: str) -> None:
        for e in entries:
            if e.url not in found or (found[e.url].date is None and e.date):
                found[e.url] = e
                sources.add(source)

    def from_json(value: Any, source: str) -> None:
        items, fragments = json_items(value)
        add([Entry(u, t, d) for t, url, d in items if (u := page.absolute(url))], source)
        for markup in fragments:
            add(markup_entries(fragment(page, markup)), source)

    body = parse_json(page.text) if body is ... else body
    if body is not None:
        from_json(body, "json")
        return list(found.values()), sources
    for text in comments(page):
        if _MARKUP.search(text):
            add(markup_entries(fragment(page, text)), "comment")
        for value in script_values(text):
            from_json(value, "comment")
    for text in _SCRIPTS(page.sel.root):
        for value in script_values(text):
            from_json(value, "script")
    return list(found.values()), sources
