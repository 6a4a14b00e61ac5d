"""TRS WCM static publishing: index.html, index_1.html … from ``countPage`` / ``createPageHTML``.

The pager is written by ``document.write`` at run time, so the static page has
no pager anchors: the page count and file name come from the script, as
literals (``createPageHTML(5, 0, "index", "html")``) or as variables the call
names (the WCM default ``createPageHTML(_nPageCount, _nCurrIndex, _sPageName,
_sPageExt)`` after ``var _nPageCount = 5;`` …), or from ``countPage`` /
``pageCount`` alone. Items are ``./YYYYMM/tYYYYMMDD_ID.html`` (``.htm``/``.shtml``);
``_wap`` twins are the same report. The ``common_list_N.shtml`` variant is
handled the same way.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from ..page import Page
from .base import Follow, Listing, Profile

_CALL = re.compile(r"(\bfunction\s+)?\bcreatePageHTML\s*\(([^()]*)\)")
_NUMBER = re.compile(r"^\d+$")
_QUOTED = re.compile(r"^(?:\"([^\"]*)\"|'([^']*)')$")
_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")
_COUNT = re.compile(r"\b(?:countPage|pageCount|_nPageCount|totalPages?|pageTotal)\s*[=:]\s*['\"]?(\d+)")
_CURRENT = re.compile(r"\b(?:currentPage|_nCurrIndex)\s*[=:]\s*['\"]?(\d+)")
_STEM = re.compile(r"/([\w-]+?)(?:_(\d+))?\.(s?html?)$")
_WAP = re.compile(r"_wap(\.s?html?)$")

Value = int | str | None


class TrsProfile(Profile):
    name = "trs"
    detail_pattern = re.compile(r"/t\d{8}_\d+(?:_\d+)?\.s?html?$")

    def canonical(self, url: str) -> str:
        return _WAP.sub(r"\1", url)

    def parse(self, page: Page, context: dict) -> Listing:
        return Listing(self.entries(page), self._next(page) or self.next_links(page))

    def _next(self, page: Page) -> list[Follow]:
        pager = _from_call(page.text) or _from_count(page)
        if pager is None:
            return []
        count, current, name, ext = pager
        if current + 1 >= count:
            return []
        return [Follow(urljoin(page.url, f"{name}_{current + 1}.{ext}"))]


def _from_call(text: str) -> tuple[int, int, str, str] | None:
    """(pages, current 0-based, file stem, extension) from the first ``createPageHTML`` call
    whose arguments resolve (literals, or variables assigned a literal in the page)."""
    for m in _CALL.finditer(text):
        if m.group(1):
            continue  # the function's own definition
        args = [_resolve(arg.strip(), text) for arg in m.group(2).split(",")]
        if len(args) >= 3 and isinstance(args[0], str) and not _NUMBER.match(args[0]):
            args = args[1:]  # createPageHTML('page_div', pages, current, name, ext, records)
        numbers = [int(a) if isinstance(a, str) and _NUMBER.match(a) else a for a in args[:2]]
        if len(numbers) < 2 or not all(isinstance(n, int) for n in numbers):
            continue
        name = args[2] if len(args) > 2 and isinstance(args[2], str) and args[2] else "index"
        ext = args[3] if len(args) > 3 and isinstance(args[3], str) and args[3] else "html"
        return numbers[0], numbers[1], name, ext
    return None


def _resolve(arg: str, text: str) -> Value:
    """A call argument's value: a number, a quoted string, or a variable's literal value."""
    if _NUMBER.match(arg):
        return int(arg)
    if m := _QUOTED.match(arg):
        return m.group(1) if m.group(1) is not None else m.group(2)
    if not _NAME.match(arg):
        return None
    assigned = re.search(rf"(?<![\w$.]){re.escape(arg)}\s*=\s*(\d+|\"[^\"]*\"|'[^']*')", text)
    return _resolve(assigned.group(1), "") if assigned else None


def _from_count(page: Page) -> tuple[int, int, str, str] | None:
    """The same from ``countPage`` / ``pageCount`` alone; the current page from
    ``currentPage``, else from the URL (``index_2.html`` is the third page)."""
    count = _COUNT.search(page.text)
    if not count:
        return None
    stem = _STEM.search(urlsplit(page.url).path)
    name, ext = (stem.group(1), stem.group(3)) if stem else ("index", "html")
    current = _CURRENT.search(page.text)
    if current:
        number = int(current.group(1))
    else:
        number = int(stem.group(2)) if stem and stem.group(2) else 0
    return int(count.group(1)), number, name, ext
