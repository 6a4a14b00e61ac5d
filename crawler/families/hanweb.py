"""Hanweb 大汉 JCMS: ``col/colN/index.html`` with the first records inside a
``<script type="text/xml">`` datastore (CDATA), later ones from ``dataproxy.jsp``.

The page declares the pager: ``proxyUrl``, ``perPage``, ``totalRecord`` and the
``ajaxParam`` form (col, appid, webid, columnid, unitid …). Later records are
POSTed for with ``startrecord``/``endrecord``/``perpage`` (three pages per call)
and come back as ``<datastore>`` XML, again HTML in CDATA. Items are
``/art/YYYY/M/D/art_COL_ID.html`` (or JPaaS ``art_<32hex>.html``); the
``xxgkAnnualReport.jsp`` module page is a plain HTML list of the same links.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from ..page import Page
from .base import Follow, Listing, Profile

_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_PROXY = re.compile(r"proxyUrl\s*:\s*['\"]([^'\"]+)['\"]")
_PER_PAGE = re.compile(r"perPage\s*:\s*['\"]?(\d+)")
_TOTAL = re.compile(r"(?:totalRecord\s*:\s*['\"]?|<totalrecord>\s*)(\d+)", re.I)
_AJAX = re.compile(r"ajaxParam\s*:\s*\{([^}]*)\}")
_PAIR = re.compile(r"(\w+)\s*:\s*(?:'([^']*)'|\"([^\"]*)\"|([^,\s}]+))")
PAGES_PER_CALL = 3


class HanwebProfile(Profile):
    name = "hanweb"
    detail_pattern = re.compile(r"/art/\d{4}/(?:\d{1,2}/\d{1,2}/art_\d+_\d+|art_[0-9a-f]{32})\.html$")

    def parse(self, page: Page, context: dict) -> Listing:
        records = _CDATA.findall(page.text)
        if records:
            fragment = Page(page.url, page.status, ("<ul>" + "".join(records) + "</ul>").encode("utf-8"))
            entries = self.entries(fragment)
        else:
            entries = self.entries(page)
        if "proxy" not in context:
            context = self._pager(page, len(records))
            if context is None:
                return Listing(entries, self.next_links(page))
        total = int(_TOTAL.search(page.text).group(1)) if _TOTAL.search(page.text) else context["total"]
        start = context["next_start"]
        if not records or start > total:
            return Listing(entries, [])
        end = start + context["per_page"] * PAGES_PER_CALL - 1
        url = f"{context['proxy']}?startrecord={start}&endrecord={end}&perpage={context['per_page']}"
        return Listing(entries, [Follow(url, "POST", context["form"], {**context, "next_start": end + 1})])

    def _pager(self, page: Page, shown: int) -> dict | None:
        proxy, per_page, ajax = _PROXY.search(page.text), _PER_PAGE.search(page.text), _AJAX.search(page.text)
        total = _TOTAL.search(page.text)
        if not (proxy and per_page and ajax and total):
            return None
        form = {m.group(1): next(g for g in m.groups()[1:] if g is not None) for m in _PAIR.finditer(ajax.group(1))}
        return {
            "proxy": urljoin(page.url, proxy.group(1)),
            "per_page": int(per_page.group(1)),
            "total": int(total.group(1)),
            "form": form,
            "next_start": shown + 1,
        }
