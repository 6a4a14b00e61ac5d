"""When an agency's report for a year is due (条例 第四十九条; report-format.md §1).

Statutory defaults: 县级以上人民政府部门 by 31 January of the following year,
本级政府 reports by 31 March; before the 2019 revision (reports for 2018 and
earlier) 31 March for everyone. 乡镇/街道 have no statutory date: 31 March
unless a local rule says otherwise. Rules are versioned by reporting year and
may be narrowed to a region (行政区划代码 prefix) and a level; the most
specific matching rule wins (longer region prefix, then a named level, then
the later ``from_year``). Publication on the deadline day is on time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DeadlineRule:
    month: int
    day: int
    level: str | None = None  # government / department / township; None: any
    region: str = ""  # 行政区划代码 prefix; "": everywhere
    from_year: int = 2007  # reporting years this rule covers, inclusive
    to_year: int | None = None
    note: str = ""

    def covers(self, year: int, level: str | None, region: str | None) -> bool:
        return (
            self.from_year <= year
            and (self.to_year is None or year <= self.to_year)
            and (self.level is None or self.level == level)
            and (region or "").startswith(self.region)
        )

    def specificity(self) -> tuple[int, int, int]:
        return (len(self.region), self.level is not None, self.from_year)


STATUTORY: tuple[DeadlineRule, ...] = (
    DeadlineRule(3, 31, None, "", 2007, 2018, "2007 条例：所有机关 3 月 31 日前"),
    DeadlineRule(1, 31, "department", "", 2019, None, "条例第四十九条：县级以上人民政府部门 1 月 31 日前"),
    DeadlineRule(3, 31, "government", "", 2019, None, "条例第四十九条：本级政府年报 3 月 31 日前"),
    DeadlineRule(3, 31, "township", "", 2019, None, "条例未规定乡镇（街道）期限；未配置地方规定时按 3 月 31 日"),
)


@dataclass(frozen=True)
class Deadlines:
    rules: tuple[DeadlineRule, ...] = STATUTORY
    grace_days: int = 14  # after the deadline, how long before "not found" becomes "missing"

    def rule(self, year: int, level: str | None, region: str | None) -> DeadlineRule:
        matching = [r for r in self.rules if r.covers(year, level, region)]
        if not matching:  # an unknown level: the statutory 3-31 of its era
            matching = [r for r in STATUTORY if r.covers(year, "government", region)]
        return max(matching, key=DeadlineRule.specificity)

    def due(self, year: int, level: str | None, region: str | None) -> date:
        rule = self.rule(year, level, region)
        return date(year + 1, rule.month, rule.day)

    def earliest(self) -> str:
        """The earliest deadline day of any rule (MM-DD): no report published on or
        before it in the following year can be late."""
        return min(f"{r.month:02d}-{r.day:02d}" for r in self.rules)

    def sql(self, year: str, level: str, region: str) -> str:
        """The same choice as ``due`` as an SQL expression (YYYY-MM-DD text) over the given
        column expressions, for saved queries: most specific rule first."""
        cases = []
        for r in sorted(self.rules, key=DeadlineRule.specificity, reverse=True):
            test = [f"{year} >= {r.from_year}"] + ([f"{year} <= {r.to_year}"] if r.to_year else [])
            test += [f"{level} = '{r.level}'"] if r.level else []
            test += [f"coalesce({region}, '') like '{r.region}%'"] if r.region else []
            cases.append(f"when {' and '.join(test)} then ({year} + 1) || '-{r.month:02d}-{r.day:02d}'")
        return f"case {' '.join(cases)} else ({year} + 1) || '-03-31' end"
