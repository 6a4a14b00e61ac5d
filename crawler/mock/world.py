"""The mock world: counties with their agencies, the reports they published, the
portals (one CMS family each) that list them, and what a correct crawl must find.

Everything is generated deterministically from (kind, port), so the server
process and a test build the same world: the server to serve it, the test to
know the truth. Each portal lives on its own loopback address (127.42.x.y), so
per-host politeness is real.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from ..config import Agency
from .corpus import BaseText, base_texts

FAMILIES = ("trs", "gdpost", "gkmlpt", "hanweb", "shtml_uuid", "vsb", "nextlink")
_A = "青临白石东西南北安永长平新清金云玉兴"
_B = "山江河水阳川宁丰城源溪林"
DEPARTMENTS = [
    ("住房和城乡建设局", "住建局"),
    ("财政局", None),
    ("教育局", None),
    ("民政局", None),
    ("自然资源局", "自然资源局"),
    ("交通运输局", "交通局"),
    ("卫生健康委员会", "卫健委"),
    ("市场监督管理局", "市场监管局"),
    ("生态环境分局", None),
    ("农业农村局", "农业农村局"),
]
TOWNS = ["城关镇", "河口镇", "新华街道", "东关街道", "白杨乡"]
DISTRACTORS = [
    "关于做好{y}年政府信息公开工作年度报告编制发布工作的通知",
    "《{county}{y}年政府信息公开工作年度报告》解读",
    "{county}{y1}年政务公开工作要点",
    "关于召开全县政务公开工作推进会的通知",
    "图解：{county}{y}年政府信息公开工作年度报告",
]
PDF_BASES = ("seed003.txt",)
HTML_BASES = ("seed000.txt", "seed001.txt", "seed003.txt", "seed004.txt", "realdoc04.txt")


# report pages a crawl cannot read: never archived, always a recorded problem
UNREADABLE = ("soft404", "offhost", "loop", "hang", "reset", "truncate", "gzip_bomb")
# soak worlds: each faulty portal injects one of these
FAULTS = (
    "err500",  # every request answered 500 (no Retry-After): the portal is down
    "err503",  # the list answers 503 (no Retry-After), then 500 + Retry-After, then recovers
    "items",  # report pages that hang, reset, truncate, gzip-bomb, loop; a 50 MB attachment
    "charset",  # every report page GBK under a header saying UTF-8
    "calendar",  # the list pages on forever through empty calendar pages
    "many_urls",  # every report linked under several URLs
    "offsite",  # report-like links to other domains and to private addresses
    "poison",  # three reports whose only file is hostile: see POISON
)
# attachments that once stopped the archive (issue 13), by kind → file extension
POISON = {"poison_xlsx": "xlsx", "glyph_pdf": "pdf", "bomb_pdf": "pdf"}
# list layouts real portals use beyond the families' plain ones (crawler/mock/families.py),
# with the family each is built on and the family a user would configure for it
LAYOUTS = {
    "comment": ("trs", "auto"),  # items and the createPageHTML call inside HTML comments; meta PubDate misleading
    "script_json": ("trs", "auto"),  # an articleList JS array rendered by a template engine
    "search_api": ("trs", "auto"),  # TRS avalon/trsapi: an empty shell POSTing to a JSON search API
    "hanweb_json": ("hanweb", "hanweb"),  # Hanweb JPaaS: GET with paramJson, rendered <li> markup inside JSON
    "sibling_dates": ("nextlink", "auto"),  # <dt> title + <dd> date, and date <div>s beside title <div>s
    "year_tabs": ("trs", "trs"),  # the 年报 column holds only per-year sub-columns (2024年度 / 2023年度)
    "unreadable": ("nextlink", "auto"),  # items rendered from an encrypted blob: no crawl can read them
    "jspager": ("nextlink", "auto"),  # page 1 readable, later pages only through a JavaScript pager
}
READABLE_LAYOUTS = ("comment", "script_json", "search_api", "hanweb_json", "sibling_dates", "year_tabs")
# what can happen to a report after it was published (``change``, between two crawls): an item's
FATES = (
    "unlisted",  # taken off the list; its page still answers
    "http404",  # its page answers 404 (still listed)
    "http410",  # its page answers 410 (still listed)
    "soft404_home",  # its page redirects to the home page (still listed)
    "soft404_page",  # its page answers 200 saying the page does not exist (still listed)
    "moved",  # the same page at a new URL, listed there; the old URL answers 404
    "replaced",  # other numbers at the same URL
)
# … and a portal's
PORTAL_FATES = ("down", "list_tail")  # every request 500; list pages after the first 500


def ip_for(index: int) -> str:
    return f"127.42.{index // 250}.{index % 250 + 1}"


SPAM_IP = "127.42.250.1"  # a spam mirror cloning government paths, outside every portal


@dataclass
class Attachment:
    path: str
    name: str
    kind: str  # pdf, docx, doc, zip, big
    text: str = ""


@dataclass
class Item:
    """One entry of a 年报 column: a report or a distractor."""

    id: int
    title: str
    published: date
    listed_title: str = ""  # as the list shows it (may be cut short with …)
    report: bool = True
    agency: Agency | None = None
    year: int | None = None
    base: BaseText | None = None
    fmt: str = "html"  # html, pdf, docx, doc, zip, image, multipage, scan (image-only PDF), jpg (a photographed page),
    # poison
    title_agency: bool = True  # the title names the agency (else only ContentSource does)
    special: str | None = None  # gbk, wap, multipage, image, doc, zip, soft404, offhost, loop, retry_after, oversize,
    # meta_regen, or a POISON kind
    fate: str | None = None  # after publication (see FATES): unlisted, http404, http410, soft404_home, soft404_page
    path: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)


@dataclass
class Portal:
    id: str
    family: str
    configured_family: str
    ip: str
    port: int
    county: str
    owner: Agency
    agencies: list[Agency]
    items: list[Item]
    start_paths: list[str]
    hostile: str | None = None  # robots, waf521, waf412
    fault: str | None = None  # soak worlds: a fault this portal injects (see FAULTS)
    layout: str | None = None  # a list layout beyond the family's plain one (see LAYOUTS)
    hidden: set[int] = field(default_factory=set)  # items no crawl can see in the list (unreadable layouts)

    def url(self, path: str) -> str:
        return f"http://{self.ip}:{self.port}{path}"

    @property
    def start_urls(self) -> list[str]:
        return [self.url(p) for p in self.start_paths]

    def expected_reports(self) -> list[dict]:
        out = []
        for item in self.items:
            visible = item.id not in self.hidden and not self.hostile and self.fault != "err500"
            if item.report and item.special not in UNREADABLE and visible:
                out.append(
                    {
                        "url": self.url(item.path),
                        "agency_id": item.agency.id,
                        "year": item.year,
                        "published": item.published.isoformat(),
                        "published_source": _date_source(self, item),
                        "attachments": sorted(self.url(a.path) for a in item.attachments),
                        "parts": [self.url(p) for p in item.parts],
                    }
                )
        return out

    def expected_problems(self) -> list[tuple[str, str]]:
        if self.hostile == "robots":
            return [("robots_disallowed", u) for u in self.start_urls]
        if self.hostile in ("waf521", "waf412"):
            return [("blocked", u) for u in self.start_urls]
        kinds = {"soft404": "soft_404", "offhost": "offsite", "loop": "redirect_loop", "oversize": "oversize"}
        out = []
        for item in self.items:
            if item.special in kinds:
                url = self.url(item.path)
                if item.special == "oversize":
                    url = self.url(next(a.path for a in item.attachments if a.kind == "big"))
                out.append((kinds[item.special], url))
        return out


def _date_source(portal: Portal, item: Item) -> str:
    """Where a correct crawl takes the item's publication date from."""
    if portal.family == "nextlink":
        return "page"  # no meta PubDate: the visible 发布时间
    return "page" if item.special == "meta_regen" else "meta"


