"""How each CMS family lays out a 年报 column: item URLs, list pages, detail
pages and attachments (portal-patterns.md §1–5, §15), as routes of the mock server."""

from __future__ import annotations

import html
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from urllib.parse import quote

from . import hostile
from .corpus import doc_bytes, report_text
from .documents import blocks, to_docx, to_html_body, to_pdf
from .scans import photographed_page, scanned_report
from .world import PDF_BASES, POISON, SPAM_IP, Attachment, Item, Portal, hex32

PER_PAGE = {"trs": 4, "gdpost": 4, "gkmlpt": 4, "hanweb": 3, "shtml_uuid": 4, "vsb": 4, "nextlink": 5}
JSPAGER_PER_PAGE = 3  # short pages: some of the latest year's reports are beyond the readable first one
OVERSIZE_BYTES = 3 * 1024 * 1024
FAULT_BIG_BYTES = 50 * 1024 * 1024  # soak worlds: the 50 MB attachment
CALENDAR_PAGES = 1000  # "infinite" calendar pagination (more than any list limit)
REGENERATED = date(2025, 6, 18)  # when the meta_regen pages were last regenerated


def _gzip_bomb() -> bytes:
    """64 MB of HTML zeros, gzip-compressed to about 64 KB."""
    import gzip

    return gzip.compress(b"<html><body>" + b"0" * (64 * 1024 * 1024), 9, mtime=0)


# Handlers ask the server for transport-level misbehaviour with this header
ACTION = "X-Mock-Action"  # hang: never answer; reset: abort the connection;
# truncate: promise more bytes (Content-Length) than are sent


@dataclass
class Request:
    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Route:
    """A static resource (bytes made on first use) or a handler answering (status, headers, body)."""

    make: Callable[[], bytes] | None = None
    content_type: str = "text/html; charset=utf-8"
    handler: Callable[[Request], tuple[int, dict[str, str], bytes]] | None = None
    needs_referer: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # sent with the static body
    _body: bytes | None = field(default=None, repr=False)

    def body(self) -> bytes:
        if self._body is None:
            self._body = self.make()
        return self._body


# ---- where things live --------------------------------------------------------------------


def assign_paths(portal: Portal) -> None:
    f = portal.family
    starts = {
        "trs": ["/zfxxgk/zfxxgknb/"],
        "gdpost": ["/xxgk/xxgknb/index.html"],
        "gkmlpt": ["/gkmlpt/annualreport#2629"],
        "hanweb": ["/col/col1229850470/index.html"],
        "shtml_uuid": ["/qy/gknb/list.shtml"],
        "vsb": ["/zfxxgk/zfxxgknb.htm"],
        "nextlink": ["/nb/list-1.html"],
    }
    portal.start_paths = list(starts[f])
    if f == "hanweb" and portal.layout is None:
        portal.start_paths.append("/module/xxgk/xxgkAnnualReport.jsp?area=001008003012020&fbtime=2024")
    for item in portal.items:
        d, n = item.published, item.id
        made = d.toordinal() - 1
        item.path = {
            "trs": f"/zfxxgk/zfxxgknb/{_year_dir(portal, item)}{d:%Y%m}/t{date.fromordinal(made):%Y%m%d}_{n}.html",
            "gdpost": f"/xxgk/xxgknb/content/post_{n}.html",
            "gkmlpt": f"/gkmlpt/content/{n // 1_000_000}/{n // 1000}/post_{n}.html",
            "hanweb": f"/art/{d.year}/{d.month}/{d.day}/art_1229850470_{n}.html",
            "shtml_uuid": f"/qy/gknb/{d:%Y%m}/{hex32(portal.id, n)}.shtml",
            "vsb": f"/info/1005/{n}.htm",
            "nextlink": f"/nb/{n}.html",
        }[f]
        if not item.report:
            continue
        if item.fmt in ("html",) and item.base.name in PDF_BASES and n % 2 == 0:
            item.attachments.append(_attachment(portal, item, "pdf"))
        elif item.fmt in ("pdf", "docx", "doc", "zip", "scan", "jpg"):
            item.attachments.append(_attachment(portal, item, item.fmt))
        elif item.fmt == "poison":
            item.attachments.append(_attachment(portal, item, item.special))
        if item.special == "oversize":
            item.attachments.append(_attachment(portal, item, "big"))
        if item.fmt == "multipage":
            item.parts = [item.path.replace(".html", "_1.html")]


def _year_dir(portal: Portal, item: Item) -> str:
    """``2024n/`` for an item of a per-year sub-column (year_tabs layout), else nothing."""
    return f"{_column_year(item)}n/" if portal.layout == "year_tabs" else ""


def _column_year(item: Item) -> int:
    return item.year or item.published.year - 1  # a notice about year Y's reports appears in Y+1


def _attachment(portal: Portal, item: Item, kind: str) -> Attachment:
    n, d = item.id, item.published
    ext = {"big": "pdf", "scan": "pdf", **POISON}.get(kind, kind)
    name = f"{item.title}.{ext}"
    path = {
        "trs": f"{item.path.rsplit('/', 1)[0]}/P0{d:%Y%m%d}{n:012d}{'9' if kind == 'big' else ''}.{ext}",
        "gdpost": f"/attachment/0/599/{n}/{n * 10 + len(kind)}.{ext}",
        "gkmlpt": f"/attachment/0/599/{n}/{n * 10 + len(kind)}.{ext}",
        "hanweb": f"/module/download/downfile.jsp?classid=0&filename={hex32(n, kind)}.{ext}",
        "shtml_uuid": f"/qy/gknb/{d:%Y%m}/{hex32(portal.id, n)}/files/{hex32(n, kind)}.{ext}",
        "vsb": f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1285{n}&wbfileid={n * 10 + len(kind)}",
        "nextlink": f"/uploads/{n}-{kind}.{ext}",
    }[portal.family]
    return Attachment(path, name, kind)


