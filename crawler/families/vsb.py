"""VSB 博达站群: ``col.htm`` then ``col/{N-1}.htm`` … ``col/1.htm`` (pages numbered
backwards, count in ``_simple_list_gotopage_fun(N, …)``), items ``../info/{col}/{id}.htm``."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from ..page import Page
from .base import Follow, Listing, Profile

_GOTO = re.compile(r"_simple_list_gotopage_fun\(\s*(\d+)")


class VsbProfile(Profile):
    name = "vsb"
    detail_pattern = re.compile(r"/info/\d+/\d+\.htm$")

    def parse(self, page: Page, context: dict) -> Listing:
        follow = self.next_links(page)
        if not follow and not re.search(r"/\d+\.htm$", page.url):
            m = _GOTO.search(page.text)
            if m and int(m.group(1)) > 1:
                stem = page.url.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                follow = [Follow(urljoin(page.url, f"{stem}/{int(m.group(1)) - 1}.htm"))]
        return Listing(self.entries(page), follow)
