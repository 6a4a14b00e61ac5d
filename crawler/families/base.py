"""What a CMS family profile returns, and the helpers all families share.

A profile reads one list page and returns the column's items (URL, title as
listed, visible date) and the next list request(s); the spider does the
fetching, selection and attribution. Profiles never touch the network, so each
is tested against saved pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..page import Link, Page

_NEXT_TEXT = re.compile(r"^(?:下一页|下页|后页|下一頁|next|>|›|»)$", re.I)


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
            if self.selectors.get("item"):
                pass  # the portal's own selector says what an item is
            elif self.detail_pattern is not None:
                if not self.detail_pattern.search(url):
                    continue
            elif not _looks_listed(link):
                continue
            if url not in out:
                out[url] = Entry(url, link.text, link.date)
        return list(out.values())

    def next_links(self, page: Page) -> list[Follow]:
        selector = self.selectors.get("next")
        links = page.links(selector) if selector else [l for l in page.links() if _NEXT_TEXT.match(l.text)]
        return [Follow(links[0].url)] if links else []


def _looks_listed(link: Link) -> bool:
    """Without a family URL pattern: a link in a list row that carries a date."""
    return len(link.text) >= 6 and link.date is not None
