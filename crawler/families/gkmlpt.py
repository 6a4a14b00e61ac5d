"""Guangdong gkmlpt (政府信息公开目录管理平台): a JS shell, then a JSON list API.

``/gkmlpt/annualreport#2629`` is a shell with ``window._CONFIG = {SID: '175', …}``;
the list is ``/gkmlpt/api/all/{category}?page=N&sid={SID}`` answering
``{"total": …, "articles": [{"url", "title", "display_publish_time" (epoch s), …}]}``.
Answers seen otherwise: times in epoch milliseconds or as date strings, ``count``
for ``total``, everything nested under ``data``. An answer that names no total
but lists items is followed to its next page (an empty or repeated page ends the
walk); a time that cannot be read leaves the item undated, never loses the page.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

from ..page import Page, clean, iso_date
from .base import Entry, Follow, Listing, Profile

_SID = re.compile(r"SID\s*[:=]\s*['\"]?(\w+)")
_CHINA = timezone(timedelta(hours=8))
_MILLIS = 10**11  # epoch seconds reach this in the year 5138; milliseconds passed it in 1973
_ITEMS = ("articles", "list", "items", "rows", "records", "data")
_TOTALS = ("total", "count", "totalCount", "total_count", "totalRecord", "recordCount")
_STAMPS = ("display_publish_time", "publish_time", "create_time", "created_at", "first_publish_time")


class GkmlptProfile(Profile):
    name = "gkmlpt"
    detail_pattern = re.compile(r"/content/\d+/\d+/post_\d+\.html$")

    def start(self, url: str) -> Follow:
        base, _, fragment = url.partition("#")
        return Follow(base, context={"category": fragment if fragment.isdigit() else "0"})

    def parse(self, page: Page, context: dict) -> Listing:
        if "sid" not in context:
            m = _SID.search(page.text)
            if not m:
                return Listing(self.entries(page), [])
            api = urljoin(page.url, f"/gkmlpt/api/all/{context.get('category', '0')}?page=1&sid={m.group(1)}")
            return Listing([], [Follow(api, context={**context, "sid": m.group(1), "page": 1})], shell=True)
        try:
            data = json.loads(page.text)
        except ValueError:
            return Listing([], [])
        articles, total = _answer(data)
        entries = [e for e in (_entry(page, a) for a in articles) if e is not None]
        return Listing(entries, _next_page(page, context, len(articles), total))


def _answer(data: object) -> tuple[list[dict], int | None]:
    """The answer's articles and stated total, at the top level or nested under ``data``."""
    for _ in range(3):
        if isinstance(data, list):
            return [a for a in data if isinstance(a, dict)], None
        if not isinstance(data, dict):
            break
        items = next((data[k] for k in _ITEMS if isinstance(data.get(k), list)), None)
        if items is not None:
            return [a for a in items if isinstance(a, dict)], _total(data)
        data = data.get("data")
    return [], None


def _total(data: dict) -> int | None:
    for key in _TOTALS:
        value = data.get(key)
        if isinstance(value, (int, float, str)) and str(value).strip().isdigit():
            return int(str(value).strip())
    return None


def _entry(page: Page, article: dict) -> Entry | None:
    url = article.get("url") or article.get("post_url")
    if not isinstance(url, str) or not url.strip():
        return None
    stamp = next((article[k] for k in _STAMPS if article.get(k)), None)
    return Entry(urljoin(page.url, url.strip()), clean(str(article.get("title") or "")), stamp_date(stamp))


def stamp_date(stamp: object) -> str | None:
    """YYYY-MM-DD (China time) from epoch seconds or milliseconds, as a number or digits,
    or from a date string; None for anything else (never an exception)."""
    if isinstance(stamp, str):
        text = stamp.strip()
        if not text.isdigit():
            return iso_date(text)
        stamp = int(text)
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)) or stamp <= 0:
        return None
    seconds = stamp / 1000 if stamp >= _MILLIS else stamp
    try:
        return datetime.fromtimestamp(seconds, _CHINA).strftime("%Y-%m-%d")
    except (ValueError, OverflowError, OSError):
        return None


def _next_page(page: Page, context: dict, shown: int, total: int | None) -> list[Follow]:
    page_no = int(context.get("page", 1))
    if not shown or (total is not None and page_no * shown >= total):
        return []
    parts = urlsplit(page.url)
    url = f"{parts.scheme}://{parts.netloc}{parts.path}?page={page_no + 1}&sid={context['sid']}"
    return [Follow(url, context={**context, "page": page_no + 1})]
