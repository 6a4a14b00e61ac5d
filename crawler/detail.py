"""What a report page says about itself: title, publication date, publisher, attachments.

Sources: the standard ``<meta>`` set of 《政府网站发展指引》 (ArticleTitle,
PubDate, ContentSource), the 公开目录 block (索引号 / 发布机构 / 发布日期 … as td
pairs, th/td, span/em or "label：value" text), then the visible page. For the
publication date the visible date wins over <meta PubDate> when the two disagree
(``published_date``). A date is never taken from a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from .page import Page, clean, iso_date

# images are scans, read by OCR
ATTACHMENT_TYPES = (
    "pdf",
    "doc",
    "docx",
    "wps",
    "xls",
    "xlsx",
    "et",
    "zip",
    "jpg",
    "jpeg",
    "png",
    "tif",
    "tiff",
)  # images: scans, read by OCR
_EXT = re.compile(r"\.(" + "|".join(ATTACHMENT_TYPES) + r")$", re.I)
_DOWNLOAD_PATH = re.compile(r"downfile\.jsp|download\.jsp|/attachment/|/files/|downloadfile|getfile", re.I)
_LABELS = {
    "index_no": r"索\s*引\s*号",
    "publisher": r"发布机构|发文机关|发布单位|信息来源|来\s*源",
    # a bare 日期 / 时间 only as a label of its own (not 成文日期, 更新时间 …)
    "published": r"发布日期|发布时间|公开日期|发文日期|(?<![\u4e00-\u9fff])(?:日\s*期|时\s*间)",
    "written": r"成文日期|生成日期|公文生成日期",
}
_ANY_LABEL = (
    "|".join(_LABELS.values())
    + r"|主题分类|组配分类|体裁分类|公开方式|公开范围|文\s*号|发文字号|分\s*类|名\s*称|主\s*题\s*词|浏览次数|字体"
)
_FIELD = {key: re.compile(rf"^(?:{pattern})\s*[:：]\s*(.*)$") for key, pattern in _LABELS.items()}
_LABEL_ONLY = {key: re.compile(rf"^(?:{pattern})\s*[:：]?$") for key, pattern in _LABELS.items()}
_NEXT_LABEL = re.compile(rf"\s*(?:{_ANY_LABEL})\s*[:：].*$")
_INLINE = {
    key: re.compile(rf"(?:{pattern})\s*[:：]\s*([^\s|]+(?:\s\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?)")
    for key, pattern in _LABELS.items()
}
_LABEL_HINT = re.compile(rf"{'|'.join(_LABELS.values())}")
_PAGE_SCRIPT = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"']([\w-]+)[\"']\s*,\s*[\"'](\w+)[\"']")


@dataclass(frozen=True)
class AttachmentLink:
    url: str
    name: str
    kind: str | None  # guessed from the URL or link text; the bytes decide on download


@dataclass(frozen=True)
class PublishedDate:
    """The publication date chosen, where it came from (``page``: the visible 发布日期;
    ``meta``: <meta PubDate>; ``list``; ``written``: 成文日期) and why; both the meta
    and the visible date are kept."""

    date: str | None
    source: str | None
    meta: str | None
    visible: str | None
    why: str | None


def published_date(meta: str | None, visible: str | None, listed: str | None, written: str | None) -> PublishedDate:
    """The visible date wins over <meta PubDate> when they disagree: the meta tag is
    often the time the page was last regenerated, the visible date is what the
    portal tells its readers."""
    meta, visible = iso_date(meta), iso_date(visible)
    if meta and visible and meta != visible:
        why = f"页面显示的发布日期 {visible} 与 meta PubDate {meta} 不一致：采用页面日期（meta 常为页面重新生成时间）"
        return PublishedDate(visible, "page", meta, visible, why)
    for value, origin, why in (
        (meta, "meta", "meta PubDate" + ("，与页面显示的发布日期一致" if visible else "（页面未显示发布日期）")),
        (visible, "page", "页面显示的发布日期（无 meta PubDate）"),
        (iso_date(listed), "list", "列表页上的日期（详情页未标发布日期）"),
        (iso_date(written), "written", "成文日期（页面未标发布日期）"),
    ):
        if value:
            return PublishedDate(value, origin, meta, visible, why)
    return PublishedDate(None, None, None, None, None)


@dataclass
class DetailInfo:
    title: str | None
    published: PublishedDate
    publishers: list[str]
    index_no: str | None
    attachments: list[AttachmentLink] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)  # continuation pages of a multi-page article
    images: int = 0


def _fields(page: Page) -> dict[str, str]:
    """The 公开目录 block, and "label：value" text anywhere above the body."""
    out: dict[str, str] = {}
    lines = page.visible_lines[:200]  # the block sits above the body
    for i, line in enumerate(lines):
        if not _LABEL_HINT.search(line):
            continue
        for key in _LABELS:
            if key in out:
                continue
            m = _FIELD[key].match(line)
            value = m.group(1) if m else None
            if not value and _LABEL_ONLY[key].match(line) and i + 1 < len(lines):  # "发布日期：" | "2025-01-27"
                value = lines[i + 1]
            if value is None:
                continue
            value = _NEXT_LABEL.sub("", value).strip()
            if value and not _LABEL_ONLY[key].match(value):
                out[key] = value
        # "发布时间：2025-01-14 08:18 来源：义安区老洲乡" on one line
        for key, inline in _INLINE.items():
            if key not in out:
                m = inline.search(line)
                if m:
                    out[key] = m.group(1)
    return out


def _title(page: Page) -> str | None:
    title = page.meta("ArticleTitle", "title")
    if title:
        return clean(title)
    for xpath in ("//h1", "//*[contains(@class,'title')][not(self::title)]", "//h2"):
        text = clean("".join(page.sel.xpath(f"({xpath})[1]//text()").getall()))
        if 4 <= len(text) <= 120:
            return text
    return re.split(r"[_|-]", page.html_title)[0].strip() or None


def _kind(name: str, url: str) -> str | None:
    query = parse_qs(urlsplit(url).query)
    candidates = [name, urlsplit(url).path] + [
        unquote(v) for k in ("filename", "showname", "name", "file") for v in query.get(k, [])
    ]
    for candidate in candidates:
        m = _EXT.search(candidate.strip())
        if m:
            return m.group(1).lower()
    return None


def _attachments(page: Page) -> list[AttachmentLink]:
    out: dict[str, AttachmentLink] = {}
    for link in page.links():
        name = re.sub(r"^(?:附件\s*\d*\s*[:：]?\s*)", "", link.text).strip()
        kind = _kind(link.text, link.url)
        if kind is None and not (_DOWNLOAD_PATH.search(link.url) and (name or link.text.startswith("附件"))):
            continue
        out.setdefault(link.url, AttachmentLink(link.url, name or urlsplit(link.url).path.rsplit("/", 1)[-1], kind))
    return list(out.values())


def _parts(page: Page) -> list[str]:
    """TRS splits long articles: t2025…_4318821.html, then _1.html, _2.html … (from createPageHTML)."""
    stem = urlsplit(page.url).path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for m in _PAGE_SCRIPT.finditer(page.text):
        count, current, name, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        if name == stem and current == 0:
            return [page.absolute(f"{name}_{k}.{ext}") for k in range(1, count)]
    return []


_SAYS_GONE = re.compile(
    r"(?:错误|error)\s*404|404\s*(?:not\s*found|错误|页面)|not\s*found|页面不存在|页面未找到|网页不存在"
    r"|找不到(?:该|此|您(?:要|所)?访问的)?(?:页面|网页|信息|文章)|(?:信息|文章|内容|页面|网页)(?:已被?删除|不存在|已撤销|已下线)",
    re.I,
)
_HOME_PATH = re.compile(r"^/?(?:(?:index|default|home)\.\w+)?$|(?:^|/)(?:404|error|notfound)[^/]*$", re.I)


def looks_gone(page: Page, listed_url: str) -> str | None:
    """Why a page that is not the listed report shows the report has gone (a soft 404), or
    None when it does not say so (a page merely unrecognised is never taken for gone): it
    says the page does not exist, or the listed URL now leads to the home page or an error
    page."""
    if (m := _SAYS_GONE.search(" ".join(page.visible_lines[:100]) + " " + page.html_title)) is not None:
        return f"页面提示“{m.group(0)}”"
    final, listed = urlsplit(page.url), urlsplit(listed_url)
    if (final.netloc, final.path) != (listed.netloc, listed.path) and _HOME_PATH.search(final.path):
        return f"跳转到 {page.url}"
    return None


def read_detail(page: Page, list_date: str | None = None) -> DetailInfo:
    fields = _fields(page)
    published = published_date(
        page.meta("PubDate", "firstpublishedtime", "publishdate", "pubdate"),
        fields.get("published"),
        list_date,
        fields.get("written"),
    )
    publishers = [p for p in (page.meta("ContentSource"), fields.get("publisher")) if p]
    images = len(page.sel.xpath("//body//img[not(ancestor::header) and not(ancestor::*[contains(@class,'logo')])]"))
    return DetailInfo(_title(page), published, publishers, fields.get("index_no"), _attachments(page), _parts(page), images)
