"""Load and validate ``config.yaml``: portals to crawl, agencies that must report.

Every error names the file, the line and the reason, e.g.
``config.yaml:14: portals[2].family: unknown family 'trz' (known: auto, gdpost, …)``.
The YAML is read as a node tree (``yaml.compose``) so each value keeps its line.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from archive.alerts import AlertConfig
from archive.deadlines import STATUTORY, DeadlineRule, Deadlines
from archive.errors import ConfigError
from archive.isolation import Budget
from archive.tree import tree_depths

from .alert_config import alerts_section
from .schedule import JobSpec, ScheduleConfig, parse_cron

if TYPE_CHECKING:
    from .addresses import Network

FAMILIES = ("auto", "trs", "gdpost", "gkmlpt", "hanweb", "shtml_uuid", "vsb", "nextlink")
LEVELS = ("government", "department", "township")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_REGION = re.compile(r"^\d{6}(\d{6})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
# 国务院 → 省 → 市 → 县 → 乡 is five levels; departments and their units add a few
MAX_AGENCY_DEPTH = 12


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    level: str
    region: str
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    retired: str | None = None  # YYYY-MM-DD abolished or merged: no report expected for years after it


@dataclass(frozen=True)
class Portal:
    id: str
    name: str
    start_urls: tuple[str, ...]
    family: str
    owner: str
    hosts: tuple[str, ...]  # hosts the crawl may visit (start URLs' hosts + extra)
    selectors: dict[str, str] = field(default_factory=dict)
    agencies: tuple[str, ...] = ()  # agencies whose reports this portal lists ('' = owner's subtree)


@dataclass(frozen=True)
class CrawlSettings:
    delay: float = 1.5  # seconds between requests to one host
    concurrency: int = 64  # requests in flight across all hosts
    per_host: int = 1  # requests in flight per host
    timeout: float = 30.0
    retries: int = 3
    max_download_mb: float = 100.0
    max_redirects: int = 5
    max_list_pages: int = 200
    revalidate_days: float = 30.0  # archived pages/attachments younger than this are not re-requested
    full_walk_days: float = 7.0  # an incremental crawl still reads each list to its end this often
    retry_after_max: float = 300.0  # a longer Retry-After is not waited for: the request is given up
    allow_networks: tuple[str, ...] = ()  # internal networks the crawl may reach (only for mock portals)
    workers: int = 0  # crawl processes (portals sharing a host share one); 0: one per core
    # once there are 50 portals per process


@dataclass(frozen=True)
class Config:
    path: Path
    contact: str
    portals: dict[str, Portal]
    agencies: dict[str, Agency]
    crawl: CrawlSettings
    parse: Budget = Budget()
    parse_workers: int = 0  # 0: one per core but one
    deadlines: Deadlines = Deadlines()
    alerts: AlertConfig = field(default_factory=AlertConfig)
    schedule: ScheduleConfig = ScheduleConfig()

    def listed_on(self, portal: Portal) -> list[str]:
        """Agencies whose reports the portal lists: those named, else the owner and its whole subtree."""
        if portal.agencies:
            return list(portal.agencies)
        children: dict[str | None, list[str]] = {}
        for agency in self.agencies.values():
            children.setdefault(agency.parent, []).append(agency.id)
        out, stack = [], [portal.owner]
        while stack:
            current = stack.pop()
            out.append(current)
            stack += children.get(current, [])
        return out

    def portal(self, portal_id: str) -> Portal:
        try:
            return self.portals[portal_id]
        except KeyError:
            raise ConfigError(
                f"{self.path}: no portal with id {portal_id!r} (known: {', '.join(sorted(self.portals)) or 'none'})"
            ) from None


class _Reader:
    """Typed access to a YAML node tree, with file:line in every error."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, node: yaml.Node | None, where: str, reason: str) -> ConfigError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return ConfigError(f"{self.path}{line}: {where}: {reason}")

    def mapping(self, node: yaml.Node, where: str, required: set[str], optional: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "expected a mapping (key: value)")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in out:
                raise self.fail(key_node, f"{where}.{key}", "duplicate key")
            if key not in required | optional:
                known = ", ".join(sorted(required | optional))
                raise self.fail(key_node, f"{where}.{key}", f"unknown key (known: {known})")
            out[key] = value_node
        missing = sorted(required - out.keys())
        if missing:
            raise self.fail(node, where, f"missing {', '.join(missing)}")
        return out

    def string(self, node: yaml.Node, where: str, controls: bool = False) -> str:
        """A non-empty text value; control characters refused unless ``controls`` (the caller
        checks the value itself, e.g. a secret URL whose error must not show it)."""
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith((":null", ":bool")) or not str(node.value).strip():
            raise self.fail(node, where, "expected a non-empty text value")
        value = str(node.value).strip()
        if not controls and (m := _CONTROL.search(value)):
            raise self.fail(node, where, f"control character {m.group()!r} in the value (a NUL byte or line break escaped?)")
        return value

    def number(self, node: yaml.Node, where: str, low: float, high: float) -> float:
        try:
            value = float(node.value) if isinstance(node, yaml.ScalarNode) else None
        except ValueError:
            value = None
        if value is None or not (low <= value <= high):
            raise self.fail(node, where, f"expected a number from {low:g} to {high:g}")
        return value

    def integer(self, node: yaml.Node, where: str, low: int, high: int) -> int:
        value = self.number(node, where, low, high)
        if value != int(value):
            raise self.fail(node, where, f"expected a whole number from {low} to {high}, not {node.value}")
        return int(value)

    def strings(self, node: yaml.Node, where: str) -> list[tuple[str, yaml.Node]]:
        if isinstance(node, yaml.ScalarNode):
            return [(self.string(node, where), node)]
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, "expected a list of text values")
        return [(self.string(n, f"{where}[{i}]"), n) for i, n in enumerate(node.value)]

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, "expected a list")
        return node.value


