"""Guangdong 集约化 platform: ``content/post_N.html`` items, ``index_2.html`` as page 2."""

from __future__ import annotations

import re

from ..page import Page
from .base import Follow, Listing, Profile

_INDEX = re.compile(r"/index(?:_(\d+))?\.html$")


class GdpostProfile(Profile):
    name = "gdpost"
    detail_pattern = re.compile(r"/content/(?:\d+/\d+/)?(?:mpost|post)_\d+\.html$")

    def parse(self, page: Page, context: dict) -> Listing:
        follow = self.next_links(page)
        if not follow:
            m = _INDEX.search(page.url)
            current = int(m.group(1) or 1) if m else 1
            numbered = {}
            for link in page.links():
                n = _INDEX.search(link.url)
                if n and n.group(1):
                    numbered[int(n.group(1))] = link.url
            if current + 1 in numbered:
                follow = [Follow(numbered[current + 1])]
        return Listing(self.entries(page), follow)