# ---- pages -----------------------------------------------------------------------------------


def _text(portal: Portal, item: Item) -> str:
    return report_text(item.base, item.agency.name, item.year, item.title)


def _publisher(portal: Portal, item: Item) -> str:
    if item.report and (not item.title_agency or item.id % 3):
        return item.agency.name
    return f"{portal.county}人民政府办公室"


def _head(portal: Portal, item: Item, charset: str = "utf-8") -> str:
    if portal.family == "nextlink":
        return f'<meta charset="{charset}"><title>{html.escape(item.title)}</title>'
    pub = item.published
    regenerated = item.special == "meta_regen"  # the page was regenerated long after it was published
    stamp = f"{REGENERATED:%Y-%m-%d} 03:{item.id % 60:02d}" if regenerated else f"{pub:%Y-%m-%d} 09:{item.id % 60:02d}"
    return (
        f'<meta charset="{charset}">'
        f'<meta name="SiteName" content="{portal.county}人民政府">'
        f'<meta name="ColumnName" content="政府信息公开年报">'
        f'<meta name="ArticleTitle" content="{html.escape(item.title)}">'
        f'<meta name="PubDate" content="{stamp}">'
        f'<meta name="ContentSource" content="{html.escape(_publisher(portal, item))}">'
        f"<title>{html.escape(item.title)}_政府信息公开年报_{portal.county}人民政府</title>"
    )


def _catalog(portal: Portal, item: Item) -> str:
    """The 公开目录 block in the family's markup."""
    index_no = f"11{portal.owner.region}MB{item.id % 100000:05d}X/{item.published.year}-{item.id % 1000:05d}"
    pub, when = _publisher(portal, item), f"{item.published:%Y-%m-%d}"
    f = portal.family
    if f in ("trs", "gkmlpt", "gdpost"):
        return (
            '<div class="xxgk_detail_head"><table>'
            f"<tr><td>索 引 号：</td><td>{index_no}</td><td>主题分类：</td><td>政府信息公开年报</td></tr>"
            f"<tr><td>发布机构：</td><td>{pub}</td><td>成文日期：</td><td>{when}</td></tr>"
            f"<tr><td>文　　号：</td><td></td><td>发布日期：</td><td>{when}</td></tr></table></div>"
        )
    if f == "hanweb":
        return (
            '<table class="xxgk_table">'
            f"<tr><th>索 引 号：</th><td>{index_no}</td><th>主题分类：</th><td>综合政务/其他</td></tr>"
            f"<tr><th>发布机构：</th><td>{pub}</td><th>公开日期：</th><td>{when}</td></tr></table>"
        )
    if f == "shtml_uuid":
        return (
            f'<ul class="xxgk-info"><li><span>索引号：</span><em>{index_no}</em></li>'
            f"<li><span>发布机构：</span><em>{pub}</em></li><li><span>发布日期：</span><em>{when}</em></li></ul>"
        )
    if f == "vsb":
        return (
            f'<div class="dtl-list"><ul><li>索引号：<em>{index_no}</em></li><li>发布机构：<em>{pub}</em></li>'
            f"<li>成文日期：<em>{when}</em></li></ul></div>"
        )
    return f'<div class="info">发布时间：{when} 10:{item.id % 60:02d} 来源：{pub} 字体：[ 大 中 小 ]</div>'


_BODY = {
    "trs": '<div class="TRS_Editor">{}</div>',
    "gdpost": '<div class="article-content">{}</div>',
    "gkmlpt": '<div class="article-content">{}</div>',
    "hanweb": '<div id="zoom"><!--ZJEG_RSS.content.begin--><meta name="ContentStart">{}'
    '<meta name="ContentEnd"><!--ZJEG_RSS.content.end--></div>',
    "shtml_uuid": '<div class="conTxt">{}</div>',
    "vsb": '<div id="vsb_content"><div class="v_news_content">{}</div></div>',
    "nextlink": '<div class="content">{}</div>',
}


def _attachment_links(portal: Portal, item: Item) -> str:
    links = []
    for a in item.attachments:
        href = "./" + a.path.rsplit("/", 1)[-1] if portal.family == "trs" else html.escape(a.path)
        links.append(f'<p>附件：<a href="{href}">{html.escape(a.name)}</a></p>')
    return "".join(links)


def _detail(portal: Portal, item: Item, body: str, tail: str = "") -> str:
    charset = "gb2312" if item.special == "gbk" else "utf-8"
    content = _BODY[portal.family].format(body + _attachment_links(portal, item) + tail)
    return (
        f"<!DOCTYPE html><html><head>{_head(portal, item, charset)}</head><body>"
        f'<div class="nav">首页 &gt; 政府信息公开 &gt; 政府信息公开年报</div>{_catalog(portal, item)}'
        f'<h1 class="article-title">{html.escape(item.title)}</h1>{content}</body></html>'
    )


