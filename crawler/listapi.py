"""A list the page loads from a JSON API, called the way the page itself calls it.

TRS "avalon"/``trsapi`` modules, Hanweb's JSON data proxies and many home-made
templates render an empty list and fill it from a search endpoint: the page's
own script says where (``$.ajax({url, type, data})``, ``$.post(url, data)``,
``$.getJSON``, ``fetch(url, {method, body})``, ``axios``) and with which column
id and page size. ``find_calls`` reads those calls from the page's inline
scripts (values given as literals or as ``var`` constants of the page);
``request`` makes page *k* of one as a list request, and ``next_request``
keeps the API's pagination (page numbers or record offsets, until the stated
total or page count, or a short page, is reached).

Only calls that look like a list are followed: they carry a page/offset
parameter or a column id. A visit counter or a weather widget is left alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .families.base import Follow
from .page import Page

_CALL = re.compile(
    r"(?:\$|jQuery)\s*\.\s*(?P<jq>ajax|post|get|getJSON)\s*\(|\bfetch\s*\(|\baxios(?:\s*\.\s*(?P<ax>post|get|request))?\s*\("
)
_VAR = re.compile(r"\b(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*(\"[^\"\n]*\"|'[^'\n]*'|-?\d+(?:\.\d+)?)\s*[;,\n]")
_IDENT = re.compile(r"^[A-Za-z_$][\w$.]*$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_STRINGIFY = re.compile(r"^JSON\s*\.\s*stringify\s*\((.*)\)$", re.S)
PAGE_KEYS = {
    "page",
    "pageno",
    "pagenum",
    "pagenumber",
    "pageindex",
    "curpage",
    "currpage",
    "currentpage",
    "pagenow",
    "pn",
    "p",
    "pagecurrent",
}
OFFSET_KEYS = {"start", "offset", "startrecord", "startrow", "from"}
SIZE_KEYS = {"pagesize", "size", "rows", "limit", "perpage", "length", "ps", "pagerows", "pagelimit", "num"}
_COLUMN = re.compile(r"channel|chnl|column|colid|catid|cateid|catalog|category|nodeid|classid|typeid|lanmu|lmid")
TOTAL_KEYS = (
    "total",
    "totalcount",
    "totalrecord",
    "totalrecords",
    "recordcount",
    "totalelements",
    "totalnum",
    "totalsize",
    "totalrow",
    "totalrows",
    "totalhits",
    "count",
)
PAGES_KEYS = ("totalpage", "totalpages", "pagecount", "pagetotal", "totalpagenum", "pagesum", "pages")
HEADERS = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json, text/javascript, */*; q=0.01"}


class Unresolved(str):
    """A value computed at run time (an expression or an unknown variable)."""


@dataclass(frozen=True)
class ApiCall:
    url: str
    method: str  # GET or POST
    params: dict[str, Any]  # query/form parameters, or the JSON body
    json_body: bool
    page_path: tuple[str, ...] | None  # where the page number (or record offset) goes
    offset: bool  # page_path holds a record offset rather than a page number
    first: int  # the first page's number (0 or 1), or the first offset
    size: int | None  # records per page, as the call asks


def _norm(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def _outside_strings(text: str, start: int = 0):
    """(index, character, bracket depth after it) for each character of ``text`` outside string literals."""
    depth, quote, i = 0, None, start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        else:
            depth += (c in "([{") - (c in ")]}")
            yield i, c, depth
        i += 1


def _close(text: str, start: int) -> int:
    """Index just past the bracket closing the one at ``start``."""
    return next((i + 1 for i, _, depth in _outside_strings(text, start) if depth == 0), len(text))


def _split(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside strings and brackets."""
    parts, last = [], 0
    for i, c, depth in _outside_strings(text):
        if c == sep and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return [p.strip() for p in parts if p.strip()]


def _pairs(obj: str) -> dict[str, str]:
    """The top-level ``key: value`` texts of an object literal (functions and all)."""
    out = {}
    for part in _split(obj.strip()[1:-1], ","):
        key, colon, value = part.partition(":")
        key = key.strip().strip("\"'`")
        if colon and _IDENT.match(key):
            out[key] = value.strip()
        elif not colon and _IDENT.match(key):  # shorthand {url}
            out[key] = key
    return out


