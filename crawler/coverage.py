"""How much of a list one walk saw, and why it may not have seen it all.

A walk is one list read from its first page (a configured start URL, or a
per-year sub-column found on one) to its last: pages walked, items found,
items kept by the selection, whether the pager was understood, how the walk
ended, and a warning class when the list was not fully seen:

* ``list_unreadable`` a page that clearly holds a list (rows of dated links,
  list scripts or data, a family pager) yields no item;
* ``list_empty``      the first page yields nothing and shows no list at all
  (a moved column, a soft 404), and does not say it is empty (暂无信息);
* ``pager_unreadable`` the page states more pages than the walk could follow;
* ``list_failed``     a list page could not be fetched (blocked, HTTP error …);
* ``list_limit``      the walk stopped at ``crawl.max_list_pages``.

The spider records each walk when it starts and again when it ends (a walk
still open in the archive was cut short by a stopped crawl), with its entries
in list order.

An incremental crawl stops a walk at the first page with nothing new
(``no_news``, seen ``new_only``) unless a full walk is due
(``crawl.full_walk_days`` since the last one) or the pages read already show a
gap: an entry the last crawl listed before one seen again is missing, so the
list lost something; then the walk reads on to the end and is ``full``, the
only evidence that a report was taken off a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .listing import script_texts
from .page import Page
from .selection import judge

_LIST_SCRIPT = re.compile(
    r"articleList|dataList|docList|newsList|infoList|recordset|datastore|jpage\s*\(|\.ajax\s*\(|\$\.post\s*\(|getJSON|"
    r"\bfetch\s*\(|axios|avalon|ms-for|v-for|\{\{|template\s*\(|render\w*\s*\(|decrypt",
    re.I,
)
_PAGER = re.compile(
    r"createPageHTML|countPage|_simple_list_gotopage_fun|下一页|下页|尾页|共\s*\d+\s*页|totalRecord|pageCount", re.I
)
_SAYS_EMPTY = re.compile(r"暂无(?:相关)?(?:信息|数据|内容|记录|文章)|没有(?:找到)?(?:相关)?(?:信息|数据|记录|内容)")
_CLAIMS = (  # (current page, pages) as pagers print or script them
    re.compile(r"createPageHTML\(\s*(?:'[\w-]+'\s*,\s*)?(?P<total>\d+)\s*,\s*(?P<current0>\d+)"),
    re.compile(r"第\s*(?P<current>\d+)\s*/\s*(?P<total>\d+)\s*页"),
    re.compile(r"(?P<current>\d+)\s*/\s*(?P<total>\d+)\s*页"),
    re.compile(r"当前第?\s*(?P<current>\d+)\s*页[^<>]{0,20}?共\s*(?P<total>\d+)\s*页"),
    re.compile(r"共\s*(?P<total>\d+)\s*页"),
)
_COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*(\d+)")
_CURRENT_PAGE = re.compile(r"\bcurrentPage\s*=\s*(\d+)")
WARNINGS = ("list_unreadable", "list_empty", "pager_unreadable", "list_failed", "list_limit")


def list_signals(page: Page, scripts: list[str]) -> list[str]:
    """What on a page shows that it holds a list (in Chinese, for the evidence)."""
    signals = []
    dated = [l for l in page.links() if len(l.text) >= 6 and l.date is not None]
    if len(dated) >= 2:
        signals.append(f"{len(dated)} 个带日期的链接（列表行）")
    if any(_LIST_SCRIPT.search(s) for s in scripts):
        signals.append("列表脚本或数据")
    if _PAGER.search(page.text):
        signals.append("分页控件")
    return signals


def says_empty(page: Page) -> bool:
    return bool(_SAYS_EMPTY.search(" ".join(page.visible_lines[:300])))


def pager_claim(page: Page) -> tuple[int | None, int] | None:
    """(this page's number, pages in all) as the page states them, if it does."""
    count, current = _COUNT_PAGE.search(page.text), _CURRENT_PAGE.search(page.text)
    if count:
        return (int(current.group(1)) + 1 if current else None), int(count.group(1))
    for pattern in _CLAIMS:
        if m := pattern.search(page.text):
            groups = m.groupdict()
            if groups.get("current0") is not None:
                return int(groups["current0"]) + 1, int(groups["total"])
            return (int(groups["current"]) if groups.get("current") else None), int(groups["total"])
    return None


@dataclass
class Walk:
    portal: str
    url: str  # the list's first page as configured (or the sub-column's link)
    parent_url: str | None  # the column a per-year sub-column was found on
    family: str
    started_at: str
    pages: int = 0
    items: dict[str, str] = field(default_factory=dict)  # URL → title as listed, in list order
    kept: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    pager: str = "single"  # single (one page), followed, unfollowed
    outstanding: int = 0  # list requests of this walk not answered yet
    ended: str | None = None  # last_page, repeated, no_news, limit, failed
    warning: str | None = None
    warning_url: str | None = None
    detail: str | None = None
    claim: tuple[int | None, int] | None = None  # the last page's stated (page, pages)
    total: int | None = None  # the records a list API says the list holds
    previous: list[str] = field(default_factory=list)  # what the last crawl listed here, in list order
    full_due: bool = False  # read to the end whatever is new: the last full walk is too old

    def warn(self, kind: str, url: str, detail: str) -> None:
        if self.warning is None:  # the first warning is the evidence
            self.warning, self.warning_url, self.detail = kind, url, detail

    def end(self, reason: str) -> None:
        if self.ended is None or reason in ("failed", "limit"):
            self.ended = reason

    def page_read(self, page: Page, page_no: int, entries: list, shell: bool, api: bool, total: int | None = None) -> None:
        """Judge one list page of the walk (``total``: the records a list API's answer states)."""
        self.pages += 1
        self.total = max(self.total or 0, total) if total is not None else self.total
        self.claim = None if api else pager_claim(page)
        if entries or shell:
            return
        signals = [] if api else list_signals(page, script_texts(page))
        first = page_no == 1 or (api and self.pages <= 2)
        markup = any("列表行" in s for s in signals) or "列表脚本或数据" in signals
        if says_empty(page) and not markup:
            return
        if first or markup:
            if signals or api:
                what = "接口答复" if api else "、".join(signals)
                self.warn("list_unreadable", page.url, f"第 {page_no} 页有列表（{what}），但读不出任何条目")
            else:
                self.warn("list_empty", page.url, "列表首页读不出任何条目，也未说明暂无信息（栏目迁移或软 404？）")

    def finish(self) -> None:
        """At the walk's end: a page count stated beyond what was walked, or a list API's
        record count beyond the items read, means the pager was not followed."""
        if self.ended is None:
            self.ended = "last_page"
        if self.ended in ("last_page", "repeated") and self.total is not None and len(self.items) < self.total:
            self.pager = "unfollowed"
            self.warn(
                "pager_unreadable",
                self.warning_url or self.url,
                f"列表接口标明共 {self.total} 条，只读到 {len(self.items)} 条（接口分页无法跟进）",
            )
        if self.ended == "last_page" and self.claim is not None:
            current, total = self.claim
            if (current is not None and current < total) or (current is None and self.pages < total):
                self.pager = "unfollowed"
                self.warn(
                    "pager_unreadable",
                    self.warning_url or self.url,
                    f"页面标明共 {total} 页，只能读到 {self.pages} 页（分页无法跟进）",
                )

    @property
    def seen(self) -> str:
        """full: the whole list this crawl; new_only: up to the first page with nothing new
        (earlier crawls walked the rest); partial: not fully seen."""
        if self.warning is not None:
            return "partial"
        return "new_only" if self.ended == "no_news" else "full"

    def kept_entry(self, url: str, title: str, this_year: int) -> bool:
        self.items.setdefault(url, title)
        if judge(title, this_year).kind == "other":
            return False
        self.kept.add(url)
        return True

    def gap(self) -> str | None:
        """An entry the last crawl listed before one this walk has seen again, but which this
        walk has not seen: taken off the list (or moved down it). New entries push old ones
        down, never past one another, so a gap is never their doing."""
        deepest = max((i for i, url in enumerate(self.previous) if url in self.items), default=0)
        return next((url for url in self.previous[:deepest] if url not in self.items), None)

    def may_stop(self) -> bool:
        """Whether a page with nothing new may end this walk (``no_news``): not when a full walk
        is due, nor when the pages read show an entry gone (only a full walk can say it has)."""
        return not self.full_due and self.gap() is None

    def record(self, ended_at: str | None) -> dict:
        done = ended_at is not None
        return {
            "portal": self.portal,
            "url": self.url,
            "parent_url": self.parent_url,
            "family": self.family,
            "started_at": self.started_at,
            "ended_at": ended_at,
            "pages": self.pages,
            "items": len(self.items),
            "kept": len(self.kept),
            "sources": ",".join(sorted(self.sources)) or None,
            "pager": self.pager,
            "ended": self.ended if done else None,
            "seen": self.seen if done else None,
            "warning": self.warning,
            "warning_url": self.warning_url,
            "detail": self.detail,
            "entries": [{"url": u, "title": t} for u, t in self.items.items()] if done else [],
        }
