"""Agency and reporting year from what a report says about itself.

Titles seen: ``{机关}{YYYY}年政府信息公开工作年度报告`` (most), ``{YYYY}年{机关}…``
(Shanghai municipal), ``{YYYY}年…年度报告（{机关}）`` (Shanghai districts),
``{机关}{YYYY}年度…工作报告``, ``{机关}关于{YYYY}年…的年度报告``, ``【{机关}】{YYYY}年…``,
the year elsewhere (``{机关}…年度报告（{YYYY}年度）``, ``{机关}{YYYY}政府信息公开…``,
``{机关}政府信息公开{YYYY}年度报告``), short titles (``…信息公开年报``), titles broken over
two or three lines or with the agency on the line above or below (a page's
``发布机构：…`` line beside it names the publisher, not the body), Chinese-numeral
years (``二〇二四年``), a duplicated year (``2025湖口县大垅乡2025年度…``) and notices
wrapping the report (``…关于印发{机关}2024年度…年度报告的通知``). A page's ``<title>``
names the body when the body's own title does not.

Where no title names the body, the prose may: ``为做好{机关}政府信息公开工作``,
``本报告由{机关}编制``, ``现将{机关}2023年…报告如下``. A notice the report cites
(``根据《关于做好2023年…年度报告…的通知》``) is never its title, nor is a page's link to
another article (``上一篇：…``, ``相关文章：…``), and verbs that introduce a name (编制,
现将, 印发, 现公开, 报送) are never part of it. When nothing names the
body, the agency is None; the year then falls back to the statistics period.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .extract.document import Document
from .normalize import chinese_year, nfkc

# a year in digits or Chinese numerals, zero typed as 〇, ○, 零, the digit 0 or the letter O (二0二四, 二O二四)
_YEAR_NUM = r"(?P<year>(?:19|20)\d{2}|[〇○零一二][〇○零0O一二三四五六七八九]{3})"
_YEAR = _YEAR_NUM + r"年度?"
_REPORT = r"(?:(?:政府信息与政务|政府信息|政务信息|政务|信息)公开(?:工作)?(?:的)?(?:年度)?(?:工作)?(?:情况)?(?:的)?(?:报告|年报))"
_TITLE = re.compile(rf"^(?P<pre>.*?){_YEAR}(?P<mid>.*?){_REPORT}(?P<post>.*)$")
# the year elsewhere: {机关}政府信息公开工作年度报告（2023年度）, {机关}2023政府信息公开工作年度报告
# (no 年, the report's name right after), {机关}政府信息公开2023年度报告
_TITLE_OTHER_FORMS = (
    re.compile(rf"^(?P<pre>.*?){_REPORT}[(（]{_YEAR}[)）](?P<post>.*)$"),
    re.compile(rf"^(?P<pre>.*?){_YEAR_NUM}{_REPORT}(?P<post>.*)$"),
    re.compile(rf"^(?P<pre>.*?)(?:政府信息|政务信息|政务)公开(?:工作)?{_YEAR}(?:工作)?(?:报告|年报)(?P<post>.*)$"),
)
_BRACKET = re.compile(r"^[(（]([^()（）]{2,40})[)）]")
_LEAD_JUNK = re.compile(r"^(?:\d{4}年?|正文|附件\d*[:：]?|标题[:：]|名称[:：])+")
_CUT_BEFORE = re.compile(
    r".*(?:关于印发|关于公布|关于发布|现公布|现发布|现将|特发布|发布|印发|公布|编制|现予?公开|予以公开|向社会公开|"
    r"报送|提交|公告|[，,。：:；;、“”\"《》【】])"
)
# a page's links to other articles (上一篇：…, 相关文章：…): another report's title, never this one's
_NAVIGATION = re.compile(
    r"^\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇|相关(?:文章|链接|阅读|新闻|推荐|信息|文件|报告)|推荐阅读|延伸阅读|"
    r"热点文章|热门文章|往期回顾|猜你喜欢|阅读排行)"
)
_CHROME = re.compile(r"[>＞]|首页|^[)）]")  # a page's breadcrumb, or the end of a bracket: never a name
_NOT_AGENCY = re.compile(r"\d|报告|情况|根据|本机关|我[局委办院厅镇乡]|本单位|本年度|全文|以下|关于|通知|要求")
# A body's name ends in what it is (局, 委员会, 街道 …): a phrase that does not is not a name.
_BODY = re.compile(
    r"(?:局|委|委员会|办|办公室|办公厅|厅|院|所|中心|站|队|政府|街道|街道办事处|办事处|镇|乡|苏木|区|县|市|州|盟|旗|"
    r"管委会|管理委员会|处|署|部|会|社|馆|公司|集团|总队|支队|大队|分局|监狱|银行|学校|大学|医院)$"
)
# a notice the report cites, in book-title marks: never its own title
_CITED = re.compile(r"《[^《》]{0,80}》")
_PERIOD = re.compile(_YEAR_NUM + r"\s*年\s*1\s*月\s*1\s*日?\s*(?:起)?\s*(?:至|到|-|—)")
_ANY_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_MAX_TITLE = 90
_LABELLED = re.compile(r"[:：]")  # a line "label: value" (page metadata), not a name printed with the title
_SENTENCE = re.compile(r"[，,。；;！!？?]|如下")
# the prose naming the body that reports
_PROSE = (
    re.compile(
        r"为(?:进一步|全面|切实|认真)?(?:做好|推进|加强)(?P<agency>[^，,。；;、《》“”]{2,40}?)(?:的)?(?:政府信息公开|政务公开)"
    ),
    re.compile(
        r"(?:本|此)(?:年度)?报告(?:是)?由(?P<agency>[^，,。；;、《》“”]{2,40}?)"
        r"(?:(?:根据|依据|按照|依照)[^，,。；;]{0,40}?|负责)?(?:编制|编写|制作)"
    ),
    re.compile(rf"现将(?P<agency>[^，,。；;、《》“”]{{2,40}}?){_YEAR}"),
)


@dataclass(frozen=True)
class Identity:
    agency: str | None
    year: int | None
    title: str | None
    agency_source: str | None


def _clean_agency(text: str) -> str | None:
    text = _LEAD_JUNK.sub("", text.strip())
    if len(text) > 2 and text[0] in "【[" and text[-1] in "】]":  # 【{机关}】{YYYY}年…
        text = text[1:-1]
    m = _CUT_BEFORE.match(text)
    if m:
        text = text[m.end() :]
    text = text.strip(" _-—|·:：")
    # {机关}关于{YYYY}年…的年度报告, 关于{机关}{YYYY}年…
    text = text.removesuffix("关于").removeprefix("关于")
    if not (2 <= len(text) <= 40) or _NOT_AGENCY.search(text) or _CHROME.search(text):
        return None
    return text


def _body_name(text: str) -> str | None:
    """A name the prose gives, when it is one: cleaned, and ending as a body's name does."""
    agency = _clean_agency(text)
    return agency if agency is not None and _BODY.search(agency) else None


