"""Which items of a 年报 column are annual reports.

A 年报 column also carries notices about preparing the reports, their
interpretations (解读, 图解), work plans and news. A title is a report when it
names a year and the report (政府信息公开工作年度报告 and its variants: 年度 vs
年, 政府信息与政务公开, 年度工作报告, Chinese-numeral years) and is not one of
those companions; a notice that *issues* a report (关于印发…年度报告的通知) is
the report. Titles cut short in a list (``…``, or with no mark where a CMS cuts at so
many bytes: ``…建设局202``), wherever the cut falls, are fetched and decided on the
detail page unless what is left is a companion's. Traditional characters, zero-width
marks and a zero typed as 0 or O in a Chinese-numeral year (``二0二四``) are read too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.extract.chinese import simplified
from archive.metadata import match_title
from archive.normalize import nfkc

_COMPANION = re.compile(
    r"编制|编写|报送|填报|做好|格式|模板|范本|要点|解读|图解|图读|一图|读懂|培训|通报|督查|督导|考核|评估|检查|"
    r"征集|征求|审核|指引|指南|问答|方案|目录|统计表|说明会|工作会|会议|计划|意见|办法|规定"
)
_TRUNCATED = re.compile(r"(?:…+|\.{2,}|。{3})$")
# a title cut short with no mark (a CMS that cuts at so many bytes): it stops inside a year
# (…建设局202, …二〇二), right after one or inside the report's name after it (…2024年政,
# …2024年政府信), or after a year it starts with (2024年某某县住房: the Shanghai form)
_REPORT_NAMES = ("政府信息公开工作年度报告", "政务公开工作年度报告", "政府信息与政务公开工作年度报告", "信息公开年报")
_YEAR = r"(?:(?:19|20)\d{2}|二[〇○零0O][〇○零0O一二三四五六七八九]{2})"
_BEGINNINGS = "|".join(sorted({re.escape(n[:k]) for n in _REPORT_NAMES for k in range(1, len(n))}, key=len, reverse=True))
_CUT = re.compile(
    rf"(?:(?:19|20)\d{{0,1}}|二[〇○零0O][〇○零0O一二三四五六七八九]{{0,1}})$|{_YEAR}年?度?(?:{_BEGINNINGS})?$|^{_YEAR}年"
)
_INVISIBLE = re.compile("[\\s\u200b-\u200f\u2060\ufeff]+")  # white space and zero-width marks
MIN_YEAR = 2007  # the 2007 条例 introduced the annual report


@dataclass(frozen=True)
class Verdict:
    kind: str  # "report", "maybe" (title cut short: decide on the detail page) or "other"
    year: int | None = None
    agency: str | None = None


def judge(title: str | None, this_year: int = 2100) -> Verdict:
    if not title:
        return Verdict("other")
    text = simplified(_INVISIBLE.sub("", nfkc(title)))
    hit = match_title(text)
    if hit is not None:
        agency, year, _ = hit
        if not (MIN_YEAR <= year <= this_year):
            return Verdict("other")
        if _COMPANION.search(text):
            return Verdict("other")
        return Verdict("report", year, agency)
    if (_TRUNCATED.search(text) or _cut_short(text)) and not _COMPANION.search(text):
        # a 年报 column lists reports; a cut title ("…建设局2023…", "…局关于…", "…建设局202")
        # is worth one request to its page rather than a report lost
        return Verdict("maybe")
    return Verdict("other")


def _cut_short(text: str) -> bool:
    """A title that stops inside or after its year, or inside the report's name, with no mark
    of the cut."""
    return _CUT.search(text) is not None or any(text.endswith(n[:k]) for n in _REPORT_NAMES for k in range(2, len(n)))