def _url(r: _Reader, value: str, node: yaml.Node, where: str) -> str:
    """An http(s) URL with a valid host name or IP address and a valid port."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 — raises for a port out of range or not a number
    except ValueError as e:
        raise r.fail(node, where, f"not a valid URL: {value!r} ({e})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise r.fail(node, where, f"not an http(s) URL: {value!r}")
    _host(r, parts.hostname, node, where, None)
    return value


def _host(r: _Reader, host: str, node: yaml.Node, where: str, allowed: tuple[Network, ...] | None) -> str:
    """A host name (letters, digits, '-' and dots; IDN as punycode) or an IP address (one
    the crawl may reach, when ``allowed`` is given)."""
    host = host.lower().strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise r.fail(node, where, f"{host!r} is not a host name (no wildcards; IDN hosts as punycode, xn--…)") from None
        return host
    if allowed is None:
        return host
    from .addresses import refusal  # Scrapy's resolver comes with it: only when a config names an IP

    why = refusal(host, allowed)
    if why:
        raise r.fail(node, where, f"{host} is a {why} address: the crawl may not reach it (only crawl.allow_networks lifts that)")
    return host


def _agency(r: _Reader, node: yaml.Node, where: str) -> tuple[Agency, dict[str, yaml.Node]]:
    f = r.mapping(node, where, {"id", "name", "level", "region"}, {"parent", "aliases", "retired"})
    agency_id = r.string(f["id"], f"{where}.id")
    if not _ID.match(agency_id):
        raise r.fail(f["id"], f"{where}.id", f"{agency_id!r}: use lower-case letters, digits, '-', '_' or '.'")
    level = r.string(f["level"], f"{where}.level")
    if level not in LEVELS:
        raise r.fail(f["level"], f"{where}.level", f"unknown level {level!r} (known: {', '.join(LEVELS)})")
    region = r.string(f["region"], f"{where}.region")
    if not _REGION.match(region):
        raise r.fail(f["region"], f"{where}.region", f"{region!r} is not a 行政区划代码 (6 digits, or 12 for a township)")
    aliases = tuple(a for a, _ in r.strings(f["aliases"], f"{where}.aliases")) if "aliases" in f else ()
    parent = r.string(f["parent"], f"{where}.parent") if "parent" in f else None
    retired = _date(r, f["retired"], f"{where}.retired") if "retired" in f else None
    return Agency(agency_id, r.string(f["name"], f"{where}.name"), level, region, parent, aliases, retired), f


def _date(r: _Reader, node: yaml.Node, where: str) -> str:
    value = r.string(node, where)
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise r.fail(node, where, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _deadlines(r: _Reader, node: yaml.Node | None) -> Deadlines:
    """``deadlines: {grace_days: N, rules: [{date: MM-DD, level, region, from_year, to_year, note}]}``:
    local rules added to the statutory ones; the most specific match wins."""
    if node is None:
        return Deadlines()
    f = r.mapping(node, "deadlines", set(), {"grace_days", "rules"})
    grace = int(r.number(f["grace_days"], "deadlines.grace_days", 0, 365)) if "grace_days" in f else Deadlines.grace_days
    rules = []
    for i, rule_node in enumerate(r.sequence(f["rules"], "deadlines.rules") if "rules" in f else []):
        where = f"deadlines.rules[{i}]"
        rf = r.mapping(rule_node, where, {"date"}, {"level", "region", "from_year", "to_year", "note"})
        text = r.string(rf["date"], f"{where}.date")
        try:
            month, day = (int(x) for x in text.split("-"))
            date(2001, month, day)
        except ValueError:
            raise r.fail(rf["date"], f"{where}.date", f"{text!r} is not a month-day (MM-DD)") from None
        level = r.string(rf["level"], f"{where}.level") if "level" in rf else None
        if level is not None and level not in LEVELS:
            raise r.fail(rf["level"], f"{where}.level", f"unknown level {level!r} (known: {', '.join(LEVELS)})")
        region = r.string(rf["region"], f"{where}.region") if "region" in rf else ""
        if region and not region.isdigit():
            raise r.fail(rf["region"], f"{where}.region", f"{region!r} is not a 行政区划代码 prefix (digits)")
        years = {k: int(r.number(rf[k], f"{where}.{k}", 2007, 2100)) for k in ("from_year", "to_year") if k in rf}
        rules.append(
            DeadlineRule(
                month,
                day,
                level,
                region,
                years.get("from_year", 2007),
                years.get("to_year"),
                r.string(rf["note"], f"{where}.note") if "note" in rf else "",
            )
        )
    return Deadlines(STATUTORY + tuple(rules), grace)


def _schedule(r: _Reader, node: yaml.Node | None) -> ScheduleConfig:
    """``schedule: {timezone, misfire_grace_days, jobs: [{id, cron, note}]}``; without
    jobs, the calendar follows the deadline rules (``crawler.schedule.default_jobs``)."""
    if node is None:
        return ScheduleConfig()
    f = r.mapping(node, "schedule", set(), {"timezone", "misfire_grace_days", "jobs"})
    zone = r.string(f["timezone"], "schedule.timezone") if "timezone" in f else ScheduleConfig.timezone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.fail(f["timezone"], "schedule.timezone", f"unknown time zone {zone!r} (e.g. Asia/Shanghai)") from None
    grace = (
        r.number(f["misfire_grace_days"], "schedule.misfire_grace_days", 0, 366)
        if "misfire_grace_days" in f
        else ScheduleConfig.misfire_grace_days
    )
    jobs: dict[str, JobSpec] = {}
    for i, job_node in enumerate(r.sequence(f["jobs"], "schedule.jobs") if "jobs" in f else []):
        where = f"schedule.jobs[{i}]"
        jf = r.mapping(job_node, where, {"id", "cron"}, {"note"})
        job_id = r.string(jf["id"], f"{where}.id")
        if job_id in jobs:
            raise r.fail(jf["id"], f"{where}.id", f"duplicate job id {job_id!r}")
        try:
            fields = parse_cron(r.string(jf["cron"], f"{where}.cron"))
        except ValueError as e:
            raise r.fail(jf["cron"], f"{where}.cron", str(e)) from None
        jobs[job_id] = JobSpec(job_id, fields, r.string(jf["note"], f"{where}.note") if "note" in jf else "")
    return ScheduleConfig(zone, float(grace), tuple(jobs.values()))


def _portal(r: _Reader, node: yaml.Node, where: str, allowed: tuple[Network, ...]) -> tuple[Portal, dict[str, yaml.Node]]:
    f = r.mapping(node, where, {"id", "start_urls", "owner"}, {"name", "family", "selectors", "hosts", "agencies"})
    portal_id = r.string(f["id"], f"{where}.id")
    if not _ID.match(portal_id):
        raise r.fail(f["id"], f"{where}.id", f"{portal_id!r}: use lower-case letters, digits, '-', '_' or '.'")
    # an internal address in a start URL is refused when requested (forbidden_address: the portal is
    # unreachable, the rest of the crawl goes on); an extra host widens the crawl's scope: checked here
    urls = [_url(r, u, n, f"{where}.start_urls") for u, n in r.strings(f["start_urls"], f"{where}.start_urls")]
    if not urls:
        raise r.fail(f["start_urls"], f"{where}.start_urls", "at least one URL is needed")
    family = r.string(f["family"], f"{where}.family") if "family" in f else "auto"
    if family not in FAMILIES:
        raise r.fail(f["family"], f"{where}.family", f"unknown family {family!r} (known: {', '.join(FAMILIES)})")
    selectors: dict[str, str] = {}
    if "selectors" in f:
        sf = r.mapping(f["selectors"], f"{where}.selectors", set(), {"item", "title", "date", "next", "body"})
        selectors = {k: r.string(v, f"{where}.selectors.{k}") for k, v in sf.items()}
    hosts = {urlsplit(u).hostname for u in urls}
    if "hosts" in f:
        hosts |= {_host(r, h, n, f"{where}.hosts", allowed) for h, n in r.strings(f["hosts"], f"{where}.hosts")}
    agencies = tuple(a for a, _ in r.strings(f["agencies"], f"{where}.agencies")) if "agencies" in f else ()
    return Portal(
        portal_id,
        r.string(f["name"], f"{where}.name") if "name" in f else portal_id,
        tuple(urls),
        family,
        r.string(f["owner"], f"{where}.owner"),
        tuple(sorted(hosts)),
        selectors,
        agencies,
    ), f


def _crawl(r: _Reader, node: yaml.Node | None) -> CrawlSettings:
    if node is None:
        return CrawlSettings()
    limits = {
        "delay": (0, 600),
        "concurrency": (1, 4096),
        "per_host": (1, 64),
        "timeout": (1, 3600),
        "retries": (0, 20),
        "max_download_mb": (0.01, 10240),
        "max_redirects": (0, 50),
        "max_list_pages": (1, 100000),
        "revalidate_days": (0, 3650),
        "full_walk_days": (0, 3650),
        "retry_after_max": (0, 86400),
        "workers": (0, 64),
    }
    f = r.mapping(node, "crawl", set(), set(limits) | {"allow_networks"})
    values: dict = {}
    if "allow_networks" in f:
        nets = r.strings(f.pop("allow_networks"), "crawl.allow_networks")
        for text, net_node in nets:
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise r.fail(net_node, "crawl.allow_networks", f"{text!r} is not an IP network (e.g. 127.0.0.0/8)") from None
        values["allow_networks"] = tuple(t for t, _ in nets)
    whole = {key for key in limits if isinstance(getattr(CrawlSettings, key), int)}
    values.update(_numbers(r, f, "crawl", limits, whole))
    return CrawlSettings(**values)


def _numbers(r: _Reader, fields: dict[str, yaml.Node], section: str, limits: dict, whole: set[str]) -> dict:
    """A section's numbers, each within its limits; those in ``whole`` whole numbers."""
    return {
        key: (r.integer if key in whole else r.number)(node, f"{section}.{key}", *limits[key]) for key, node in fields.items()
    }