def _value(raw: str, env: dict[str, Any]) -> Any:
    raw = raw.strip().rstrip(";")
    if len(raw) >= 2 and raw[0] in "\"'`" and raw[-1] == raw[0]:
        return raw[1:-1]
    if _NUMBER.match(raw):
        return float(raw) if "." in raw else int(raw)
    if raw.startswith("{") and _close(raw, 0) == len(raw):
        return {k: _value(v, env) for k, v in _pairs(raw).items()}
    if m := _STRINGIFY.match(raw):
        inner = _value(m.group(1), env)
        return json.dumps(inner, ensure_ascii=False) if isinstance(inner, dict) else Unresolved(raw)
    if raw in ("true", "false"):
        return raw == "true"
    if _IDENT.match(raw) and raw in env:
        return env[raw]
    return Unresolved(raw)


def _constants(texts: list[str]) -> dict[str, Any]:
    env: dict[str, Any] = {}
    for text in texts:
        for name, value in _VAR.findall(text):
            env.setdefault(name, _value(value, {}))
    return env


def _arguments(text: str, open_paren: int) -> list[str]:
    return _split(text[open_paren + 1 : _close(text, open_paren) - 1], ",")


def _options(args: list[str], env: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """(url, option texts) of a call's arguments: ``(url, {…})`` or ``({url, …})``."""
    url = _value(args[0], env) if args and not args[0].startswith("{") else None
    obj = next((a for a in args if a.startswith("{") and _close(a, 0) == len(a)), None)
    return url, _pairs(obj) if obj else {}


def _page_path(params: dict[str, Any]) -> tuple[tuple[str, ...] | None, bool]:
    for key in params:
        if _norm(key) in PAGE_KEYS:
            return (key,), False
    for key in params:
        if _norm(key) in OFFSET_KEYS:
            return (key,), True
    for key, value in params.items():  # a JSON-string parameter (JPaaS paramJson={"pageNo":1,…})
        if isinstance(value, str) and value.startswith("{"):
            try:
                inner = json.loads(value)
            except ValueError:
                continue
            path, offset = _page_path(inner) if isinstance(inner, dict) else (None, False)
            if path:
                return (key, *path), offset
    return None, False


def _get(params: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = params
    for i, key in enumerate(path):
        if i and isinstance(value, str):
            value = json.loads(value)
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _size(params: dict[str, Any], page_path: tuple[str, ...] | None) -> int | None:
    scopes = [params]
    if page_path and len(page_path) > 1:
        scopes.append(json.loads(params[page_path[0]]))
    for scope in scopes:
        for key, value in scope.items():
            if _norm(key) in SIZE_KEYS and isinstance(value, int) and value > 0:
                return value
    return None


def _call(page: Page, url: Any, method: str, data: Any, json_body: bool) -> ApiCall | None:
    if not isinstance(url, str) or isinstance(url, Unresolved) or not url.strip():
        return None
    absolute = page.absolute(url)
    if absolute is None:
        return None
    if isinstance(data, str) and not isinstance(data, Unresolved) and data.startswith("{"):
        data, json_body = json.loads(data), True
    params = data if isinstance(data, dict) else {}
    path, offset = _page_path(params)
    listed = path is not None or any(_COLUMN.search(_norm(k)) for k in params)
    page_value = _get(params, path) if path else None
    unresolved = [k for k, v in params.items() if isinstance(v, Unresolved) and (not path or k != path[0])]
    if not listed or unresolved or isinstance(data, Unresolved):
        return None
    first = page_value if isinstance(page_value, int) and not isinstance(page_value, bool) else (0 if offset else 1)
    return ApiCall(absolute, method.upper(), params, json_body, path, offset, first, _size(params, path))


def find_calls(page: Page, texts: list[str]) -> list[ApiCall]:
    """List API calls in the page's script texts (inline scripts and commented-out ones)."""
    env = _constants(texts)
    calls: dict[tuple, ApiCall] = {}
    for text in texts:
        for m in _CALL.finditer(text):
            args = _arguments(text, m.end() - 1)
            url, options = _options(args, env)
            url = _value(options["url"], env) if "url" in options else url
            method = _value(options.get("type") or options.get("method") or "''", env)
            kind = m.group("jq") or m.group("ax")
            if not isinstance(method, str) or not method or isinstance(method, Unresolved):
                method = "POST" if kind == "post" else "GET"
            json_body = "json" in str(_value(options.get("contentType", "''"), env)).lower()
            if kind == "post" and m.group(0).startswith("axios"):  # axios.post(url, {…}): a JSON body
                data, json_body = (_value(args[1], env) if len(args) > 1 else None), True
            elif kind in ("post", "get", "getJSON") and len(args) > 1 and args[1].startswith("{"):
                data = _value(args[1], env)  # $.post(url, {…})
            elif m.group(0).startswith("fetch"):
                data = _value(options.get("body", "''"), env)
            else:
                data = _value(options.get("data") or options.get("params") or "''", env)
            call = _call(page, url, method, data, json_body)
            if call is not None:
                calls.setdefault((call.url, call.method, json.dumps(call.params, sort_keys=True)), call)
    return list(calls.values())


def _set(params: dict[str, Any], path: tuple[str, ...], value: int) -> dict[str, Any]:
    out = dict(params)
    if len(path) == 1:
        out[path[0]] = value
    else:
        out[path[0]] = json.dumps(_set(json.loads(params[path[0]]), path[1:], value), ensure_ascii=False)
    return out


def request(call: ApiCall, number: int, size: int | None = None, context: dict | None = None) -> Follow:
    """Page ``number`` (1 = the first the page asks for) of the call, as a list request."""
    params = dict(call.params)
    if call.page_path:
        step = (size or call.size or 1) if call.offset else 1
        params = _set(params, call.page_path, call.first + (number - 1) * step)
    context = {**(context or {}), "api": asdict(call), "api_page": number, "api_size": size}
    if call.method == "GET":
        parts = urlsplit(call.url)
        query = "&".join(q for q in (parts.query, urlencode({k: _text(v) for k, v in params.items()})) if q)
        return Follow(urlunsplit(parts._replace(query=query)), headers=HEADERS, context=context)
    if call.json_body:
        return Follow(call.url, "POST", json=params, headers=HEADERS, context=context)
    return Follow(call.url, "POST", formdata={k: _text(v) for k, v in params.items()}, headers=HEADERS, context=context)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _stated(value: Any, names: tuple[str, ...]) -> int | None:
    """The first integer under one of ``names`` in a JSON value, shallowest first."""
    level = [value]
    for _ in range(6):
        following = []
        for node in level:
            if isinstance(node, dict):
                for name in names:
                    for key, v in node.items():
                        if _norm(str(key)) == name and isinstance(v, (int, str)) and str(v).isdigit():
                            return int(v)
                following += [v for v in node.values() if isinstance(v, (dict, list))]
            elif isinstance(node, list):
                following += [v for v in node if isinstance(v, (dict, list))]
        level = following
    return None


def stated_total(body: Any) -> int | None:
    """The number of records a list API's answer says the list holds."""
    return _stated(body, TOTAL_KEYS)


def next_request(body: Any, items: int, context: dict) -> Follow | None:
    """The API's next page after one that answered ``body`` with ``items`` items, or None at the end."""
    call = ApiCall(**{**context["api"], "page_path": tuple(context["api"]["page_path"] or ()) or None})
    number = context["api_page"]
    size = context.get("api_size") or call.size or (items if number == 1 else None)
    if call.page_path is None or not items:
        return None
    pages, total = _stated(body, PAGES_KEYS), stated_total(body)
    if pages is not None:
        more = number < pages
    elif total is not None and size:
        more = number * size < total
    else:
        more = bool(size) and items >= size
    return request(call, number + 1, size, {k: v for k, v in context.items() if not k.startswith("api")}) if more else None
