"""TRS WCM static publishing: index.html, index_1.html … from ``countPage`` / ``createPageHTML``.

The pager is written by ``document.write`` at run time, so the static page has
no pager anchors: the page count and file name come from the script. Items are
``./YYYYMM/tYYYYMMDD_ID.html`` (``.htm``/``.shtml``); ``_wap`` twins are the
same report. The ``common_list_N.shtml`` variant is handled the same way.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from ..page import Page
from .base import Follow, Listing, Profile

_CREATE = re.compile(r"createPageHTML\(\s*(?:'[\w-]+'\s*,\s*)?(\d+)\s*,\s*(\d+)\s*,\s*[\"']([\w-]+)[\"']\s*,\s*[\"'](\w+)[\"']")
_COUNT = re.compile(r"\bcountPage\s*=\s*(\d+)")
_CURRENT = re.compile(r"\bcurrentPage\s*=\s*(\d+)")
_WAP = re.compile(r"_wap(\.s?html?)$")


class TrsProfile(Profile):
    name = "trs"
    detail_pattern = re.compile(r"/t\d{8}_\d+(?:_\d+)?\.s?html?$")

    def canonical(self, url: str) -> str:
        return _WAP.sub(r"\1", url)

    def parse(self, page: Page, context: dict) -> Listing:
        return Listing(self.entries(page), self._next(page) or self.next_links(page))

    def _next(self, page: Page) -> list[Follow]:
        m = _CREATE.search(page.text)
        if m:
            count, current, name, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        else:
            count_m, current_m = _COUNT.search(page.text), _CURRENT.search(page.text)
            if not count_m:
                return []
            count, current = int(count_m.group(1)), int(current_m.group(1)) if current_m else 0
            name, ext = "index", ("shtml" if page.url.endswith(".shtml") else "html")
        if current + 1 >= count:
            return []
        return [Follow(urljoin(page.url, f"{name}_{current + 1}.{ext}"))]