def _parse(r: _Reader, node: yaml.Node | None) -> tuple[Budget, int]:
    """``parse: {wall_seconds, cpu_seconds, memory_mb, attempts, workers}``: each document's
    parse budget (archive.isolation) and the parse worker processes (0: one per core but one)."""
    if node is None:
        return Budget(), 0
    limits = {
        "wall_seconds": (1, 86400),
        "cpu_seconds": (1, 86400),
        "memory_mb": (256, 1048576),
        "attempts": (1, 100),
        "workers": (0, 256),
    }
    values = _numbers(r, r.mapping(node, "parse", set(), set(limits)), "parse", limits, {"memory_mb", "attempts", "workers"})
    workers = values.pop("workers", 0)
    return Budget(**values), workers


_LOADED: dict[tuple[str, int, int], Config] = {}


def load_config(path: str | Path) -> Config:
    """The validated configuration; a file read again unchanged (same mtime and size)
    is not parsed again (a crawl needs it in the runner, Scrapy's settings and the spider)."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = _parse_config(path)
    return _LOADED[key]


def _parse_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when present
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {e.problem or e.context}") from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (a NUL byte …): no mark, a position
        line = text.count("\n", 0, e.position) + 1
        char = chr(e.character) if isinstance(e.character, int) else e.character
        raise ConfigError(f"{path}:{line}: not valid YAML: character {char!r} is not allowed in a config file") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {str(e).splitlines()[0]}") from None
    r = _Reader(path)
    if root is None:
        raise ConfigError(f"{path}: the file is empty")
    top = r.mapping(root, "config", {"portals", "agencies"}, {"contact", "crawl", "parse", "deadlines", "alerts", "schedule"})

    agencies: dict[str, Agency] = {}
    agency_nodes: dict[str, dict[str, yaml.Node]] = {}
    for i, node in enumerate(r.sequence(top["agencies"], "agencies")):
        agency, fields = _agency(r, node, f"agencies[{i}]")
        if agency.id in agencies:
            raise r.fail(fields["id"], f"agencies[{i}].id", f"duplicate agency id {agency.id!r}")
        agencies[agency.id] = agency
        agency_nodes[agency.id] = fields
    for agency_id, agency in agencies.items():
        if agency.parent is not None and agency.parent not in agencies:
            raise r.fail(agency_nodes[agency_id]["parent"], f"agency {agency_id}.parent", f"no agency with id {agency.parent!r}")
    _check_tree(r, agencies, agency_nodes)

    crawl = _crawl(r, top.get("crawl"))
    allowed = tuple(ipaddress.ip_network(n, strict=False) for n in crawl.allow_networks)
    portals: dict[str, Portal] = {}
    for i, node in enumerate(r.sequence(top["portals"], "portals")):
        portal, fields = _portal(r, node, f"portals[{i}]", allowed)
        if portal.id in portals:
            raise r.fail(fields["id"], f"portals[{i}].id", f"duplicate portal id {portal.id!r}")
        for key, ids in (("owner", (portal.owner,)), ("agencies", portal.agencies)):
            for agency_id in ids:
                if agency_id not in agencies:
                    raise r.fail(fields[key], f"portals[{i}].{key}", f"no agency with id {agency_id!r}")
        portals[portal.id] = portal

    contact = r.string(top["contact"], "contact") if "contact" in top else ""
    budget, parse_workers = _parse(r, top.get("parse"))
    return Config(
        path,
        contact,
        portals,
        agencies,
        crawl,
        budget,
        parse_workers,
        _deadlines(r, top.get("deadlines")),
        alerts_section(r, top.get("alerts"), agencies),
        _schedule(r, top.get("schedule")),
    )


def _check_tree(r: _Reader, agencies: dict[str, Agency], nodes: dict[str, dict[str, yaml.Node]]) -> None:
    """No parent cycles, no chain deeper than ``MAX_AGENCY_DEPTH`` (checked without recursion)."""
    try:
        depths = tree_depths({a.id: a.parent for a in agencies.values()})
    except ValueError as e:
        start = e.args[0]
        raise r.fail(nodes[start].get("parent"), f"agency {start}.parent", "parents form a cycle") from None
    deepest = max(depths, key=depths.__getitem__, default=None)
    if deepest is not None and depths[deepest] > MAX_AGENCY_DEPTH:
        raise r.fail(
            nodes[deepest].get("parent"),
            f"agency {deepest}.parent",
            f"{depths[deepest]} levels of parents (at most {MAX_AGENCY_DEPTH}: 国务院 → 省 → 市 → 县 → 乡 is five)",
        )
