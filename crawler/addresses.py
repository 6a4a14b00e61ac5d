"""Requests reach public addresses only.

The check runs in the DNS resolver, on the address the connection will be made
to, so it covers host names and IP literals alike, every redirect (each new
request is resolved again) and a name that resolves to an internal address
(DNS rebinding: the address checked is the address used). Loopback, private,
link-local (cloud metadata services live there), multicast, reserved and
unspecified addresses are refused unless ``crawl.allow_networks`` names them:
only the demo and the tests, which crawl mock portals on 127.x, do.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ForbiddenAddress(IgnoreRequest):
    """The host resolves to an address a crawler must not reach."""


def refusal(address: str, allowed: Sequence[Network] = ()) -> str | None:
    """Why ``address`` may not be fetched, or None when it may."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in allowed):
        return None
    for test, what in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, test):
            return what
    return None


def networks(texts: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in texts)


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing internal addresses (``NIANBAO_ALLOW_NETWORKS`` excepted)."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_crawler(cls, crawler, reactor):
        # Scrapy builds the resolver from the process's settings, before any spider has
        # applied its config: the allowed networks are read from the config file here
        from .config import load_config

        resolver = super().from_crawler(crawler, reactor)
        allowed = crawler.settings.getlist("NIANBAO_ALLOW_NETWORKS")
        if not allowed and crawler.settings.get("NIANBAO_CONFIG"):
            try:
                allowed = load_config(crawler.settings.get("NIANBAO_CONFIG")).crawl.allow_networks
            except Exception:  # a bad or missing config fails the crawl itself, with its message
                allowed = ()
        resolver.allowed = networks(allowed)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred:
        return super().getHostByName(name, timeout).addCallback(self._check, name)

    def _check(self, address: str, name: str) -> str:
        reason = refusal(address, self.allowed)
        if reason is not None:
            raise ForbiddenAddress(f"{name} resolves to {address} ({reason} address): not fetched")
        return address


class AddressGuardMiddleware:
    """Checks each request's host before it is sent — an IP literal directly, a name
    through the guarded resolver — so a refusal reaches the spider as
    ``ForbiddenAddress`` (Twisted reports a resolver failure during connection as a
    bare "no results"). The resolver refuses at connection time too, with the
    address actually connected to."""

    def __init__(self, allowed: tuple[Network, ...]):
        self.allowed = allowed

    @classmethod
    def from_crawler(cls, crawler):
        return cls(networks(crawler.settings.getlist("NIANBAO_ALLOW_NETWORKS")))

    async def process_request(self, request) -> None:
        from twisted.internet import reactor

        host = urlsplit(request.url).hostname
        if not host:
            return
        try:
            ipaddress.ip_address(host)
        except ValueError:  # a name: resolved (and checked) by the guarded resolver
            await maybe_deferred_to_future(reactor.resolve(host))
            return
        reason = refusal(host, self.allowed)  # reactor.resolve() returns IP literals unchecked
        if reason is not None:
            raise ForbiddenAddress(f"{host} is a {reason} address: not fetched")
