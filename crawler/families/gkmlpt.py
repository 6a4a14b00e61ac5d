"""Guangdong gkmlpt (政府信息公开目录管理平台): a JS shell, then a JSON list API.

``/gkmlpt/annualreport#2629`` is a shell with ``window._CONFIG = {SID: '175', …}``;
the list is ``/gkmlpt/api/all/{category}?page=N&sid={SID}`` answering
``{"total": …, "articles": [{"url", "title", "display_publish_time" (epoch s), …}]}``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

from ..page import Page, clean
from .base import Entry, Follow, Listing, Profile

_SID = re.compile(r"SID\s*[:=]\s*['\"]?(\w+)")
_CHINA = timezone(timedelta(hours=8))


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
        articles = data.get("articles") or []
        entries = []
        for a in articles:
            url = a.get("url") or a.get("post_url")
            if not url:
                continue
            stamp = a.get("display_publish_time") or a.get("create_time") or a.get("created_at")
            date = None
            if isinstance(stamp, (int, float)) and stamp > 0:
                date = datetime.fromtimestamp(stamp, _CHINA).strftime("%Y-%m-%d")
            entries.append(Entry(urljoin(page.url, url), clean(a.get("title")), date))
        page_no = int(context.get("page", 1))
        follow = []
        if articles and page_no * len(articles) < int(data.get("total") or 0):
            parts = urlsplit(page.url)
            url = f"{parts.scheme}://{parts.netloc}{parts.path}?page={page_no + 1}&sid={context['sid']}"
            follow.append(Follow(url, context={**context, "page": page_no + 1}))
        return Listing(entries, follow)
