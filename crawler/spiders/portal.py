"""The one spider: walks each configured portal's 年报 column with its CMS family's
profile, keeps the annual reports (and nothing else), fetches their pages and
attachments, and records every capture and every problem.

``scrapy crawl portal -a portal=ID[,ID…]`` (config from ``-s NIANBAO_CONFIG=…``,
default ``config.yaml``), or ``nianbao crawl``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import JsonRequest, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure

from archive.errors import NianbaoError
from archive.extract import OcrOptions, extract, sniff
from archive.metadata import identify
from archive.store import now

from .. import blocking
from ..addresses import ForbiddenAddress
from ..attribution import AgencyIndex
from ..config import Config, Portal, load_config
from ..coverage import Walk
from ..detail import looks_gone, read_detail
from ..families import Entry, Follow, Profile, detect, profile
from ..items import Capture, Fetched, ListWalk, Problem, ReportFound
from ..list_memory import ListMemory
from ..listing import read_list
from ..middlewares import OutOfScope
from ..page import Page
from ..selection import judge
from ..shared_state import crawl_stores


def _mentions(page: Page, listed_title: str) -> bool:
    """Whether a page whose own title is not a report's still is the listed report
    (a soft 404 serves the homepage instead)."""
    text = "".join(page.visible_lines)
    return listed_title.rstrip("…. ") in text or "年度报告" in text or "工作报告" in text


_DOCUMENT_KINDS = frozenset({"pdf", "docx", "doc", "wps", "rtf", "xlsx", "xls"})


def _is_document(response: Response) -> bool:
    """A response that is a report's file, not a page (by its bytes, as the archive reads it)."""
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
    return sniff(response.body, _file_name(response.url), content_type) in _DOCUMENT_KINDS


