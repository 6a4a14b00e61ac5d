"""The one spider: walks each configured portal's 年报 column with its CMS family's
profile, keeps the annual reports (and nothing else), fetches their pages and
attachments, and records every capture and every problem.

``scrapy crawl portal -a portal=ID[,ID…]`` (config from ``-s NIANBAO_CONFIG=…``,
default ``config.yaml``), or ``nianbao crawl``.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from urllib.parse import quote

import scrapy
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure

from archive.store import now

from .. import blocking
from ..addresses import ForbiddenAddress
from ..attribution import AgencyIndex
from ..config import Config, Portal, load_config
from ..detail import read_detail
from ..families import Entry, Follow, Profile, detect, profile
from ..items import Capture, Fetched, Problem, ReportFound
from ..middlewares import OutOfScope
from ..page import Page
from ..selection import judge
from ..shared_state import crawl_stores


def _mentions(page: Page, listed_title: str) -> bool:
    """Whether a page whose own title is not a report's still is the listed report
    (a soft 404 serves the homepage instead)."""
    text = "".join(page.visible_lines)
    return listed_title.rstrip("…. ") in text or "年度报告" in text or "工作报告" in text


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
        spider.this_year = date.today().year
        spider.requested = set()
        spider.walked = set()  # portals whose list was read to its last page
        spider.listed = set()  # entry URLs seen on list pages in this crawl
        spider.revalidate_days = spider.config.crawl.revalidate_days
        spider.max_list_pages = spider.config.crawl.max_list_pages
        return spider

    def closed(self, reason: str) -> None:
        self.archived.close()
        # a list walked to its end counts only once the crawl has finished: a killed or
        # stopped crawl (or one whose writes failed) has not archived every entry it listed,
        # and the next run must page on
        try:
            if reason == "finished" and not self.crawler.stats.get_value("nianbao/archive/write_errors"):
                for portal_id in self.walked:
                    self.state.mark_listing_complete(portal_id)
            self.state.close()
        except (sqlite3.Error, OSError) as e:  # a full disk: what was not committed is fetched again next run
            self.logger.error("抓取状态未能保存：%s", e)

    # ---- requests -------------------------------------------------------------------------

    def _meta(self, portal: Portal, role: str, **extra) -> dict:
        return {"portal": portal.id, "portal_hosts": portal.hosts, "role": role, **extra}

    def _list_request(self, portal: Portal, follow: Follow, family: str, page_no: int) -> Request:
        meta = self._meta(portal, "list", family=family, context=follow.context, page_no=page_no)
        if follow.method == "POST":
            return scrapy.FormRequest(
                follow.url,
                formdata=follow.formdata or {},
                callback=self.parse_list,
                errback=self.on_error,
                meta=meta,
                dont_filter=True,
            )
        return Request(follow.url, callback=self.parse_list, errback=self.on_error, meta=meta, dont_filter=True)

    def _fetch(self, url: str, portal: Portal, role: str, callback, **meta) -> Request | None:
        """A report page or attachment: skipped when archived recently, revalidated when older."""
        if url in self.requested:
            return None
        self.requested.add(url)
        row = self.state.get(url)
        # a report page whose sighting or attachments did not reach the archive (a crawl
        # killed half-way) is asked for again, in full: a 304 would not say what it lists
        complete = row is not None and (role != "report" or self.archived.complete(url))
        if complete and self.state.fresh(row, self.revalidate_days):
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
                yield self._list_request(portal, prof.start(url), family, 1)

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
        yield self._capture(response)
        if (problem := self._blocked(response)) is not None:
            yield problem
            return
        page = Page.from_response(response)
        family = response.meta["family"]
        if family == "auto":
            family = detect(page)
            self.logger.info("portal %s: detected CMS family %s", portal.id, family)
        prof: Profile = profile(family, portal.selectors)
        listing = prof.parse(page, response.meta.get("context") or {})
        new = 0
        unseen = [e for e in listing.entries if e.url not in self.listed]
        self.listed.update(e.url for e in unseen)
        for entry in listing.entries:
            try:
                request = self._entry_request(portal, entry)
            except ValueError as e:  # a malformed link must not cost the rest of the page
                yield self._problem(response.meta, "bad_link", entry.url, f"{entry.title!r}: {e}")
                continue
            if request is not None:
                new += 1
                yield request
        page_no = response.meta["page_no"]
        stop_early = not new and listing.entries and self.state.listing_complete(portal.id)
        # a later page listing nothing this crawl has not seen (empty, or a repeat) ends the
        # walk: calendar-style lists page on forever, and some CMSs repeat the last page
        endless = page_no > 1 and not unseen
        if listing.follow and not stop_early and not endless and page_no < self.max_list_pages:
            for follow in listing.follow:
                yield self._list_request(portal, follow, family, page_no + 1)
        elif not listing.follow:
            self.walked.add(portal.id)
        if listing.follow and endless:
            self.crawler.stats.inc_value("nianbao/list/repeated_page")
        elif listing.follow and page_no >= self.max_list_pages:
            yield self._problem(
                response.meta,
                "list_limit",
                response.url,
                f"stopped after crawl.max_list_pages = {self.max_list_pages} list pages",
            )
        if stop_early and listing.follow:
            self.crawler.stats.inc_value("nianbao/list/stopped_early")

    def _entry_request(self, portal: Portal, entry: Entry) -> Request | None:
        self.crawler.stats.inc_value("nianbao/list/items")
        verdict = judge(entry.title, self.this_year)
        if verdict.kind == "other":
            self.crawler.stats.inc_value("nianbao/list/not_reports")
            return None
        return self._fetch(entry.url, portal, "report", self.parse_report, entry=entry)

    def parse_report(self, response: Response):
        portal = self.portals[response.meta["portal"]]
        entry: Entry = response.meta["entry"]
        if response.status == 304:
            yield self._not_modified(response)
            return
        if (problem := self._blocked(response)) is not None:
            yield self._capture(response)
            yield problem
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
                yield self._problem(
                    response.meta,
                    "soft_404",
                    response.url,
                    f"listed as {entry.title!r} but the page is not a report (page title {page.html_title[:60]!r})",
                )
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
        self.crawler.stats.inc_value("nianbao/reports")
        yield ReportFound(
            portal.id,
            response.url,
            title,
            verdict.year,
            who.agency_id,
            who.agency_name,
            who.source,
            info.published,
            info.published_source,
            info.index_no,
            entry.title,
            entry.date,
            info.parts,
            [{"url": a.url, "name": a.name, "kind": a.kind} for a in info.attachments],
            info.images,
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

    def parse_source(self, response: Response):
        if response.status == 304:
            yield self._not_modified(response)
            return
        yield self._capture(response)
        if (problem := self._blocked(response)) is not None:
            yield problem

    def on_error(self, failure: Failure):
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