def _report_pages(portal: Portal, item: Item) -> dict[str, Route]:
    out: dict[str, Route] = {}
    if not item.report:
        note = f"<p>{html.escape(item.title)}。请各单位按要求做好相关工作。</p>"
        out[item.path] = Route(lambda: _detail(portal, item, note).encode())
        return out
    text = _text(portal, item)
    if item.fate in ("http404", "http410"):
        status = int(item.fate[-3:])
        page = f"<html><body><h1>{status}</h1></body></html>".encode()
        out[item.path] = Route(handler=lambda r: (status, {"Content-Type": "text/html"}, page))
        return out
    if item.fate == "soft404_home":
        out[item.path] = Route(handler=lambda r: (302, {"Location": "/"}, b""))
        return out
    if item.fate == "soft404_page":  # 200, the portal's own words that the page has gone
        page = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>提示信息</title></head><body>'
            f"<h1>{portal.county}人民政府</h1><p>抱歉，您访问的页面不存在或已被删除。</p></body></html>"
        ).encode()
        out[item.path] = Route(lambda: page)
        return out
    if item.special == "soft404":
        out[item.path] = Route(lambda: _home(portal))
        return out
    if item.special == "offhost":
        out[item.path] = Route(handler=lambda r: (301, {"Location": f"http://{SPAM_IP}:{portal.port}{item.path}"}, b""))
        return out
    if item.special in ("hang", "reset"):
        out[item.path] = Route(handler=lambda r, s=item.special: (200, {ACTION: s}, b""))
        return out
    if item.special == "truncate":
        out[item.path] = Route(
            handler=lambda r: (
                200,
                {ACTION: "truncate", "Content-Type": "text/html; charset=utf-8"},
                _detail(portal, item, to_html_body(text)).encode()[:2000],
            )
        )
        return out
    if item.special == "gzip_bomb":
        out[item.path] = Route(lambda: _gzip_bomb(), content_type="text/html; charset=utf-8")
        out[item.path].headers = {"Content-Encoding": "gzip"}
        return out
    if item.special == "loop":
        a, b = item.path, item.path.replace(".html", "-moved.html")
        out[a] = Route(handler=lambda r: (302, {"Location": b}, b""))
        out[b] = Route(handler=lambda r: (302, {"Location": a}, b""))
        return out
    body_text = "\n".join(text.split("\n")[1:])
    if item.fmt in ("pdf", "docx", "doc", "zip", "scan", "jpg", "poison"):
        body = f"<p>{html.escape(item.title)}全文见附件。</p>"
    elif item.fmt == "image":
        paras = "".join(f"<p>{html.escape(b.text)}</p>" for b in blocks(body_text) if b.kind == "p")
        body = paras + "".join(f'<p><img src="/images/{item.id}_{k}.png" alt="表{k}"></p>' for k in (1, 2, 3))
    elif item.fmt == "multipage":
        lines = body_text.split("\n")
        half = len(lines) // 2
        stem = item.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        pager = f'<script>createPageHTML(2, 0, "{stem}", "html");</script>'
        out[item.parts[0]] = Route(lambda: _detail(portal, item, to_html_body("\n".join(lines[half:]))).encode())
        body = to_html_body("\n".join(lines[:half]))
        out[item.path] = Route(lambda: _detail(portal, item, body, pager).encode())
        return out
    else:
        body = to_html_body(body_text)
    page = lambda: _detail(portal, item, body)
    if item.special == "gbk":  # GBK bytes under a header that says UTF-8
        out[item.path] = Route(lambda: page().encode("gb18030"), content_type="text/html; charset=utf-8")
    elif item.special == "retry_after":
        out[item.path] = Route(handler=_retry_after(page))
    else:
        out[item.path] = Route(lambda: page().encode())
    if item.special == "wap":
        out[item.path.replace(".html", "_wap.html")] = Route(lambda: page().encode())
    return out


def _busy_then(route: Route):
    """503 without Retry-After, then 500 with one, then the page."""
    hits = {"n": 0}

    def handler(request: Request):
        hits["n"] += 1
        if hits["n"] == 1:
            return 503, {"Content-Type": "text/html"}, b"<html><body>Service busy</body></html>"
        if hits["n"] == 2:
            return 500, {"Retry-After": "1", "Content-Type": "text/html"}, b"<html><body>Internal error</body></html>"
        if route.handler is not None:
            return route.handler(request)
        return 200, {"Content-Type": route.content_type, **route.headers}, route.body()

    return handler


def _retry_after(page: Callable[[], str]):
    hits = {"n": 0}

    def handler(request: Request):
        hits["n"] += 1
        if hits["n"] == 1:
            return 503, {"Retry-After": "1", "Content-Type": "text/html"}, b"<html><body>Service busy</body></html>"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page().encode()

    return handler


def _attachment_bytes(portal: Portal, item: Item, kind: str) -> bytes:
    text = _text(portal, item)
    if kind == "pdf":
        return to_pdf(text)
    if kind == "docx":
        return to_docx(text)
    if kind == "doc":
        return doc_bytes()
    if kind == "scan":
        return scanned_report()
    if kind == "jpg":
        return photographed_page()
    if kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{item.agency.name}{item.year}年年报.pdf", to_pdf(text))
            zf.writestr("说明.txt", "本压缩包内为年度报告PDF版。")
        return buf.getvalue()
    if kind in POISON:
        return POISON_BYTES[kind]()
    size = FAULT_BIG_BYTES if portal.fault == "items" else OVERSIZE_BYTES
    return b"%PDF-1.4\n" + b"0" * size  # "big": larger than the crawl allows


