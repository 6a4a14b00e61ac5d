"""CMS family profiles, and detection of the family from a first list page (``auto``)."""

from __future__ import annotations

import re

from ..page import Page
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

_SIGNS = (
    ("gkmlpt", re.compile(r"window\._CONFIG|/gkmlpt/")),
    ("hanweb", re.compile(r"<datastore>|dataproxy\.jsp|jpage|/art/\d{4}/\d{1,2}/\d{1,2}/art_")),
    ("trs", re.compile(r"createPageHTML|\bcountPage\s*=|/t\d{8}_\d+\.s?html?")),
    ("vsb", re.compile(r"_simple_list_gotopage_fun|/info/\d+/\d+\.htm")),
    ("gdpost", re.compile(r"/content/post_\d+\.html")),
    ("shtml_uuid", re.compile(r"/\d{6}/[0-9a-f]{32}\.shtml")),
)


def detect(page: Page) -> str:
    for name, sign in _SIGNS:
        if sign.search(page.text):
            return name
    return "nextlink"


def profile(name: str, selectors: dict[str, str] | None = None) -> Profile:
    return PROFILES[name](selectors)


__all__ = ["PROFILES", "Entry", "Follow", "Listing", "Profile", "detect", "profile"]