def match_title(text: str) -> tuple[str | None, int, str] | None:
    if len(text) > 2 * _MAX_TITLE or "报" not in text or not ("年" in text or "年" in nfkc(text)):
        return None
    compacted = re.sub(r"\s+", "", nfkc(text))
    if len(compacted) > _MAX_TITLE:
        return None
    m = _TITLE.match(compacted) or next(filter(None, (t.match(compacted) for t in _TITLE_OTHER_FORMS)), None)
    if not m:
        return None
    year = chinese_year(m.group("year"))
    if year is None:
        return None
    agency = _clean_agency(m.group("pre")) or _clean_agency(m.groupdict().get("mid") or "")
    if agency is None:
        b = _BRACKET.match(m.group("post"))
        agency = _clean_agency(b.group(1)) if b else None
    return agency, year, compacted


def _is_title_line(text: str) -> bool:
    """A title, not a sentence of prose that mentions a report or cites a notice."""
    text = nfkc(text)
    return not _CITED.search(text) and len(_SENTENCE.findall(text)) == 0


def _beside_title(line: str) -> bool:
    """A line above or below a title that may be the body's name printed with it: short, no
    sentence, and no "label: value" (a page's 发布机构：… or 来源：… names its publisher)."""
    return len(line) <= 30 and _is_title_line(line) and not _LABELLED.search(line)