POISON_BYTES = {  # each about a megabyte or less on the wire
    "poison_xlsx": hostile.poison_xlsx,
    "glyph_pdf": hostile.glyph_bomb_pdf,
    "bomb_pdf": lambda: hostile.deflate_bomb_pdf(400),
}


_CTYPES = {
    "poison_xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "glyph_pdf": "application/pdf",
    "bomb_pdf": "application/pdf",
    "pdf": "application/pdf",
    "big": "application/pdf",
    "doc": "application/msword",
    "scan": "application/pdf",
    "jpg": "image/jpeg",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _home(portal: Portal) -> bytes:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{portal.county}人民政府门户网站</title></head>'
        f'<body><h1>{portal.county}人民政府</h1><ul><li><a href="/">首页</a></li>'
        f'<li><a href="/zwgk/">政务公开</a></li></ul><p>欢迎访问</p></body></html>'
    ).encode()


# ---- lists ------------------------------------------------------------------------------------


def _listed(portal: Portal) -> list[tuple[Item, str]]:
    """Entries in list order (newest first): item and the URL path the list links to."""
    out = []
    for item in portal.items:
        if item.fate == "unlisted":
            continue
        out.append((item, item.path))
        if item.special == "wap":
            out.append((item, item.path.replace(".html", "_wap.html")))
        if portal.fault == "many_urls" and item.report:  # the same page under several URLs
            out += [(item, f"{item.path}?sid={hex32(item.id, k)[:12]}") for k in range(3)]
    if portal.fault == "offsite":  # report-like links leaving the portal, to the Internet and inside
        for k, target in enumerate(
            (
                "http://evil.example.com/nb/{n}.html",
                "http://10.0.0.8/nb/{n}.html",
                "http://169.254.169.254/latest/meta-data/{n}.html",
            )
        ):
            decoy = next(i for i in portal.items if i.report)
            out.insert(k, (decoy, target.format(n=decoy.id + 90 + k)))
    return out


def _chunks(entries: list, size: int) -> list[list]:
    return [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]


def _shown(title: str, limit: int = 24) -> str:
    return title if len(title) <= limit else title[: limit - 4] + "…"


def _page(portal: Portal, inner: str) -> bytes:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="ColumnName" content="政府信息公开年报">'
        f"<title>政府信息公开年报_{portal.county}人民政府</title></head><body>"
        f'<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>{inner}</body></html>'
    ).encode()


def _paged(portal: Portal, page: Callable[[int, int, list], tuple[str, str]]) -> dict[str, Route]:
    """A static list in pages of PER_PAGE entries, newest first; ``page(k, total, entries)``
    gives page k's path (k = 0 is the first page) and its markup."""
    pages = _chunks(_listed(portal), PER_PAGE[portal.family])
    out = {}
    for k, chunk in enumerate(pages):
        path, inner = page(k, len(pages), chunk)
        body = _page(portal, inner)
        out[path] = Route(lambda b=body: b)
    return out


def _trs_paged(portal: Portal, inner: Callable[[int, int, list], str]) -> dict[str, Route]:
    """A TRS list: index.html (also the column's directory URL), index_1.html …"""
    out = _paged(
        portal,
        lambda k, total, chunk: (f"/zfxxgk/zfxxgknb/{'index.html' if k == 0 else f'index_{k}.html'}", inner(k, total, chunk)),
    )
    out["/zfxxgk/zfxxgknb/"] = out["/zfxxgk/zfxxgknb/index.html"]
    return out


def _trs_lists(portal: Portal) -> dict[str, Route]:
    def inner(k: int, total: int, chunk: list) -> str:
        rows = "".join(
            f'<li><a href="./{path.split("/zfxxgknb/", 1)[1]}" target="_blank" title="{html.escape(item.title)}">'
            f"{html.escape(_shown(item.title))}<span>{item.published:%Y-%m-%d}</span></a></li>"
            for item, path in chunk
        )
        script = (
            f"<script>var currentPage = {k}; var countPage = {total};"
            f'createPageHTML(countPage, currentPage, "index", "html");</script>'
        )
        return f'<div class="overview_right"><ul class="list">{rows}</ul><div class="page">{script}</div></div>'

    return _trs_paged(portal, inner)


def _gdpost_lists(portal: Portal) -> dict[str, Route]:
    def page(k: int, total: int, chunk: list) -> tuple[str, str]:
        rows = "".join(
            f'<li><a href="{portal.url(path)}" title="{html.escape(item.title)}" target="_blank">'
            f'{html.escape(_shown(item.title))}</a><span class="time">{item.published:%Y-%m-%d}</span></li>'
            for item, path in chunk
        )
        pager = " ".join(f'<a href="{"index.html" if n == 1 else f"index_{n}.html"}">{n}</a>' for n in range(1, total + 1))
        return (
            f"/xxgk/xxgknb/{'index.html' if k == 0 else f'index_{k + 1}.html'}",
            f'<div class="news_list"><ul>{rows}</ul></div><div class="page">{pager}</div>',
        )

    return _paged(portal, page)