def _file_name(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def _document_title(data: bytes, url: str) -> str | None:
    """The title a report's file prints on its first lines (its text layer only: no OCR)."""
    try:
        return identify(extract(data, _file_name(url), ocr=OcrOptions(max_pages=0))).title
    except NianbaoError:
        return None


def _headers(response: Response) -> dict[str, str]:
    return {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}


def ascii_header(text: str) -> str:
    """``text`` as an HTTP header value: printable ASCII kept, everything else
    percent-encoded as UTF-8 (a contact such as 年报组 <nb@例子.cn> stays readable)."""
    return "".join(c if " " <= c <= "~" and c != "%" else quote(c, safe="") for c in text)


def apply_config(settings, config: Config) -> None:
    """Politeness and limits from config.yaml's ``crawl:`` section."""
    c = config.crawl
    values = {
        "DOWNLOAD_DELAY": c.delay,
        "AUTOTHROTTLE_START_DELAY": c.delay,
        "CONCURRENT_REQUESTS": c.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": c.per_host,
        "DOWNLOAD_TIMEOUT": c.timeout,
        "RETRY_TIMES": c.retries,
        "DOWNLOAD_MAXSIZE": int(c.max_download_mb * 1024 * 1024),
        "REDIRECT_MAX_TIMES": c.max_redirects,
        "NIANBAO_RETRY_AFTER_MAX": c.retry_after_max,
        "NIANBAO_ALLOW_NETWORKS": list(c.allow_networks),
    }
    if config.contact:
        values["USER_AGENT"] = f"{settings.get('USER_AGENT_BASE')} contact: {ascii_header(config.contact)}"
    for key, value in values.items():
        settings.set(key, value, priority="spider")


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(self, portal: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.portal_ids = [p.strip() for p in portal.split(",")] if portal else None

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        apply_config(settings, load_config(settings.get("NIANBAO_CONFIG")))

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = load_config(crawler.settings.get("NIANBAO_CONFIG"))
        ids = spider.portal_ids or list(spider.config.portals)
        spider.portals = {i: spider.config.portal(i) for i in ids}
        spider.index = AgencyIndex(spider.config.agencies)
        spider.data_dir = data = Path(crawler.settings.get("NIANBAO_DATA_DIR"))
        spider.state, spider.archived, spider.store = crawl_stores(crawler.settings, data, ids)
        spider.memory = ListMemory(spider.archived)
        spider.this_year = date.today().year
        spider.requested = set()
        spider.refetched = set()  # unchanged report pages asked for again: a file they link was replaced
        spider.walks = {}  # (portal, first list URL) → Walk: what each list walk saw
        spider.listed = set()  # entry URLs seen on list pages in this crawl
        spider.revalidate_days = spider.config.crawl.revalidate_days
        spider.full_walk_days = spider.config.crawl.full_walk_days
        spider.max_list_pages = spider.config.crawl.max_list_pages
        return spider

    def closed(self, reason: str) -> None:
        self.archived.close()
        # a list walked to its end counts only once the crawl has finished: a killed or
        # stopped crawl (or one whose writes failed) has not archived every entry it listed,
        # and the next run must page on
        try:
            if reason == "finished" and not self.crawler.stats.get_value("nianbao/archive/write_errors"):
                for portal_id in {w.portal for w in self.walks.values()}:
                    walks = [w for w in self.walks.values() if w.portal == portal_id]
                    if all(w.ended is not None and w.seen != "partial" for w in walks):
                        self.state.mark_listing_complete(portal_id)
            self.state.close()
        except (sqlite3.Error, OSError) as e:  # a full disk: what was not committed is fetched again next run
            self.logger.error("抓取状态未能保存：%s", e)

    # ---- requests -------------------------------------------------------------------------

    def _meta(self, portal: Portal, role: str, **extra) -> dict:
        return {"portal": portal.id, "portal_hosts": portal.hosts, "role": role, **extra}

    def _list_request(self, portal: Portal, follow: Follow, family: str, page_no: int, walk: Walk) -> Request:
        walk.outstanding += 1
        meta = self._meta(portal, "list", family=family, context=follow.context, page_no=page_no, walk=walk.url)
        common = {"callback": self.parse_list, "errback": self.on_error, "meta": meta, "dont_filter": True}
        if follow.json is not None:
            return JsonRequest(follow.url, data=follow.json, headers=follow.headers, **common)
        if follow.method == "POST":
            return scrapy.FormRequest(follow.url, formdata=follow.formdata or {}, headers=follow.headers, **common)
        return Request(follow.url, headers=follow.headers, **common)

    def _start_walk(self, portal: Portal, url: str, family: str, parent: str | None = None) -> tuple[Walk, ListWalk] | None:
        """A new list walk (None if this list is walked already), and its record as started."""
        if (portal.id, url) in self.walks:
            return None
        walk = self.walks[(portal.id, url)] = Walk(portal.id, url, parent, family, now())
        walk.previous = self.memory.previous(portal.id, url)
        walk.full_due = self.memory.full_walk_due(portal.id, url, self.full_walk_days)
        return walk, ListWalk(**walk.record(None))

    def _end_walk(self, walk: Walk) -> ListWalk | None:
        """The walk's record once its last outstanding list page is answered."""
        walk.outstanding -= 1
        if walk.outstanding > 0:
            return None
        walk.finish()
        self.crawler.stats.inc_value(f"nianbao/list/walks_{walk.seen}")
        if walk.warning:
            self.crawler.stats.inc_value(f"nianbao/list/warning/{walk.warning}")
        return ListWalk(**walk.record(now()))

    def _fetch(self, url: str, portal: Portal, role: str, callback, recheck: bool = False, **meta) -> Request | None:
        """A report page or attachment: skipped when archived recently (unless ``recheck``: is
        it still there?), revalidated when older."""
        if url in self.requested:
            return None
        self.requested.add(url)
        row = self.state.get(url)
        # a report page whose sighting or attachments did not reach the archive (a crawl
        # killed half-way) is asked for again, in full: a 304 would not say what it lists
        complete = row is not None and (role != "report" or self.archived.complete(url))
        if complete and not recheck and self.state.fresh(row, self.revalidate_days):
            self.crawler.stats.inc_value(f"nianbao/{role}/unchanged")
            return None
        headers = {}
        if complete and row["status"] in (200, 304):
            if row.get("etag"):
                headers["If-None-Match"] = row["etag"]
            if row.get("last_modified"):
                headers["If-Modified-Since"] = row["last_modified"]
        meta = self._meta(portal, role, handle_httpstatus_list=[304] if headers else [], **meta)
        # dont_filter: the spider dedups by URL itself, so that Scrapy's filter does not
        # silently swallow a redirect back to a URL already seen (a loop is reported instead)
        return Request(url, callback=callback, errback=self.on_error, headers=headers, meta=meta, dont_filter=True)

    async def start(self):
        for portal in self.portals.values():
            family = portal.family
            prof = profile(family if family != "auto" else "nextlink", portal.selectors)
            for url in portal.start_urls:
                started = self._start_walk(portal, url, family)
                if started is not None:
                    walk, record = started
                    yield record
                    yield self._list_request(portal, prof.start(url), family, 1, walk)

    # ---- callbacks ------------------------------------------------------------------------

    def _capture(self, response: Response, **extra) -> Fetched:
        meta = response.meta
        headers = _headers(response)
        referer = response.request.headers.get(b"Referer") if response.request else None
        return Fetched(
            meta["portal"],
            meta["role"],
            response.url,
            response.status,
            headers,
            response.body,
            now(),
            meta.get("report_url"),
            meta.get("link_name"),
            (meta.get("redirect_urls") or [response.url])[0],
            referer.decode("latin-1") if referer else None,
            **extra,
        )

    def _blocked(self, response: Response) -> Problem | None:
        cookies = b"; ".join(response.headers.getlist(b"Set-Cookie")).decode("latin-1")
        verdict = blocking.classify(response.status, response.body, cookies)
        if verdict is None:
            return None
        self.crawler.stats.inc_value("nianbao/blocked")
        return self._problem(
            response.meta,
            "blocked",
            response.url,
            f"{verdict} challenge (HTTP {response.status}, {len(response.body)} bytes); not answered",
        )

    def _problem(self, meta: dict, kind: str, url: str, detail: str) -> Problem:
        self.crawler.stats.inc_value("nianbao/problems")
        self.crawler.stats.inc_value(f"nianbao/problems/{kind}")
        agency_id = year = None
        entry: Entry | None = meta.get("entry")
        if entry is not None:  # a listed report whose page failed: the title says whose it was
            verdict = judge(entry.title, self.this_year)
            who = self.index.attribute(verdict.agency, [], self.portals[meta["portal"]])
            if verdict.kind == "report" and who.source == "title" and who.agency_id:
                agency_id, year = who.agency_id, verdict.year
        return Problem(meta["portal"], kind, url, detail, meta.get("role", "?"), now(), meta.get("report_url"), agency_id, year)

    def parse_list(self, response: Response):
        portal = self.portals[response.meta["portal"]]
        walk: Walk = self.walks[(portal.id, response.meta["walk"])]
        yield self._capture(response)
        if (problem := self._blocked(response)) is not None:
            yield problem
            yield from self._list_failed(walk, problem)
            return
        page = Page.from_response(response)
        family = response.meta["family"]
        if family == "auto":
            family = detect(page)
            self.logger.info("portal %s: detected CMS family %s", portal.id, family)
        walk.family = family if walk.family == "auto" else walk.family
        prof: Profile = profile(family, portal.selectors)
        context = response.meta.get("context") or {}
        page_no = response.meta["page_no"]
        listing = read_list(prof, page, context, self.this_year, top=page_no == 1 and walk.parent_url is None)
        walk.sources |= listing.sources
        walk.page_read(page, page_no, listing.entries, listing.shell, "api" in context, listing.total)
        new = 0
        unseen = [e for e in listing.entries if e.url not in self.listed]
        self.listed.update(e.url for e in unseen)
        for entry in listing.entries:
            try:
                request = self._entry_request(portal, entry, walk)
            except ValueError as e:  # a malformed link must not cost the rest of the page
                yield self._problem(response.meta, "bad_link", entry.url, f"{entry.title!r}: {e}")
                continue
            if request is not None:
                new += 1
                yield request
        for column in listing.columns:  # per-year sub-columns: lists of their own
            started = self._start_walk(portal, column, family, parent=walk.url)
            if started is not None:
                sub, record = started
                yield record
                yield self._list_request(portal, Follow(column), family, 1, sub)
        stop_early = not new and listing.entries and self.state.listing_complete(portal.id) and self._may_stop(walk)
        # a later page listing nothing this crawl has not seen (empty, or a repeat) ends the
        # walk: calendar-style lists page on forever, and some CMSs repeat the last page
        endless = page_no > 1 and not unseen and not listing.shell
        if listing.follow and not stop_early and not endless and page_no < self.max_list_pages:
            walk.pager = "followed"
            for follow in listing.follow:
                yield self._list_request(portal, follow, family, page_no + 1, walk)
        if listing.follow and endless:
            walk.end("repeated")
            self.crawler.stats.inc_value("nianbao/list/repeated_page")
        elif listing.follow and stop_early:
            walk.end("no_news")
            self.crawler.stats.inc_value("nianbao/list/stopped_early")
        elif listing.follow and page_no >= self.max_list_pages:
            walk.end("limit")
            detail = f"stopped after crawl.max_list_pages = {self.max_list_pages} list pages"
            walk.warn("list_limit", response.url, f"已读 {page_no} 页即达上限 crawl.max_list_pages，其后的页未读")
            yield self._problem(response.meta, "list_limit", response.url, detail)
        if (record := self._end_walk(walk)) is not None:
            yield record
            if walk.seen == "full":
                yield from self._recheck(portal, walk)

    def _may_stop(self, walk: Walk) -> bool:
        """Whether a page with nothing new may end the walk; why not, counted."""
        if walk.may_stop():
            return True
        self.crawler.stats.inc_value("nianbao/list/full_walk_" + ("due" if walk.full_due else "gap"))
        return False

    def _recheck(self, portal: Portal, walk: Walk):
        """Archived reports a list read in full no longer shows: each asked for again (a 404,
        a soft 404 or the page itself is the evidence the archive keeps)."""
        for entry in self.memory.vanished(portal.id, walk.url, walk.items):
            request = self._fetch(entry.url, portal, "report", self.parse_report, recheck=True, entry=entry)
            if request is not None:
                self.crawler.stats.inc_value("nianbao/list/rechecked")
                yield request

    def _list_failed(self, walk: Walk, problem: Problem):
        walk.end("failed")
        walk.warn("list_failed", problem.url, f"列表页无法读取（{problem.kind}：{problem.detail[:120]}）")
        if (record := self._end_walk(walk)) is not None:
            yield record

    def _entry_request(self, portal: Portal, entry: Entry, walk: Walk) -> Request | None:
        self.crawler.stats.inc_value("nianbao/list/items")
        if not walk.kept_entry(entry.url, entry.title, self.this_year):
            self.crawler.stats.inc_value("nianbao/list/not_reports")
            return None
        return self._fetch(entry.url, portal, "report", self.parse_report, entry=entry)

    def parse_report(self, response: Response):
        portal = self.portals[response.meta["portal"]]
        entry: Entry = response.meta["entry"]
        if response.status == 304:
            yield self._not_modified(response)
            yield from self._revalidate_sources(portal, response)
            return
        if (problem := self._blocked(response)) is not None:
            yield self._capture(response)
            yield problem
            return
        if _is_document(response):  # the list linked the report's file itself (a PDF, a Word file)
            yield from self._document_report(response, portal, entry)
            return
        page = Page.from_response(response)
        info = read_detail(page, entry.date)
        verdict, title = judge(info.title, self.this_year), info.title
        if verdict.kind != "report" and _mentions(page, entry.title):
            verdict, title = judge(entry.title, self.this_year), entry.title
        if verdict.kind != "report":
            response.meta["role"] = "other"
            yield self._capture(response)
            if judge(entry.title, self.this_year).kind == "report":
                listed = (response.meta.get("redirect_urls") or [response.url])[0]  # filed under the URL as listed
                title = page.html_title[:60]
                if gone := looks_gone(page, listed):
                    detail = f"列表标题为“{entry.title}”，页面已不是年报：{gone}（页面标题“{title}”）"
                    yield self._problem(response.meta, "gone_page", listed, detail)
                else:
                    detail = f"listed as {entry.title!r} but the page is not a report (page title {title!r})"
                    yield self._problem(response.meta, "soft_404", listed, detail)
            return
        yield self._capture(response)
        who = self.index.attribute(verdict.agency, info.publishers, portal)
        for url in info.parts:
            request = self._fetch(url, portal, "part", self.parse_source, report_url=response.url)
            if request is not None:
                yield request
        for link in info.attachments:
            request = self._fetch(link.url, portal, "attachment", self.parse_source, report_url=response.url, link_name=link.name)
            if request is not None:
                yield request
        yield self._found(
            portal,
            response,
            title,
            verdict,
            who,
            entry,
            published=info.published.date,
            published_source=info.published.source,
            index_no=info.index_no,
            parts=info.parts,
            attachments=[{"url": a.url, "name": a.name, "kind": a.kind} for a in info.attachments],
            images=info.images,
            published_meta=info.published.meta,
            published_visible=info.published.visible,
            published_why=info.published.why,
        )

    def _found(self, portal: Portal, response: Response, title: str, verdict, who, entry: Entry, **details) -> ReportFound:
        """The report found at ``response``: what it is, whose, and as the list showed it."""
        self.crawler.stats.inc_value("nianbao/reports")
        return ReportFound(
            portal.id,
            response.url,
            title,
            verdict.year,
            who.agency_id,
            who.agency_name,
            who.source,
            listed_title=entry.title,
            listed_date=entry.date,
            listed_url=entry.url,
            **details,
        )

    def _document_report(self, response: Response, portal: Portal, entry: Entry):
        """A report the list links as a file (``….pdf``, ``downfile.jsp?id=…``): the listed title
        says what it is, or, cut short, the file's own first lines do; the file is the report's
        page, parsed as the document it is."""
        verdict, title = judge(entry.title, self.this_year), entry.title
        if verdict.kind != "report":
            own = _document_title(response.body, response.url)
            if own:
                verdict, title = judge(own, self.this_year), own
        if verdict.kind != "report":
            response.meta["role"] = "other"
            yield self._capture(response)
            return
        yield self._capture(response)
        who = self.index.attribute(verdict.agency, [], portal)
        yield self._found(
            portal,
            response,
            title,
            verdict,
            who,
            entry,
            published=entry.date,
            published_source="list" if entry.date else None,
            index_no=None,
        )

    def _not_modified(self, response: Response) -> Capture:
        """A revalidated page or attachment (304): still published as archived; recorded as a
        capture of the archived bytes (evidence it was there at this time)."""
        meta = response.meta
        before = self.state.get(response.url) or {}
        self.state.record(response.url, portal=meta["portal"], role=meta["role"], status=304, report_url=meta.get("report_url"))
        self.crawler.stats.inc_value(f"nianbao/{meta['role']}/not_modified")
        headers = _headers(response)
        return Capture(
            meta["portal"],
            meta["role"],
            response.url,
            304,
            headers,
            now(),
            before.get("sha256"),
            0,
            before.get("kind") or "unknown",
            meta.get("report_url"),
            meta.get("link_name"),
        )

    def _revalidate_sources(self, portal: Portal, response: Response):
        """A report page unchanged (304): its continuation pages and attachments are revalidated
        too, for a file replaced under the same link leaves the page as it was."""
        parts, attachments = self.archived.sources(response.url) or ([], [])
        meta = {"report_url": response.url, "unchanged_page": response.url, "entry": response.meta["entry"]}
        for url in parts:
            if (request := self._fetch(url, portal, "part", self.parse_source, **meta)) is not None:
                yield request
        for a in attachments:
            request = self._fetch(a["url"], portal, "attachment", self.parse_source, link_name=a.get("name"), **meta)
            if request is not None:
                yield request

    def parse_source(self, response: Response):
        if response.status == 304:
            yield self._not_modified(response)
            return
        before = self.state.get(response.url) or {}  # read before the new capture is recorded
        yield self._capture(response)
        if (problem := self._blocked(response)) is not None:
            yield problem
            return
        page = response.meta.get("unchanged_page")
        replaced = before.get("sha256") not in (None, hashlib.sha256(response.body).hexdigest())
        if page is not None and replaced and page not in self.refetched:
            # replaced in place under an unchanged page: the page again, in full, so that the
            # report is stored anew from what it lists now
            self.refetched.add(page)
            self.crawler.stats.inc_value("nianbao/report/source_replaced")
            portal = self.portals[response.meta["portal"]]
            meta = self._meta(portal, "report", entry=response.meta["entry"])
            yield Request(page, callback=self.parse_report, errback=self.on_error, meta=meta, dont_filter=True)

    def on_error(self, failure: Failure):
        items = list(self._failure(failure))
        yield from items
        meta = failure.request.meta
        if meta.get("role") == "list" and (portal := meta.get("portal")) and (portal, meta.get("walk")) in self.walks:
            problem = next(i for i in items if isinstance(i, Problem))
            yield from self._list_failed(self.walks[(portal, meta["walk"])], problem)

    def _failure(self, failure: Failure):
        request = failure.request
        meta = request.meta
        exc = failure.value
        listed = (meta.get("redirect_urls") or [request.url])[0]  # problems are filed under the URL as listed
        self.crawler.stats.inc_value(f"nianbao/errors/{type(exc).__name__}")
        if isinstance(exc, HttpError):
            response = exc.response
            yield self._capture(response)
            blocked = self._blocked(response)
            if blocked is not None:
                yield blocked
            else:
                reason = meta.get("gave_up") or f"HTTP {response.status}"
                yield self._problem(meta, "http_error", request.url, reason)
            return
        if isinstance(exc, ForbiddenAddress):
            yield self._problem(meta, "forbidden_address", listed, str(exc))
        elif isinstance(exc, OutOfScope):
            yield self._problem(meta, "offsite", listed, f"redirected off the portal to {request.url}")
        elif isinstance(exc, IgnoreRequest) and "robots" in str(exc):
            yield self._problem(meta, "robots_disallowed", listed, "robots.txt forbids it; not fetched")
        elif isinstance(exc, IgnoreRequest) and "redirections" in str(exc):
            yield self._problem(
                meta,
                "redirect_loop",
                listed,
                f"more than {self.settings.getint('REDIRECT_MAX_TIMES')} redirects (last {request.url})",
            )
        elif "maxsize" in repr(exc).lower() or "max size" in str(exc).lower() or meta.get("oversize"):
            yield self._problem(meta, "oversize", request.url, str(exc))
        elif isinstance(exc, (DownloadTimeoutError, TimeoutError, TCPTimedOutError)):
            yield self._problem(meta, "timeout", request.url, f"{type(exc).__name__}: {exc}")
        elif isinstance(exc, ResponseDataLossError):
            yield self._problem(
                meta,
                "truncated",
                request.url,
                "the connection closed before the promised Content-Length arrived; nothing of it kept",
            )
        elif isinstance(exc, DownloadFailedError):
            yield self._problem(meta, "connection_lost", request.url, f"{type(exc).__name__}: {exc}")
        elif isinstance(exc, (DNSLookupError, ConnectionRefusedError, CannotResolveHostError, DownloadConnectionRefusedError)):
            yield self._problem(meta, "unreachable", request.url, f"{type(exc).__name__}: {exc}")
        else:
            yield self._problem(meta, "fetch_error", request.url, f"{type(exc).__name__}: {exc}")
