"""One list page read in full: the family profile's items and pager, the items the
page hides (comments, script JSON, JSON answers: ``crawler.embedded``), the
list API the page calls when it shows no pager of its own (``crawler.listapi``),
and the per-year sub-columns of a 年报 column (2023年度 / 2024年度 …).

Like the profiles, this never touches the network: the spider fetches what
``follow`` and ``columns`` name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from archive.normalize import chinese_year

from .embedded import comments, hidden_entries, parse_json
from .families.base import Entry, Follow, Profile, is_document
from .listapi import find_calls, next_request, request, stated_total
from .page import Page, clean
from .selection import MIN_YEAR

_SCRIPTS = etree.XPath("//script[not(@src)]/text()", smart_strings=False)
# a year tab names the year, perhaps the kind of report it holds and 专栏 (2024, 2024年度,
# 2024年度政府信息公开年报, 2024年政府信息公开工作年度报告专栏): no body's name, no date beside
# it (those are a list's items), and a report's full name only as a 专栏 (else it is a report)
_YEAR_COLUMN = re.compile(
    r"^((?:19|20)\d{2}|[〇零一二三四五六七八九]{4})\s*(?:年度?)?\s*"
    r"(?:(?:(?:政府信息公开|政务公开|信息公开)?年报|报告|年度报告)?\s*(?:专栏|栏目)?"
    r"|(?:政府信息公开|政务公开|信息公开)(?:工作)?(?:年度)?(?:报告|年报)\s*(?:专栏|栏目))$"
)
_OPTIONS = etree.XPath("//select/option[@value]")


@dataclass
class ListRead:
    entries: list[Entry]
    follow: list[Follow]
    columns: list[str] = field(default_factory=list)  # per-year sub-columns to walk as lists of their own
    sources: set[str] = field(default_factory=set)  # where items were read: markup, comment, script, json, api
    shell: bool = False  # the page's items come from ``follow`` by design
    total: int | None = None  # the records a list API's answer says the list holds


def script_texts(page: Page) -> list[str]:
    """Inline scripts, and scripts left in comments (a pager call commented out stays a pager)."""
    return list(_SCRIPTS(page.sel.root)) + comments(page)


def year_columns(page: Page, prof: Profile, this_year: int) -> list[str]:
    """Links to per-year sub-columns of the column (``2024年度``, ``2023年``, ``二〇二三年度年报``):
    each is a list of its own. A dated link is a list item, not a tab."""
    out = []
    # a year menu as links (tabs) or as a drop-down list whose options name the years' pages
    menu = [(link.text, link.url, link.date) for link in page.links()]
    menu += [(o.text or "", page.absolute(o.get("value")), None) for o in _OPTIONS(page.sel.root) if _page_value(o.get("value"))]
    for text, url, date in menu:
        m = _YEAR_COLUMN.match(clean(text).replace(" ", ""))
        if not m or not url or url == page.url or url in out or date is not None:
            continue
        if (prof.detail_pattern is not None and prof.detail_pattern.search(url)) or is_document(url):  # a report itself, no tab
            continue
        if MIN_YEAR <= (chinese_year(m.group(1)) or 0) <= this_year + 1:
            out.append(url)
    return out


def _page_value(value: str | None) -> bool:
    """An option's value that is a page's address (not an empty choice or a script's key)."""
    value = (value or "").strip()
    return bool(value) and ("/" in value or value.endswith((".html", ".htm", ".shtml", ".jsp")))


def read_list(prof: Profile, page: Page, context: dict, this_year: int, top: bool = False) -> ListRead:
    """Everything a list page offers. ``top``: the first page of a configured start URL
    (where per-year sub-columns are looked for)."""
    body = parse_json(page.text)
    if "api" in context:  # an answer of the list API a column page calls
        entries, sources = hidden_entries(page, prof.entries, body)
        nxt = next_request(body, len(entries), context)
        return ListRead(entries, [nxt] if nxt else [], [], sources | {"api"}, total=stated_total(body))
    listing = prof.parse(page, context)
    found = {e.url: e for e in listing.entries}
    sources = {"markup"} if found else set()
    hidden, where = hidden_entries(page, prof.entries, body)
    for e in hidden:
        if e.url not in found:
            found[e.url] = e
            sources |= where
        elif found[e.url].date is None and e.date:
            found[e.url] = e
    follow, shell = listing.follow, listing.shell
    if not follow and body is None:
        follow = [request(call, 1, context=context) for call in find_calls(page, script_texts(page))]
        shell = shell or bool(follow and not found)
    columns = year_columns(page, prof, this_year) if top else []
    shell = shell or bool(columns and not found)  # a column of year tabs: the items are in the tabs
    return ListRead(list(found.values()), follow, columns, sources, shell)