def _from_lines(lines: list[str]) -> Identity | None:
    # A title on one line wins over one pieced together from several.
    for span in (1, 2, 3):
        for i in range(len(lines) - span + 1):
            joined = "".join(lines[i : i + span])
            if len(joined) > 2 * _MAX_TITLE or "报" not in joined or not _is_title_line(joined):
                continue  # (the first two: what match_title asks first, before any normalising)
            hit = match_title(joined)
            if hit is None:
                continue
            agency, year, title = hit
            if agency is None:
                # the body's name printed on a line of its own above or below the title
                for k in (i - 1, i + span):
                    if 0 <= k < len(lines) and _beside_title(lines[k]):
                        agency = _body_name(re.sub(r"\s+", "", nfkc(lines[k])))
                        if agency:
                            title = agency + title if k < i else title
                            break
            return Identity(agency, year, title, "title" if agency else None)
    return None


def _from_prose(lines: list[str]) -> Identity | None:
    """The body and year the prose names: a sentence naming the report, 为做好…, 由…编制, 现将…."""
    for line in lines[:20]:
        text = nfkc(line)
        bare = _CITED.sub("", text)  # a cited notice names neither the body nor the year
        for sentence in re.split(r"[。；;！!]", bare):
            hit = match_title(sentence[-_MAX_TITLE:])
            if hit and hit[0] and _BODY.search(hit[0]):
                return Identity(hit[0], hit[1], None, "text")
        for pattern in _PROSE:
            m = pattern.search(bare)
            if m:
                agency = _body_name(re.sub(r"\s+", "", m.group("agency")))
                if agency:
                    year = chinese_year(m.group("year")) if "year" in m.groupdict() and m.group("year") else None
                    return Identity(agency, year, None, "text")
    return None


def _statistics_year(text: str) -> int | None:
    m = _PERIOD.search(text)
    if m:
        return chinese_year(m.group("year"))
    years = Counter(int(y) for y in _ANY_YEAR.findall(_CITED.sub("", text[:3000])) if 1990 <= int(y) <= 2100)
    return years.most_common(1)[0][0] if years else None


# what a page's <title> joins its parts with: the report's title, the column, the site
_PAGE_TITLE_PARTS = re.compile(r"[_|｜]|\s*[-—–]+\s*")


def _from_page_title(title: str) -> Identity | None:
    for part in _PAGE_TITLE_PARTS.split(title):
        hit = match_title(part)
        if hit:
            return Identity(hit[0], hit[1], hit[2], "page" if hit[0] else None)
    return None


def identify(doc: Document) -> Identity:
    head = [text for text in (line.text for line in doc.lines[:40]) if text.strip() and not _NAVIGATION.match(text)]
    found = _from_lines(head)
    if (found is None or found.agency is None) and doc.title:
        page = _from_page_title(doc.title)
        if found is None:
            found = page
        elif page is not None and page.agency and page.year == found.year:
            # the body's title without its name (2024年政府信息公开工作年度报告), the page's with it
            found = Identity(page.agency, found.year, found.title, "page")
    if found is None or found.agency is None:
        prose = _from_prose(head)
        if prose is not None:
            year = (found.year if found else None) or prose.year or _statistics_year(doc.text)
            title = found.title if found else None
            return Identity(prose.agency, year, title, "text")
    if found is not None:
        if found.agency is None and doc.meta.get("ContentSource"):
            agency = _clean_agency(doc.meta["ContentSource"])
            return Identity(agency, found.year, found.title, "page" if agency else None)
        return found
    return Identity(None, _statistics_year(doc.text), None, None)