@dataclass
class World:
    port: int
    portals: list[Portal]

    @property
    def agencies(self) -> list[Agency]:
        return [a for p in self.portals for a in p.agencies]

    def portal(self, portal_id: str) -> Portal:
        return next(p for p in self.portals if p.id == portal_id)


def _cn_year(year: int) -> str:
    digits = "〇一二三四五六七八九"
    return "".join(digits[int(d)] for d in str(year))


def _title(agency: Agency, year: int, variant: int, county: str) -> tuple[str, bool]:
    """A report title in one of the forms portals use; the flag says whether it names the agency."""
    name = agency.name
    if variant == 1:
        return f"{name}{year}年度政府信息公开工作年度报告", True
    if variant == 2:
        return f"{year}年政府信息公开工作年度报告（{name}）", True
    if variant == 3:
        return f"{name}{_cn_year(year)}年政府信息公开工作年度报告", True
    if variant == 4 and agency.aliases:
        return f"{agency.aliases[0]}{year}年政府信息公开工作年度报告", True
    if variant == 5 and agency.level == "department":
        return f"{year}年政府信息公开工作年度报告", False
    return f"{name}{year}年政府信息公开工作年度报告", True


PINNED = {6: "凤泉区"}  # the demo/test world's nextlink county: seed 004 is 凤泉区人民政府's own report


