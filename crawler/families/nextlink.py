"""Any list that pages with a 下一页 link: items are the list rows that carry a date."""

from __future__ import annotations

from .base import Profile


class NextLinkProfile(Profile):
    name = "nextlink"
