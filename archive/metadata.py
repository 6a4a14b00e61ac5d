"""Agency and reporting year from a report's title.

Titles seen: ``{机关}{YYYY}年政府信息公开工作年度报告`` (most), ``{YYYY}年{机关}…``
(Shanghai municipal), ``{YYYY}年…年度报告（{机关}）`` (Shanghai districts),
``{机关}{YYYY}年度…工作报告``, titles broken over two or three lines or with the
agency on the line above, Chinese-numeral years (``二〇二四年``), a duplicated
year (``2025湖口县大垅乡2025年度…``) and notices wrapping the report
(``…关于印发{机关}2024年度…年度报告的通知``). When nothing names the body,
the agency is None; the year then falls back to the statistics period.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .extract.document import Document
from .normalize import chinese_year, nfkc

_YEAR_NUM = r"(?P<year>(?:19|20)\d{2}|[〇○零一二][〇○零一二三四五六七八九]{3})"
_YEAR = _YEAR_NUM + r"年度?"
_REPORT = (
    r"(?:(?:政府信息与政务|政府信息|政务信息|政务|信息)公开(?:工作)?(?:的)?(?:年度)?(?:工作)?(?:情况)?报告"
    r"|政府信息公开年报)"
)
_TITLE = re.compile(rf"^(?P<pre>.*?){_YEAR}(?P<mid>.*?){_REPORT}(?P<post>.*)$")
_BRACKET = re.compile(r"^[(（]([^()（）]{2,40})[)）]")
_LEAD_JUNK = re.compile(r"^(?:\d{4}年?|正文|附件\d*[:：]?|标题[:：]|名称[:：])+")
_CUT_BEFORE = re.compile(r".*(?:关于印发|关于公布|关于发布|现公布|现发布|现将|特发布|发布|印发|公布|[，,。：:；;、“”\"《》【】])")
_NOT_AGENCY = re.compile(r"\d|报告|情况|根据|本机关|我[局委办院厅镇乡]|本单位|本年度|全文|以下")
_PERIOD = re.compile(_YEAR_NUM + r"\s*年\s*1\s*月\s*1\s*日?\s*(?:起)?\s*(?:至|到|-|—)")
_ANY_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_MAX_TITLE = 90


@dataclass(frozen=True)
class Identity:
    agency: str | None
    year: int | None
    title: str | None
    agency_source: str | None


def _clean_agency(text: str) -> str | None:
    text = _LEAD_JUNK.sub("", text.strip())
    m = _CUT_BEFORE.match(text)
    if m:
        text = text[m.end() :]
    text = text.strip(" _-—|·:：")
    if not (2 <= len(text) <= 40) or _NOT_AGENCY.search(text):
        return None
    return text


def match_title(text: str) -> tuple[str | None, int, str] | None:
    if len(text) > 2 * _MAX_TITLE or "报" not in text or not ("年" in text or "年" in nfkc(text)):
        return None
    compacted = re.sub(r"\s+", "", nfkc(text))
    if len(compacted) > _MAX_TITLE:
        return None
    m = _TITLE.match(compacted)
    if not m:
        return None
    year = chinese_year(m.group("year"))
    if year is None:
        return None
    agency = _clean_agency(m.group("pre")) or _clean_agency(m.group("mid"))
    if agency is None:
        b = _BRACKET.match(m.group("post"))
        agency = _clean_agency(b.group(1)) if b else None
    return agency, year, compacted


def _from_lines(lines: list[str]) -> Identity | None:
    # A title on one line wins over one pieced together from several.
    for span in (1, 2, 3):
        for i in range(len(lines) - span + 1):
            hit = match_title("".join(lines[i : i + span]))
            if hit is None:
                continue
            agency, year, title = hit
            if agency is None and i > 0 and len(lines[i - 1]) <= 30:
                agency = _clean_agency(re.sub(r"\s+", "", nfkc(lines[i - 1])))
                if agency:
                    title = agency + title
            return Identity(agency, year, title, "title" if agency else None)
    return None


def _statistics_year(text: str) -> int | None:
    m = _PERIOD.search(text)
    if m:
        return chinese_year(m.group("year"))
    years = Counter(int(y) for y in _ANY_YEAR.findall(text[:3000]) if 1990 <= int(y) <= 2100)
    return years.most_common(1)[0][0] if years else None


def identify(doc: Document) -> Identity:
    head = [line.text for line in doc.lines[:40] if line.text.strip()]
    found = _from_lines(head)
    if found is None and doc.title:
        for part in re.split(r"[_|]| - ", doc.title):
            hit = match_title(part)
            if hit:
                found = Identity(hit[0], hit[1], hit[2], "page" if hit[0] else None)
                break
    if found is None:
        # A sentence naming the report: "现公布区统计局2023年政府信息公开工作年度报告。"
        for line in head[:15]:
            for sentence in re.split(r"[。；;！!]", nfkc(line)):
                hit = match_title(sentence[-_MAX_TITLE:])
                if hit:
                    found = Identity(hit[0], hit[1], None, "text" if hit[0] else None)
                    break
            if found:
                break
    if found is not None:
        if found.agency is None and doc.meta.get("ContentSource"):
            agency = _clean_agency(doc.meta["ContentSource"])
            return Identity(agency, found.year, found.title, "page" if agency else None)
        return found
    return Identity(None, _statistics_year(doc.text), None, None)
