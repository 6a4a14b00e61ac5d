"""What the crawl produces. Every item carries ``type`` so one JSON Lines feed can hold them all.

* ``Fetched``: a response with its bytes, as the spider saw it; the capture
  pipeline stores the bytes and passes on a ``Capture`` (hash, size, headers).
  A 304 answer to a revalidation is a ``Capture`` of the bytes archived before.
* ``ReportFound``: one annual report: who, which year, when published, and
  its sources (the page, its continuation pages, its attachments).
* ``Problem``: something that kept a page from being read: ``blocked`` (WAF
  challenge), ``robots_disallowed``, ``http_error``, ``unreachable``,
  ``oversize``, ``redirect_loop``, ``offsite``, ``soft_404``.
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
    published_source: str | None  # meta, page, list or written (成文日期)
    index_no: str | None
    listed_title: str
    listed_date: str | None
    parts: list[str] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)  # url, name, kind (as linked)
    images: int = 0
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