def _gkmlpt_lists(portal: Portal) -> dict[str, Route]:
    shell = _page(
        portal,
        "<div id=\"app\"></div><script>window._CONFIG = { SID: '175', "
        'TREE: [ {"id": 2629, "name": "政府信息公开年报"} ] };</script>'
        '<script src="/gkmlpt/static/js/app.js"></script>',
    )
    entries = _listed(portal)
    size = PER_PAGE["gkmlpt"]

    def api(request: Request):
        if request.args.get("sid") != "175":
            return 200, {"Content-Type": "application/json"}, b'{"total": 0, "articles": []}'
        page = max(1, int(request.args.get("page", "1") or 1))
        chunk = entries[(page - 1) * size : page * size]
        articles = [
            {
                "id": item.id,
                "title": item.title,
                "url": portal.url(path),
                "publisher": _publisher(portal, item),
                "display_publish_time": int(_epoch(item.published)),
                "create_time": int(_epoch(item.published)),
            }
            for item, path in chunk
        ]
        data = json.dumps({"total": len(entries), "articles": articles}, ensure_ascii=False).encode()
        return 200, {"Content-Type": "application/json;charset=UTF-8"}, data

    return {"/gkmlpt/annualreport": Route(lambda: shell), "/gkmlpt/api/all/2629": Route(handler=api)}


def _epoch(day: date) -> float:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=timezone(timedelta(hours=8))).timestamp()


def _hanweb_record(item: Item, path: str) -> str:
    return (
        f'<record><![CDATA[<li><a href="{path}" target="_blank" title="{html.escape(item.title)}">'
        f"{html.escape(_shown(item.title))}</a><span>{item.published:%Y-%m-%d}</span></li>]]></record>"
    )


