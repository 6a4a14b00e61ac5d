"""HTML report pages: paragraphs become lines, table rows become hard lines.

Gov CMS pages wrap everything in layout tables; a table that holds another
table is treated as layout and walked as ordinary flow, so only innermost
tables produce rows. Cells keep their own text (``<br>`` and ``<p>`` inside
a cell are joined). Each cell also keeps the grid columns it covers
(``colspan``, and the columns a ``rowspan`` above takes), so the parser can
put a value under the header column it sits in even when cells around it
are blank.

libxml2 runs in huge-tree mode: without it a page nested more than 256 levels
deep (unclosed tags in CMS output) or with a text node over 10 MB (an inlined
blob) silently ends there. Past its hard limits (2,048 levels) the page is cut
and the cut is recorded on the document.
"""

from __future__ import annotations

from lxml import etree

from ..encoding import decode
from ..errors import ExtractError
from .document import RAISED, Document, Line

_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "center",
    "form",
    "address",
    "figure",
    "figcaption",
    "main",
    "nav",
    "aside",
    "tr",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "caption",
    "hr",
}
_SKIP = {"script", "style", "noscript", "template", "head", "title", "select", "option", "button", "iframe", "object"}


_TEXT = etree.tostring
_STYLED_RAISED = etree.XPath("//*[contains(@style, 'vertical-align')]")
_RAISED_HINTS = ("<sup", "<sub", "<SUP", "<SUB", "vertical-align")


def _lower_raised(root) -> None:
    """Digits in <sup>/<sub> (or styled vertical-align: super/sub) as super- and subscript
    characters (see ``RAISED``)."""
    raised = [(el, el.tag) for el in root.iter("sup", "sub")]
    for el in _STYLED_RAISED(root):
        style = el.get("style", "").lower().replace(" ", "")
        for kind, word in (("sup", "vertical-align:super"), ("sub", "vertical-align:sub")):
            if word in style:
                raised.append((el, kind))
    for el, kind in raised:
        table = RAISED[kind]
        for node in el.iter():
            if node.text:
                node.text = node.text.translate(table)
            if node is not el and node.tail:
                node.tail = node.tail.translate(table)


def _cell_text(cell) -> str:
    # Text nodes are joined without spaces: a number split over <span>s stays one number.
    # (serialised as text in C: a third of what XPath's string() costs; most cells have no
    # element inside, and then their text is all)
    text = _TEXT(cell, method="text", encoding=str, with_tail=False) if len(cell) else cell.text
    return " ".join(text.split()) if text else ""


def _rows(table) -> list:
    rows = []
    for child in table:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "tr":
            rows.append(child)
        elif tag in ("tbody", "thead", "tfoot"):
            rows.extend(r for r in child if r.tag == "tr")
    return rows


def _span(value: str) -> int:
    try:
        return max(1, min(int(value.strip() or 1), 1000))
    except ValueError:
        return 1


def _table_lines(table, space: int) -> list[Line]:
    """The table's rows, each cell with the grid columns it covers."""
    lines = []
    taken: dict[int, int] = {}  # column → rows still covered by a rowspan from above
    for tr in _rows(table):
        cells, spans = [], []
        col = 0
        for td in tr:
            tag = td.tag
            if tag != "td" and tag != "th":
                continue
            if taken:
                while taken.get(col, 0) > 0:
                    col += 1
            colspan, rowspan = td.get("colspan"), td.get("rowspan")  # most cells have neither
            colspan = 1 if colspan is None else _span(colspan)
            rowspan = 1 if rowspan is None else _span(rowspan)
            cells.append(_cell_text(td))
            spans.append((float(col), float(col + colspan)))
            if rowspan > 1:
                for c in range(col, col + colspan):
                    taken[c] = max(taken.get(c, 0), rowspan)
            col += colspan
        if taken:
            taken = {c: n - 1 for c, n in taken.items() if n > 1}
        if any(cells):
            lines.append(Line(cells, hard=True, spans=spans, space=space, grid=True))
    return lines


class _Flow:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.buf: list[str] = []
        self.tables = 0

    def flush(self) -> None:
        text = " ".join("".join(self.buf).split())
        if text:
            self.lines.append(Line([text]))
        self.buf = []

    def walk(self, root) -> None:
        """Elements in document order, by libxml2's own iteration (pages nest thousands deep)."""
        walker = etree.iterwalk(root, events=("start", "end"))
        for event, el in walker:
            tag = el.tag if isinstance(el.tag, str) else ""
            if event == "end":
                if tag in _BLOCK or tag == "br":
                    self.flush()
                if el.tail and el is not root:
                    self.buf.append(el.tail)
            elif tag in _SKIP or not tag:
                walker.skip_subtree()
            elif tag == "table" and el.find(".//table") is None:
                self.flush()
                self.tables += 1
                self.lines.extend(_table_lines(el, self.tables))
                walker.skip_subtree()
            else:
                if tag in _BLOCK or tag == "br":
                    self.flush()
                if el.text:
                    self.buf.append(el.text)


def _meta(root) -> dict[str, str]:
    meta = {}
    for m in root.iter("meta"):
        name = m.get("name") or m.get("property")
        content = m.get("content")
        if name and content:
            meta[name] = content.strip()
    return meta


def extract_html(data: bytes | str, content_type: str | None = None) -> Document:
    text = data if isinstance(data, str) else decode(data, content_type)[0]
    if not text.strip():
        raise ExtractError("empty HTML document")
    try:
        # Plain lxml.etree elements: lxml.html's element classes cost a lookup per node.
        parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, no_network=True, huge_tree=True)
        root = etree.fromstring(text.encode("utf-8"), parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        raise ExtractError(f"unreadable HTML: {e}") from None
    if root is None:
        raise ExtractError("empty HTML document")
    cuts = [
        f"网页第 {e.line} 行第 {e.column} 列起未读取（{'嵌套层数' if 'depth' in e.message else '解析器资源'}超过上限）"
        for e in parser.error_log
        if e.level_name == "FATAL" and e.type_name == "ERR_RESOURCE_LIMIT"
    ][:1]
    etree.strip_elements(root, *_SKIP - {"head", "title"}, with_tail=False)
    if any(hint in text for hint in _RAISED_HINTS):  # most pages print nothing raised: no walk over the tree
        _lower_raised(root)
    meta = _meta(root)
    title_el = root.find(".//title")
    title = meta.get("ArticleTitle") or ("".join(title_el.itertext()).strip() if title_el is not None else None)
    flow = _Flow()
    body = root.find("body")
    flow.walk(body if body is not None else root)
    flow.flush()
    return Document(lines=flow.lines, format="html", title=title or None, meta=meta, cuts=cuts)
