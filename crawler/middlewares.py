"""Downloader middlewares: stay within each portal's hosts; no revalidation across a redirect;
retry with backoff, honouring Retry-After."""

from __future__ import annotations

import asyncio
import email.utils
import time
from functools import lru_cache
from urllib.parse import urlsplit

import tldextract
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response


class OutOfScope(IgnoreRequest):
    """A request (often a redirect) leaving the portal's configured domains."""


_DOMAINS = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # the bundled suffix list, offline


@lru_cache(maxsize=8192)
def _domains(hosts: tuple[str, ...]) -> tuple[str, ...]:
    """The registrable domains of the configured hosts (www.qy.gov.cn → qy.gov.cn); an IP
    address or a bare name is only itself."""
    return tuple({_DOMAINS(h).top_domain_under_public_suffix or h for h in hosts})


def in_scope(url: str, hosts: tuple[str, ...]) -> bool:
    """The configured hosts and their own domains' other hosts (xxgk.qy.gov.cn beside
    www.qy.gov.cn) — not any *.gov.cn: a portal redirecting to another site is
    recorded as off-site until that host is added to the portal's ``hosts``."""
    host = (urlsplit(url).hostname or "").lower()
    return host in hosts or any(host == d or host.endswith("." + d) for d in _domains(hosts))


class PortalScopeMiddleware:
    """Only the portal's configured domains: never a spam mirror or an outside site a redirect points to."""

    def process_request(self, request: Request) -> None:
        hosts = request.meta.get("portal_hosts")
        if hosts and not in_scope(request.url, tuple(hosts)) and not request.url.endswith("/robots.txt"):
            raise OutOfScope(f"outside the portal's hosts: {request.url}")


class RedirectValidatorsMiddleware:
    """A revalidation's ETag and date belong to the URL asked for: a redirect (a soft 404
    sending the reader to the home page …) goes on without them, or the page it leads to
    could answer 304 for a page it is not."""

    def process_request(self, request: Request) -> None:
        if request.meta.get("redirect_urls"):
            for name in (b"If-None-Match", b"If-Modified-Since"):
                request.headers.pop(name, None)


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, spaced out: Retry-After when the server gives one (up to
    ``NIANBAO_RETRY_AFTER_MAX`` seconds; longer means give up), else exponential
    backoff. The wait holds every request to that host, not only the retried one."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("NIANBAO_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("NIANBAO_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("NIANBAO_RETRY_AFTER_MAX", 300.0)
        self.not_before: dict[str, float] = {}

    async def process_request(self, request: Request) -> None:
        wait = self.not_before.get(urlsplit(request.url).netloc, 0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def _hold(self, request: Request, seconds: float) -> None:
        host = urlsplit(request.url).netloc
        self.not_before[host] = max(self.not_before.get(host, 0), time.monotonic() + seconds)

    def _backoff(self, request: Request) -> float:
        return min(self.cap, self.base * 2 ** request.meta.get("retry_times", 0))

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is not None and wait > self.retry_after_max:
            request.meta["gave_up"] = f"Retry-After {wait:.0f} s is longer than the {self.retry_after_max:.0f} s allowed"
            return response
        retry = self._retry(request, f"{response.status}")
        if retry is None:
            return response
        self._hold(request, wait if wait is not None else self._backoff(request))
        return retry

    def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry"):
            return None
        retry = get_retry_request(
            request,
            reason=exception,
            spider=self.crawler.spider,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=self.priority_adjust,
            give_up_log_level=self.give_up_log_level,
        )
        if retry is not None:
            self._hold(request, self._backoff(request))
        return retry


def _offline_public_suffixes() -> None:
    """Scrapy's cookie middleware asks tldextract for the public-suffix list, which by default
    downloads it from GitHub on first use. A crawler of government portals must make no
    request it was not asked to: use the snapshot tldextract ships."""
    from scrapy.downloadermiddlewares import cookies
    from tldextract import TLDExtract

    cookies._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)


_offline_public_suffixes()
