"""What the crawl produces. Every item carries ``type`` so one JSON Lines feed can hold them all.

* ``Fetched``: a response with its bytes, as the spider saw it; the capture
  pipeline stores the bytes and passes on a ``Capture`` (hash, size, headers).
  A 304 answer to a revalidation is a ``Capture`` of the bytes archived before.
* ``ReportFound``: one annual report: who, which year, when published, and
  its sources (the page, its continuation pages, its attachments).
* ``ListWalk``: how much of one list a walk saw (recorded when it starts and
  when it ends; see ``crawler.coverage``).
* ``Problem``: something that kept a page from being read: ``blocked`` (WAF
  challenge), ``robots_disallowed``, ``http_error``, ``unreachable``,
  ``oversize``, ``redirect_loop``, ``offsite``, ``soft_404`` (listed as a report, the
  page is not one), ``gone_page`` (a soft 404 that says so: the page says it does not
  exist, or sends the reader to the home page).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Fetched:
    portal: str
    role: str  # list, report, part, attachment, other
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: str
    report_url: str | None = None
    link_name: str | None = None  # an attachment's link text (its file name, usually)
    requested_url: str | None = None  # the URL asked for, when redirects led elsewhere
    referer: str | None = None


@dataclass
class Capture:
    portal: str
    role: str
    url: str
    status: int
    headers: dict[str, str]
    fetched_at: str
    sha256: str
    size: int
    kind: str  # pdf, html, docx, doc, wps, xls, xlsx, zip, json, xml, text, binary
    report_url: str | None = None
    link_name: str | None = None
    members: list[dict] = field(default_factory=list)  # a ZIP's report files: name, kind, sha256, size
    requested_url: str | None = None
    referer: str | None = None
    type: str = "capture"


@dataclass
class ReportFound:
    portal: str
    url: str
    title: str
    year: int
    agency_id: str | None
    agency_name: str | None
    attribution: str | None  # title, metadata or owner
    published: str | None  # YYYY-MM-DD
    published_source: str | None  # meta, page (the visible 发布日期), list or written (成文日期)
    index_no: str | None
    listed_title: str
    listed_date: str | None
    parts: list[str] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)  # url, name, kind (as linked)
    images: int = 0
    published_meta: str | None = None  # <meta PubDate>, kept when the visible date was used
    published_visible: str | None = None  # the visible 发布日期 / 发布时间 / 日期： / 时间
    published_why: str | None = None  # which date was used and why
    listed_url: str | None = None  # the URL the list linked to (``url`` is where it led)
    type: str = "report"


@dataclass
class Problem:
    portal: str
    kind: str
    url: str
    detail: str
    role: str
    at: str
    report_url: str | None = None
    agency_id: str | None = None  # a report page that could not be read: whose, and for which
    year: int | None = None  # year, as its list entry's title names them (else None)
    type: str = "problem"


@dataclass
class ListWalk:
    portal: str
    url: str  # the list's first page (a configured start URL, or a per-year sub-column)
    parent_url: str | None
    family: str
    started_at: str
    ended_at: str | None  # None: under way (still so in the archive: the crawl was cut short)
    pages: int
    items: int  # entries found on its pages
    kept: int  # of which the selection kept (reports, or titles cut short)
    sources: str | None  # where items were read: api, comment, json, markup, script
    pager: str  # single, followed, unfollowed
    ended: str | None  # last_page, repeated, no_news, limit, failed
    seen: str | None  # full, new_only, partial
    warning: str | None  # list_unreadable, list_empty, pager_unreadable, list_failed, list_limit
    warning_url: str | None
    detail: str | None
    entries: list[dict] = field(default_factory=list)  # an ended walk's entries (url, title), in list order
    type: str = "list_walk"