@lru_cache(maxsize=1)
def real_counties() -> tuple[tuple[str, str], ...]:
    """(name, code) of real counties, 新乡市's first, each name once: the mock counties
    carry real 行政区划代码 so every view can name their regions."""
    from archive.regions import package_regions

    counties = [r for r in package_regions() if r.level == "county"]
    counties.sort(key=lambda r: (not r.code.startswith("4107"), r.code))
    seen: dict[str, str] = {}
    for r in counties:
        seen.setdefault(r.name, r.code)
    return tuple(seen.items())


def county_for(index: int, pinned: dict[int, str]) -> tuple[str, str]:
    """The (name, code) of the index-th mock county; past the real ones, made-up names
    under the unused province code 99."""
    real = real_counties()
    if index in pinned:
        return pinned[index], dict(real)[pinned[index]]
    free = [c for c in real if c[0] not in pinned.values()]
    if index < len(free):
        return free[index]
    name = _A[index % len(_A)] + _B[(index // len(_A)) % len(_B)] + ("县" if index % 3 else "区")
    return f"{name[:-1]}{index}{name[-1]}", f"99{index % 10000:04d}"


def _county(
    index: int,
    port: int,
    family: str,
    rng: random.Random,
    n_departments: int,
    years: tuple[int, ...],
    hostile: str | None = None,
    pinned: dict[int, str] | None = None,
) -> Portal:
    county, region = county_for(index, pinned or {})
    gov = Agency(f"c{index}", f"{county}人民政府", "government", region, aliases=(f"{county}政府",))
    agencies = [gov]
    for d, (dept, short) in enumerate(DEPARTMENTS[:n_departments]):
        aliases = (f"{county[-1]}{short}", f"{county}{short}") if short else ()
        agencies.append(Agency(f"c{index}-d{d}", f"{county}{dept}", "department", region, gov.id, aliases))
    for t, town in enumerate(TOWNS[: max(1, n_departments // 3)]):
        agencies.append(Agency(f"c{index}-t{t}", f"{county}{town}", "township", region, gov.id))
    items: list[Item] = []
    next_id = 4_300_000 + index * 1000
    for year in years:
        for k, agency in enumerate(agencies):
            deadline = date(year + 1, 3, 31) if agency.level == "government" else date(year + 1, 1, 31)
            published = deadline - timedelta(days=rng.randint(0, 28))
            if rng.random() < 0.08:
                published = deadline + timedelta(days=rng.randint(3, 60))  # a late one
            title, names = _title(agency, year, (k + year + index) % 6, county)
            bases = [b for n, b in base_texts().items() if n in HTML_BASES]
            item = Item(
                next_id,
                title,
                published,
                report=True,
                agency=agency,
                year=year,
                base=bases[(k + index) % len(bases)],
                title_agency=names,
            )
            fmt_cycle = ("html", "html", "pdf", "docx", "html", "pdf")
            item.fmt = fmt_cycle[(k + year) % len(fmt_cycle)]
            if item.fmt == "pdf":
                item.base = base_texts()[PDF_BASES[(k + year) % len(PDF_BASES)]]
            next_id += 1
            items.append(item)
        for d, pattern in enumerate(DISTRACTORS[: 2 + index % 3]):
            items.append(
                Item(next_id, pattern.format(y=year, y1=year + 1, county=county), date(year + 1, 1, 5 + d), report=False)
            )
            next_id += 1
    items.sort(key=lambda i: (i.published, i.id), reverse=True)
    return Portal(f"{family}-{index}", family, family, ip_for(index), port, county, gov, agencies, items, [], hostile)


def _special(portal: Portal, special: str, fmt: str | None = None) -> Item:
    """Give the next plain HTML report of the portal a special behaviour (and format)."""
    for item in portal.items:
        if item.report and item.special is None and item.fmt == "html":
            item.special = special
            item.fmt = fmt or item.fmt
            return item
    raise LookupError(f"no plain report left on {portal.id} for {special}")


def _laid_out(index: int, port: int, layout: str, rng: random.Random, departments: int = 2) -> Portal:
    family, configured = LAYOUTS[layout]
    portal = _county(index, port, family, rng, departments, (2023, 2024))
    portal.id, portal.layout, portal.configured_family = f"{layout}-{index}", layout, configured
    if layout == "comment":  # its pages' meta PubDate is a regeneration time, not the publication
        for item in portal.items:
            if item.report and item.special is None and item.fmt == "html":
                item.special = "meta_regen"
    return portal


def build_world(kind: str, port: int) -> World:
    """``demo``/``test``: one county per family, the list layouts, and the hostile cases (the
    demo also has scanned reports); ``bench:N``: N counties; ``soak:N``: N counties, a fifth
    faulty, some in the readable layouts; ``poison``: four counties, one serving hostile
    documents; ``fates``: eight small counties, for what happens to reports after they were
    published (``change``)."""
    rng = random.Random(20251121)
    portals: list[Portal] = []
    if kind.startswith("bench:"):
        for i in range(int(kind.split(":", 1)[1])):
            portals.append(_county(i, port, FAMILIES[i % len(FAMILIES)], rng, 4, (2023, 2024)))
    elif kind.startswith("soak:"):  # soak:N — every fifth portal injects a fault
        for i in range(int(kind.split(":", 1)[1])):
            fault = FAULTS[(i // 5) % len(FAULTS)] if i % 5 == 0 else None
            if i % 5 == 1:  # healthy portals in the layouts real portals use
                portal = _laid_out(i, port, READABLE_LAYOUTS[(i // 5) % len(READABLE_LAYOUTS)], rng, 4)
                portals.append(portal)
                continue
            family = "nextlink" if fault in ("calendar", "offsite", "many_urls") else FAMILIES[i % len(FAMILIES)]
            portal = _county(i, port, family, rng, 4, (2023, 2024))
            portal.fault = fault
            portals.append(portal)
            if fault == "items":
                for special in ("hang", "reset", "truncate", "gzip_bomb", "loop", "oversize"):
                    _special(portal, special)
            elif fault == "charset":
                for item in portal.items:
                    if item.report and item.fmt == "html" and item.special is None:
                        item.special = "gbk"
            elif fault == "poison":
                for poison in POISON:
                    _special(portal, poison, "poison")
    elif kind == "fates":  # small counties, one per case of what happens after publication (``change``)
        for i, family in enumerate(("trs", "nextlink", "gdpost", "vsb", "shtml_uuid", "trs", "nextlink", "trs", "gdpost")):
            portals.append(_county(i, port, family, rng, 2, (2023, 2024)))
    elif kind == "poison":  # three healthy counties and one portal serving poison beside its good reports
        for i in range(4):
            portals.append(_county(i, port, FAMILIES[i], rng, 3, (2023, 2024)))
        portals[-1].fault = "poison"
        for poison in POISON:
            _special(portals[-1], poison, "poison")
    else:
        for i, family in enumerate(FAMILIES):
            portals.append(_county(i, port, family, rng, 5, (2023, 2024), pinned=PINNED))
        portals.append(_county(len(portals), port, "trs", rng, 2, (2024,), pinned=PINNED))
        portals[-1].configured_family = "auto"
        portals[-1].id = f"auto-{len(portals) - 1}"
        for hostile in ("robots", "waf521", "waf412"):
            portals.append(_county(len(portals), port, "nextlink", rng, 1, (2024,), hostile, pinned=PINNED))
            portals[-1].id = f"{hostile}-{len(portals) - 1}"
        for layout in LAYOUTS:
            portals.append(_laid_out(len(portals), port, layout, rng))
        trs, gd, hanweb, fengquan = portals[0], portals[1], portals[3], portals[6]
        silent = portals[4].agencies[-1]  # a township that reported for 2023 and then fell silent
        portals[4].items = [i for i in portals[4].items if not (i.agency is silent and i.year == 2024)]
        for portal, special, fmt in (
            (trs, "gbk", None),
            (trs, "wap", None),
            (trs, "multipage", "multipage"),
            (gd, "image", "image"),
            (hanweb, "zip", "zip"),
            *((fengquan, s, None) for s in ("soft404", "offhost", "loop", "retry_after", "oversize")),
        ):
            _special(portal, special, fmt)
        # seed 004 is 凤泉区人民政府's own 2021 report; the portal also carries it as a Word 97 file
        gov = fengquan.owner
        fengquan.items.append(
            Item(
                fengquan.items[-1].id + 500,
                f"{gov.name}2021年政府信息公开工作年度报告",
                date(2022, 3, 28),
                agency=gov,
                year=2021,
                base=base_texts()["seed004.txt"],
                fmt="doc",
                special="doc",
            )
        )
        if kind == "demo":  # scans are slow to read: the demo shows them, the test world has none
            for fmt in ("scan", "jpg"):
                _special(portals[2], fmt, fmt)
    from .families import assign_paths, hide_unreadable

    for portal in portals:
        assign_paths(portal)
        hide_unreadable(portal)
    return World(port, portals)


def change(world: World, portal_id: str, fate: str, item_id: int | None = None) -> None:
    """What happens to a portal or one of its reports between two crawls (``FATES``,
    ``PORTAL_FATES``); the mock server applies the same to the world it serves."""
    portal = world.portal(portal_id)
    if fate in PORTAL_FATES:
        portal.fault = {"down": "err500", "list_tail": "list_tail"}[fate]
        return
    item = next(i for i in portal.items if i.id == item_id)
    if fate == "moved":
        moved = re.sub(r"(\d+)(\.\w+)$", r"\g<1>9\2", item.path)
        if moved == item.path or item.attachments or item.parts:
            raise ValueError(f"item {item_id} of {portal_id} cannot move")
        item.path = moved
    elif fate == "replaced":  # another base text: other numbers
        item.base = next(b for n, b in base_texts().items() if n in HTML_BASES and b is not item.base)
    elif fate in FATES:
        item.fate = fate
    else:
        raise ValueError(f"unknown fate {fate!r} (known: {', '.join(FATES + PORTAL_FATES)})")


def hex32(*parts: object) -> str:
    return hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()


def config_yaml(world: World, delay: float = 0.0, concurrency: int = 32, **crawl: float) -> str:
    """A config.yaml for the mock world, as a user would write it for the real portals."""
    settings = {
        "delay": delay,
        "concurrency": concurrency,
        "per_host": 1,
        "timeout": 10,
        "retries": 2,
        "max_download_mb": 2,
        "retry_after_max": 10,
        **crawl,
    }
    lines = ['contact: "年报演示 nianbao demo <nianbao@example.org>"', "crawl:"]
    lines += [f"  {k}: {v}" for k, v in settings.items()]
    lines.append('  allow_networks: ["127.42.0.0/16"]     # the mock portals live on loopback: allowed here only')
    lines.append("portals:")
    for p in world.portals:
        urls = ", ".join(f'"{u}"' for u in p.start_urls)
        lines.append(
            f"  - {{id: {p.id}, name: {p.county}政府信息公开年报, family: {p.configured_family}, "
            f"owner: {p.owner.id}, start_urls: [{urls}]}}"
        )
    lines.append("agencies:")
    for a in world.agencies:
        extra = f", parent: {a.parent}" if a.parent else ""
        extra += f", aliases: [{', '.join(a.aliases)}]" if a.aliases else ""
        lines.append(f'  - {{id: {a.id}, name: {a.name}, level: {a.level}, region: "{a.region}"{extra}}}')
    return "\n".join(lines) + "\n"
