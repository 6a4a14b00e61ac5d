"""The ``alerts:`` section of config.yaml: the channels, what each receives, and the
archive's public address its summaries link to.

Secrets are never written in the config, only the names of the environment
variables holding them; an error names the variable (and file:line), never a
value. A webhook URL is checked when the config is read (also when it comes from
the environment and is set), so a URL without a scheme is a config error, not a
traceback printing its token when the first alert goes out.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

import yaml

from archive.alert_limits import LIMITS
from archive.alert_text import LEVEL_NAMES
from archive.alert_transport import is_loopback, webhook_url_problem
from archive.alerts import FRONT_PAGE, AlertConfig, EmailChannel, LogChannel, Route, WebhookChannel

if TYPE_CHECKING:
    from .config import Agency, _Reader

WEBHOOK_KINDS = ("generic", "dingtalk", "wecom", "feishu")
SIGNED_KINDS = ("dingtalk", "feishu")
ROUTE_KEYS = {"regions", "levels", "agencies"}
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_PREFIX = re.compile(r"^\d{2,12}$")


def _env_name(r: _Reader, f: dict, key: str, where: str) -> str | None:
    if key not in f:
        return None
    name = r.string(f[key], f"{where}.{key}")
    if not _ENV.match(name):  # the value is not repeated: it may be the secret itself, pasted here by mistake
        raise r.fail(
            f[key],
            f"{where}.{key}",
            "not an environment variable name (upper-case letters, digits and _): secrets are never written "
            "in the config, only the name of the variable holding them",
        )
    return name


def _route(r: _Reader, f: dict, where: str, agencies: dict[str, Agency]) -> Route:
    regions = []
    for value, node in r.strings(f["regions"], f"{where}.regions") if "regions" in f else []:
        if not _PREFIX.match(value):
            raise r.fail(node, f"{where}.regions", f"{value!r} is not a 行政区划代码 prefix (2 to 12 digits)")
        regions.append(value)
    levels = []
    for value, node in r.strings(f["levels"], f"{where}.levels") if "levels" in f else []:
        if value not in LEVEL_NAMES:
            raise r.fail(node, f"{where}.levels", f"unknown level {value!r} (known: {', '.join(LEVEL_NAMES)})")
        levels.append(value)
    ids = []
    for value, node in r.strings(f["agencies"], f"{where}.agencies") if "agencies" in f else []:
        if value not in agencies:
            raise r.fail(node, f"{where}.agencies", f"no agency with id {value!r}")
        ids.append(value)
    return Route(tuple(regions), tuple(levels), tuple(ids))


def _max_bytes(r: _Reader, f: dict, where: str, kind: str) -> int | None:
    if "max_bytes" not in f:
        return None
    high = 100_000_000 if kind == "generic" else LIMITS[kind].max_bytes
    return int(r.number(f["max_bytes"], f"{where}.max_bytes", 1024, high))


def _email(r: _Reader, node: yaml.Node, where: str, name: str, agencies: dict[str, Agency]) -> EmailChannel:
    e = r.mapping(
        node,
        where,
        {"host", "from", "to"},
        {"name", "port", "security", "username_env", "password_env", "max_bytes"} | ROUTE_KEYS,
    )
    host = r.string(e["host"], f"{where}.host")
    security = r.string(e["security"], f"{where}.security") if "security" in e else "starttls"
    if security not in ("starttls", "ssl", "none"):
        raise r.fail(e["security"], f"{where}.security", f"unknown {security!r} (known: starttls, ssl, none)")
    if security == "none" and not is_loopback(host):
        raise r.fail(
            e["security"],
            f"{where}.security",
            f"'none' sends mail and passwords unencrypted: only allowed for a relay on this machine "
            f"(localhost, 127.0.0.1 or ::1), not {host!r}; use starttls or ssl",
        )
    port = int(r.number(e["port"], f"{where}.port", 1, 65535)) if "port" in e else (465 if security == "ssl" else 587)
    to = []
    for address, address_node in r.strings(e["to"], f"{where}.to"):
        if "@" not in address:
            raise r.fail(address_node, f"{where}.to", f"{address!r} is not an email address")
        to.append(address)
    if not to:
        raise r.fail(e["to"], f"{where}.to", "at least one address is needed")
    username, password = _env_name(r, e, "username_env", where), _env_name(r, e, "password_env", where)
    if password and not username:
        raise r.fail(e["password_env"], f"{where}.password_env", "a password needs username_env too")
    return EmailChannel(
        host,
        port,
        r.string(e["from"], f"{where}.from"),
        tuple(to),
        security,
        username,
        password,
        r.string(e["name"], f"{where}.name") if "name" in e else name,
        _route(r, e, where, agencies),
        _max_bytes(r, e, where, "email") or LIMITS["email"].max_bytes,
    )


def _webhook_url(r: _Reader, node: yaml.Node, h: dict, where: str) -> str:
    if ("url" in h) == ("url_env" in h):
        raise r.fail(
            node,
            where,
            "give exactly one of url or url_env (robot URLs carry their token: prefer url_env)",
        )
    if "url" in h:
        url = r.string(h["url"], f"{where}.url")
        problem = webhook_url_problem(url)
        if problem:
            raise r.fail(
                h["url"], f"{where}.url", f"not a usable webhook URL: {problem} (the URL is not repeated: it carries a token)"
            )
        return url
    name = _env_name(r, h, "url_env", where)
    value = os.environ.get(name)
    problem = webhook_url_problem(value) if value is not None else None  # unset: said when an alert is sent
    if problem:
        raise r.fail(h["url_env"], f"{where}.url_env", f"the URL in environment variable {name} is not usable: {problem}")
    return "env:" + name


def _webhook(r: _Reader, node: yaml.Node, where: str, index: int, agencies: dict[str, Agency]) -> WebhookChannel:
    h = r.mapping(node, where, set(), {"kind", "url", "url_env", "secret_env", "name", "max_bytes", "max_messages"} | ROUTE_KEYS)
    kind = r.string(h["kind"], f"{where}.kind") if "kind" in h else "generic"
    if kind not in WEBHOOK_KINDS:
        raise r.fail(h["kind"], f"{where}.kind", f"unknown {kind!r} (known: {', '.join(WEBHOOK_KINDS)})")
    url = _webhook_url(r, node, h, where)
    if "secret_env" in h and kind not in SIGNED_KINDS:
        raise r.fail(h["secret_env"], f"{where}.secret_env", f"{kind} webhooks are not signed (only {', '.join(SIGNED_KINDS)})")
    return WebhookChannel(
        url,
        kind,
        _env_name(r, h, "secret_env", where),
        r.string(h["name"], f"{where}.name") if "name" in h else f"{kind}-{index}",
        _route(r, h, where, agencies),
        _max_bytes(r, h, where, kind),
        int(r.number(h["max_messages"], f"{where}.max_messages", 1, 10000)) if "max_messages" in h else None,
    )


def _archive_link(r: _Reader, f: dict) -> tuple[str | None, str]:
    url = r.string(f["archive_url"], "alerts.archive_url") if "archive_url" in f else None
    if url is not None and webhook_url_problem(url):
        raise r.fail(f["archive_url"], "alerts.archive_url", f"not a usable URL: {webhook_url_problem(url)}")
    page = r.string(f["front_page"], "alerts.front_page") if "front_page" in f else FRONT_PAGE
    try:
        page.format(region="4107", year=2024)
    except (KeyError, IndexError, ValueError):
        raise r.fail(f["front_page"], "alerts.front_page", "only {region} and {year} may be filled in") from None
    if not page.startswith("/"):
        raise r.fail(f["front_page"], "alerts.front_page", "a path on the archive's site, starting with /")
    return url, page


def alerts_section(r: _Reader, node: yaml.Node | None, agencies: dict[str, Agency]) -> AlertConfig:
    """``alerts: {log, archive_url, front_page, email: {...} or [{...}], webhooks: [{...}]}``; each
    email and webhook may name ``regions`` (code prefixes), ``levels`` and ``agencies``."""
    if node is None:
        return AlertConfig()
    f = r.mapping(node, "alerts", set(), {"log", "archive_url", "front_page", "email", "webhooks"})
    named: list[tuple] = []  # (channel, the node it was read from)
    if "log" not in f or f["log"].value in ("true", "True", "yes"):
        named.append((LogChannel(), f.get("log", node)))
    if "email" in f:
        single = isinstance(f["email"], yaml.MappingNode)
        for i, email_node in enumerate([f["email"]] if single else r.sequence(f["email"], "alerts.email")):
            where, name = ("alerts.email", "email") if single else (f"alerts.email[{i}]", f"email-{i}")
            named.append((_email(r, email_node, where, name, agencies), email_node))
    for i, hook in enumerate(r.sequence(f["webhooks"], "alerts.webhooks") if "webhooks" in f else []):
        named.append((_webhook(r, hook, f"alerts.webhooks[{i}]", i, agencies), hook))
    seen: set[str] = set()
    for channel, channel_node in named:
        if channel.name in seen:
            raise r.fail(channel_node, "alerts", f"two channels are named {channel.name!r}: each needs its own name")
        seen.add(channel.name)
    url, page = _archive_link(r, f)
    return AlertConfig([channel for channel, _ in named], url, page)
