"""CMS family profiles, and detection of the family from a first list page (``auto``).

Detection weighs the evidence of every family and takes the strongest, not the
first found. A family's own pager or shell script (``createPageHTML``,
``window._CONFIG``, a ``<datastore>``) comes first: the page was made by that
CMS, and its profile keeps report rows of any link shape. Then the links of the
family's item shape, each counting more in a dated row and much more when its
title names a report: one stray link of another CMS (a 通知 box, a sidebar)
does not outweigh the list itself.
"""

from __future__ import annotations

import re

from ..page import Link, Page
from ..selection import judge
from .base import Entry, Follow, Listing, Profile
from .gdpost import GdpostProfile
from .gkmlpt import GkmlptProfile
from .hanweb import HanwebProfile
from .nextlink import NextLinkProfile
from .shtml_uuid import ShtmlUuidProfile
from .trs import TrsProfile
from .vsb import VsbProfile

PROFILES: dict[str, type[Profile]] = {
    p.name: p for p in (TrsProfile, GdpostProfile, GkmlptProfile, HanwebProfile, ShtmlUuidProfile, VsbProfile, NextLinkProfile)
}

# (family, its pager or shell script, its item URLs as they appear in the raw page: script
# data, CDATA). The order breaks ties.
_SIGNS = (
    ("gkmlpt", re.compile(r"window\._CONFIG|\b_CONFIG\s*=\s*\{[^}]*\bSID\b"), re.compile(r"/gkmlpt/content/\d+/\d+/post_\d+")),
    ("hanweb", re.compile(r"<datastore>|dataproxy\.jsp|jpage"), re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html")),
    ("trs", re.compile(r"createPageHTML|\bcountPage\s*=|\b_nPageCount\s*="), re.compile(r"/t\d{8}_\d+\.s?html?")),
    ("vsb", re.compile(r"_simple_list_gotopage_fun"), re.compile(r"/info/\d+/\d+\.htm")),
    ("gdpost", None, re.compile(r"/content/post_\d+\.html")),
    ("shtml_uuid", None, re.compile(r"/\d{6}/[0-9a-f]{32}\.shtml")),
)
REPORT_WEIGHT = 6  # a row titled as a report outweighs a few stray dated links
_SHELL_URL = {"gkmlpt": re.compile(r"/gkmlpt/")}  # the page's own URL names the family


def detect(page: Page) -> str:
    """The family with the strongest evidence on the page; ``nextlink`` when none has any."""
    links = page.links()
    scores = {name: score(page, links, name, script, raw) for name, script, raw in _SIGNS}
    best = max(scores.values())
    if best <= (False, 0):
        return "nextlink"
    return next(name for name, _, _ in _SIGNS if scores[name] == best)


def score(page: Page, links: list[Link], name: str, script: re.Pattern | None, raw: re.Pattern) -> tuple[bool, int]:
    """One family's evidence: whether the page runs the family's own pager or shell script,
    then its item links (weighted by how list-like they are), item URLs only in the raw page
    (scripts, CDATA), and the page's own URL."""
    prof = PROFILES[name]()
    items = {prof.canonical(link.url): link for link in links if prof.detail_pattern.search(prof.canonical(link.url))}
    weight = sum(_item_weight(link) for link in items.values())
    weight += max(len(set(raw.findall(page.text))) - len(items), 0)
    if name in _SHELL_URL and _SHELL_URL[name].search(page.url):
        weight += 1
    return bool(script is not None and script.search(page.text)), weight


def _item_weight(link: Link) -> int:
    """1 for a link of the family's shape, +1 in a dated row, +REPORT_WEIGHT when its title
    names a report (a 年报 column's rows do; a 通知 box's or a sidebar's mostly do not)."""
    return 1 + (link.date is not None) + REPORT_WEIGHT * (judge(link.text).kind in ("report", "maybe"))


def profile(name: str, selectors: dict[str, str] | None = None) -> Profile:
    return PROFILES[name](selectors)


__all__ = ["PROFILES", "Entry", "Follow", "Listing", "Profile", "detect", "profile"]