def _hanweb_lists(portal: Portal) -> dict[str, Route]:
    entries = _listed(portal)
    per = PER_PAGE["hanweb"]
    first = "".join(_hanweb_record(i, p) for i, p in entries[:per])
    col = _page(
        portal,
        f'<div id="8461222"><script type="text/xml"><datastore><recordset>{first}</recordset>'
        f'</datastore></script></div><script src="/module/web/jpage/jpage.js"></script>'
        f"<script>$(function(){{ $('#8461222').jpage({{ proxyUrl:'/module/web/jpage/dataproxy.jsp', "
        f"perPage:{per}, totalRecord:{len(entries)}, ajaxParam:{{col:1, appid:1, webid:3214, path:'/', "
        f"columnid:1229850470, sourceContentType:1, unitid:8461222, webname:'{portal.county}人民政府', "
        f"permissiontype:0}} }}); }});</script>",
    )

    def proxy(request: Request):
        if request.args.get("columnid") != "1229850470" or request.args.get("unitid") != "8461222":
            return 200, {"Content-Type": "text/xml"}, b"<datastore><totalrecord>0</totalrecord></datastore>"
        if "page" in request.args:
            page = int(request.args["page"])
            start, end = (page - 1) * per + 1, page * per
        else:
            start, end = int(request.args.get("startrecord", 1)), int(request.args.get("endrecord", per))
        records = "".join(_hanweb_record(i, p) for i, p in entries[start - 1 : end])
        pages = -(-len(entries) // per)
        xml = (
            f"<?xml version='1.0' encoding='UTF-8'?><datastore><nextgroup><![CDATA[<a href=\"/module/web/jpage/"
            f'dataproxy.jsp?page=1"></a>]]></nextgroup><recordset>{records}</recordset>'
            f"<totalrecord>{len(entries)}</totalrecord><totalpage>{pages}</totalpage></datastore>"
        )
        return 200, {"Content-Type": "text/xml;charset=UTF-8"}, xml.encode()

    year = [(i, p) for i, p in entries if i.report and i.year == 2024]
    rows = "".join(
        f'<tr class="tr_main_value_odd"><td><a href="{p}" title="{html.escape(i.title)}">'
        f"{html.escape(i.title)}</a></td><td>{i.published:%Y-%m-%d}</td></tr>"
        for i, p in year
    )
    annual = _page(portal, f'<table class="xxgk_annual">{rows}</table>')
    return {
        "/col/col1229850470/index.html": Route(lambda: col),
        "/module/web/jpage/dataproxy.jsp": Route(handler=proxy),
        "/module/xxgk/xxgkAnnualReport.jsp": Route(lambda: annual),
    }


def _shtml_lists(portal: Portal) -> dict[str, Route]:
    def page(k: int, total: int, chunk: list) -> tuple[str, str]:
        rows = "".join(
            f'<li><a href="{path}" target="_blank">{html.escape(_shown(item.title, 22))}</a>'
            f'<span class="date">{item.published:%Y-%m-%d}</span></li>'
            for item, path in chunk
        )
        nxt = f'<a href="list_{k + 2}.shtml">下一页</a>' if k + 1 < total else ""
        return (
            f"/qy/gknb/{'list.shtml' if k == 0 else f'list_{k + 1}.shtml'}",
            f'<div class="cont_right"><ul>{rows}</ul><div class="pages">{nxt}</div></div>',
        )

    return _paged(portal, page)


def _vsb_lists(portal: Portal) -> dict[str, Route]:
    def page(k: int, total: int, chunk: list) -> tuple[str, str]:
        number = total - k  # zfxxgknb.htm, then zfxxgknb/{total-1}.htm … zfxxgknb/1.htm
        up = "../" if k == 0 else "../../"
        rows = "".join(
            f'<li id="line_u5_{j}"><a href="{up}info/1005/{item.id}.htm" title="{html.escape(item.title)}">'
            f"{html.escape(_shown(item.title))}</a><span>{item.published:%Y-%m-%d}</span></li>"
            for j, (item, path) in enumerate(chunk)
        )
        prefix = "zfxxgknb/" if k == 0 else ""
        nxt = f'<span class="p_next"><a href="{prefix}{number - 1}.htm">下页</a></span>' if number > 1 else ""
        pager = (
            f'<div class="pb_sys_common"><span class="p_pages">{nxt}<span class="p_last">'
            f'<a href="{prefix}1.htm">尾页</a></span></span><span class="p_t">共{total}页</span>'
            f'<a href="javascript:;" onclick="_simple_list_gotopage_fun({total},\'u5_goto\',2)">跳转</a></div>'
        )
        return ("/zfxxgk/zfxxgknb.htm" if k == 0 else f"/zfxxgk/zfxxgknb/{number}.htm", f'<ul class="list">{rows}</ul>{pager}')

    return _paged(portal, page)


def _nextlink_lists(portal: Portal) -> dict[str, Route]:
    def page(k: int, total: int, chunk: list) -> tuple[str, str]:
        rows = "".join(
            f'<tr><td><a href="{path}">{html.escape(item.title)}</a></td><td>{item.published:%Y-%m-%d}</td></tr>'
            for item, path in chunk
        )
        nxt = f'<a href="list-{k + 2}.html">下一页</a>' if k + 1 < total else ""
        if not nxt and portal.fault == "calendar":
            nxt = '<a href="cal-1.html">下一页</a>'
        return f"/nb/list-{k + 1}.html", f'<table class="list">{rows}</table><div class="pager">{nxt}</div>'

    out = _paged(portal, page)
    if portal.fault == "calendar":  # empty pages, each linking to the next, for ever
        for n in range(1, CALENDAR_PAGES + 1):
            out[f"/nb/cal-{n}.html"] = Route(
                lambda n=n: _page(
                    portal, f'<table class="list"></table><div class="pager"><a href="cal-{n + 1}.html">下一页</a></div>'
                )
            )
    return out


_LISTS = {
    "trs": _trs_lists,
    "gdpost": _gdpost_lists,
    "gkmlpt": _gkmlpt_lists,
    "hanweb": _hanweb_lists,
    "shtml_uuid": _shtml_lists,
    "vsb": _vsb_lists,
    "nextlink": _nextlink_lists,
}


# ---- list layouts beyond the families' plain ones (world.LAYOUTS) ----------------------------


def _trs_row(item: Item, path: str, base: str = "/zfxxgk/zfxxgknb/") -> str:
    return (
        f'<li><a href="./{path.split(base, 1)[1]}" target="_blank" title="{html.escape(item.title)}">'
        f'{html.escape(_shown(item.title))}</a><span class="date">{item.published:%Y-%m-%d}</span></li>'
    )


def _comment_lists(portal: Portal) -> dict[str, Route]:
    """The static list and its pager call commented out; a script (not served) renders them."""

    def inner(k: int, total: int, chunk: list) -> str:
        rows = "".join(_trs_row(item, path) for item, path in chunk)
        return (
            f'<div class="overview_right"><ul class="list" id="doclist"></ul><!--<ul class="list">{rows}</ul>-->'
            f'<div class="page"><!--<script>createPageHTML({total}, {k}, "index", "html");</script>--></div>'
            '<script src="/js/doclist.js"></script></div>'
        )

    return _trs_paged(portal, inner)


def _script_json_lists(portal: Portal) -> dict[str, Route]:
    """An articleList JavaScript array (unquoted keys, 年月日 dates) a template engine renders."""

    def inner(k: int, total: int, chunk: list) -> str:
        records = ",".join(
            f"{{docid: {item.id}, title: {json.dumps(item.title, ensure_ascii=False)}, "
            f'linkurl: "./{path.split("/zfxxgknb/", 1)[1]}", fbrq: "{item.published:%Y年%m月%d日}"}}'
            for item, path in chunk
        )
        return (
            f'<ul class="list" id="list"></ul><script>var articleList = [{records}];'
            "template('list-tpl', {list: articleList});</script>"
            f'<script>var currentPage = {k}; var countPage = {total};createPageHTML(countPage, currentPage, "index", "html");'
            "</script>"
        )

    return _trs_paged(portal, inner)


def _search_api_lists(portal: Portal) -> dict[str, Route]:
    """TRS avalon/trsapi: an empty shell whose script POSTs the column id to a search API."""
    entries = _listed(portal)
    size = PER_PAGE["trs"]
    shell = _page(
        portal,
        '<div ms-controller="nblist"><ul><li ms-for="el in @list"><a ms-attr="{href: el.DOCPUBURL}">{{el.DOCTITLE}}</a>'
        '<span>{{el.DOCRELTIME}}</span></li></ul><div class="page" id="pager"></div></div>'
        '<script src="/trsapi/js/avalon.js"></script><script>var channelId = "6021";'
        'var vm = avalon.define({$id: "nblist", list: []});'
        'function load(page) { $.ajax({url: "/trsapi/search/doc", type: "POST", dataType: "json",'
        f' data: {{channelid: channelId, page: page, pagesize: {size}, sortfield: "-DOCRELTIME"}},'
        " success: function (res) { vm.list = res.data.list; pager(res.data.pager); } }); } load(1);</script>",
    )

    def api(request: Request):
        if request.method != "POST" or request.args.get("channelid") != "6021":
            return 200, {"Content-Type": "application/json"}, b'{"code": "-1", "msg": "no such channel"}'
        page, per = int(request.args.get("page", "1") or 1), int(request.args.get("pagesize", size) or size)
        chunk = entries[(page - 1) * per : page * per]
        records = [
            {
                "DOCID": item.id,
                "DOCTITLE": item.title,
                "DOCPUBURL": portal.url(path),
                "DOCRELTIME": f"{item.published:%Y-%m-%d} 09:00:00",
                "CRTIME": "2025-06-18 03:00:00",
            }
            for item, path in chunk
        ]
        pager = {"pageIndex": page, "pageCount": -(-len(entries) // per), "total": len(entries)}
        data = json.dumps({"code": "0", "data": {"list": records, "pager": pager}}, ensure_ascii=False).encode()
        return 200, {"Content-Type": "application/json;charset=UTF-8"}, data

    return {
        "/zfxxgk/zfxxgknb/": Route(lambda: shell),
        "/zfxxgk/zfxxgknb/index.html": Route(lambda: shell),
        "/trsapi/search/doc": Route(handler=api),
    }


def _hanweb_json_lists(portal: Portal) -> dict[str, Route]:
    """Hanweb JPaaS: a GET with the page number inside a paramJson parameter, answering the
    rendered <li> markup inside JSON."""
    entries = _listed(portal)
    size = PER_PAGE["hanweb"]
    col = _page(
        portal,
        '<div id="8461222" class="xx_list"></div><script>'
        "$.ajax({url: '/jpaas-jpage-server/front/page/build/unit', type: 'GET', dataType: 'json',"
        " data: {webId: '3214', pageId: '1229850470', parseType: 'bulidstatic', pageType: 'column',"
        f" tagId: '当前栏目list', tplSetId: '52c8d1b3f', paramJson: '{{\"pageNo\":1,\"pageSize\":{size}}}'}},"
        " success: function (d) { $('#8461222').html(d.data.html); } });</script>",
    )

    def unit(request: Request):
        try:
            param = json.loads(request.args.get("paramJson", "{}"))
        except ValueError:
            param = {}
        if request.args.get("pageId") != "1229850470":
            return 200, {"Content-Type": "application/json"}, b'{"success": false}'
        page, per = int(param.get("pageNo", 1)), int(param.get("pageSize", size))
        rows = "".join(
            f'<li><a href="{path}" target="_blank" title="{html.escape(item.title)}">{html.escape(_shown(item.title))}</a>'
            f"<span>{item.published:%Y-%m-%d}</span></li>"
            for item, path in entries[(page - 1) * per : page * per]
        )
        data = {
            "success": True,
            "data": {"html": f"<ul>{rows}</ul>", "total": len(entries), "pageCount": -(-len(entries) // per)},
        }
        return 200, {"Content-Type": "application/json;charset=UTF-8"}, json.dumps(data, ensure_ascii=False).encode()

    return {
        "/col/col1229850470/index.html": Route(lambda: col),
        "/jpaas-jpage-server/front/page/build/unit": Route(handler=unit),
    }


def _sibling_date_lists(portal: Portal) -> dict[str, Route]:
    """Dates beside titles: ``<dt>`` title + ``<dd>`` date on odd pages, a date ``<div>`` after
    a title ``<div>`` on even ones, in 年月日 and slashed forms."""

    def page(k: int, total: int, chunk: list) -> tuple[str, str]:
        if k % 2 == 0:
            rows = "".join(
                f'<dt><a href="{path}">{html.escape(item.title)}</a></dt><dd>{item.published:%Y年%m月%d日}</dd>'
                for item, path in chunk
            )
            rows = f'<dl class="list">{rows}</dl>'
        else:
            rows = "".join(
                f'<div class="item"><div class="t"><a href="{path}">{html.escape(item.title)}</a></div>'
                f'<div class="d">{item.published.year}/{item.published.month}/{item.published.day}</div></div>'
                for item, path in chunk
            )
            rows = f'<div class="list">{rows}</div>'
        nxt = f'<a href="list-{k + 2}.html">下一页</a>' if k + 1 < total else ""
        return f"/nb/list-{k + 1}.html", f'{rows}<div class="pager">{nxt}</div>'

    return _paged(portal, page)


def _year_tab_lists(portal: Portal) -> dict[str, Route]:
    """The 年报 column holds only year tabs; each year is a TRS list of its own."""
    by_year: dict[int, list] = {}
    for item, path in _listed(portal):
        by_year.setdefault(_column_year(item), []).append((item, path))
    tabs = " ".join(f'<a href="{y}n/">{y}年度</a>' for y in sorted(by_year, reverse=True))
    column = _page(portal, f'<div class="tabs">{tabs}</div><div class="overview_right"><p>请选择年度</p></div>')
    out = {"/zfxxgk/zfxxgknb/": Route(lambda: column), "/zfxxgk/zfxxgknb/index.html": Route(lambda: column)}
    for year, entries in by_year.items():
        base = f"/zfxxgk/zfxxgknb/{year}n/"
        pages = _chunks(entries, PER_PAGE["trs"])
        for k, chunk in enumerate(pages):
            rows = "".join(_trs_row(item, path, base) for item, path in chunk)
            script = f'<script>createPageHTML({len(pages)}, {k}, "index", "html");</script>'
            body = _page(portal, f'<ul class="list">{rows}</ul><div class="page">{script}</div>')
            out[base + ("index.html" if k == 0 else f"index_{k}.html")] = Route(lambda b=body: b)
        out[base] = out[base + "index.html"]
    return out


def _unreadable_lists(portal: Portal) -> dict[str, Route]:
    """Items rendered from an encrypted blob by a script that is not served: no crawl can read
    this list (its items are ``portal.hidden``)."""
    blob = hex32(portal.id, "blob") * 8
    total = len(_chunks(_listed(portal), PER_PAGE["nextlink"]))
    body = _page(
        portal,
        f'<ul class="list" id="list"></ul><div class="pager">共{total}页</div>'
        f'<script src="/js/list.min.js"></script><script>var _d = "{blob}"; renderList(decrypt(_d));</script>',
    )
    return {"/nb/list-1.html": Route(lambda: body)}


def _jspager_lists(portal: Portal) -> dict[str, Route]:
    """Page 1 as a plain dated table; the later pages only through a JavaScript pager."""
    pages = _chunks(_listed(portal), JSPAGER_PER_PAGE)
    rows = "".join(
        f'<tr><td><a href="{path}">{html.escape(item.title)}</a></td><td>{item.published:%Y-%m-%d}</td></tr>'
        for item, path in pages[0]
    )
    pager = f'<div class="pager"><span>第1/{len(pages)}页</span><a href="javascript:void(0)" onclick="goPage(2)">下一页</a></div>'
    body = _page(portal, f'<table class="list">{rows}</table>{pager}')
    return {"/nb/list-1.html": Route(lambda: body)}


def hide_unreadable(portal: Portal) -> None:
    """The items a crawl cannot see in an unreadable layout's list."""
    if portal.layout == "unreadable":
        portal.hidden = {item.id for item in portal.items}
    elif portal.layout == "jspager":
        pages = _chunks(_listed(portal), JSPAGER_PER_PAGE)
        portal.hidden = {item.id for chunk in pages[1:] for item, _ in chunk}


_LAYOUTS = {
    "comment": _comment_lists,
    "script_json": _script_json_lists,
    "search_api": _search_api_lists,
    "hanweb_json": _hanweb_json_lists,
    "sibling_dates": _sibling_date_lists,
    "year_tabs": _year_tab_lists,
    "unreadable": _unreadable_lists,
    "jspager": _jspager_lists,
}


def _hostile(portal: Portal) -> dict[str, Route]:
    if portal.hostile == "waf521":
        script = (
            b"<html><script>document.cookie=('_')+('_jsl_clearance_s')+('=')+(-~[]+'6975')+('|0|')+"
            b"'x%3D';location.href=location.pathname+location.search</script></html>"
        )
        return {
            "*": Route(
                handler=lambda r: (
                    521,
                    {"Set-Cookie": "__jsluid_h=8a5c0b3e; path=/; HttpOnly", "Content-Type": "text/html"},
                    script,
                )
            )
        }
    if portal.hostile == "waf412":
        script = (
            b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><script>'
            b"$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=41532;$_ts.cd='qExcrrAlEa3mqqqqqo';"
            b"(function(){var _$a=0,_$b=[[5,1,2]];})();</script></head><body></body></html>"
        )
        return {
            "*": Route(
                handler=lambda r: (412, {"Set-Cookie": "FSSBBIl1UgzbN7N80S=x8pc1V; Path=/", "Content-Type": "text/html"}, script)
            )
        }
    return {}


def routes(portal: Portal) -> tuple[dict[str, Route], str]:
    """All routes of a portal's host (path → Route; ``*`` answers every path) and its robots.txt."""
    robots = (
        "User-agent: *\nDisallow: /\n" if portal.hostile == "robots" else "User-agent: *\nDisallow: /admin/\nDisallow: /search/\n"
    )
    out = _hostile(portal)
    if out:
        return out, robots
    if portal.fault == "err500":
        return {
            "*": Route(
                handler=lambda r: (500, {"Content-Type": "text/html"}, b"<html><body>500 Internal Server Error</body></html>")
            )
        }, robots
    out = {"/": Route(lambda: _home(portal))}
    lists = (_LAYOUTS.get(portal.layout) or _LISTS[portal.family])(portal)
    out.update(lists)
    downloads: dict[str, Route] = {}
    for item in portal.items:
        for path, route in _report_pages(portal, item).items():
            out[path] = route
        for a in item.attachments:
            route = Route(
                lambda i=item, k=a.kind: _attachment_bytes(portal, i, k), _CTYPES[a.kind], needs_referer=portal.family == "vsb"
            )
            if portal.family in ("hanweb", "vsb"):
                downloads[a.path] = route
            else:
                out[a.path] = route
    if portal.fault == "list_tail":  # the list's first page answers, the later ones do not
        first = lists[portal.start_paths[0].split("#")[0].split("?")[0]]
        for path, route in lists.items():
            if route is not first:
                out[path] = Route(handler=lambda r: (500, {"Content-Type": "text/html"}, b"<html><body>500</body></html>"))
    if portal.fault == "err503":  # the first list page is busy twice, then answers
        path = portal.start_paths[0].split("#")[0].split("?")[0]
        out[path] = Route(handler=_busy_then(out[path]))
    if downloads:

        def download(request: Request, table=downloads):
            key = request.path + "?" + "&".join(f"{k}={quote(v, safe='.')}" for k, v in request.args.items())
            route = table.get(key)
            if route is None:
                return 404, {"Content-Type": "text/html"}, b"<html><body>file not found</body></html>"
            if route.needs_referer and not request.headers.get("referer"):
                return 403, {"Content-Type": "text/html"}, b"<html><body>403 Forbidden: no Referer</body></html>"
            name = quote(next(a.name for i in portal.items for a in i.attachments if a.path == key))
            return (
                200,
                {"Content-Type": route.content_type, "Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
                route.body(),
            )

        path = "/module/download/downfile.jsp" if portal.family == "hanweb" else "/system/_content/download.jsp"
        out[path] = Route(handler=download)
    return out, robots
