"""The archive in Datasette: nianbao's Datasette plugin and its configuration.

The way datasette-dashboards builds on Datasette: pages registered as routes and
rendered from this package's ``templates/`` (the front page, a report as
printed, full-text search, archived copies), menu links to them, Chinese cells
(region names beside codes, enum values in Chinese, links to reports and
archived copies), and the saved queries' Chinese parameters with their
defaults. ``datasette.yaml`` beside this file is the static configuration
(settings, titles); :func:`make_datasette` adds the generated table
descriptions and saved queries, and is what ``nianbao serve``, the tests and the
benchmark all run.

SQL typed into Datasette, and the saved queries, cannot call functions that
reveal process memory (``fts3_tokenizer``) or load code: an authorizer on every
connection denies them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import yaml
from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from ..names import (
    CONFIDENCE_NAMES,
    KIND_NAMES,
    LEVEL_NAMES,
    PARSE_STATUS_NAMES,
    PROBLEM_NAMES,
    RULE_NAMES,
    SEVERITY_NAMES,
)
from ..regions import RegionError, RegionNames, resolve
from ..report_urls import CAPTURE_PATH
from ..template import TABLES
from .capture import SHA, capture
from .metadata import metadata
from .pages import front, report, run, search_page
from .queries import PARAM_LABELS, QUERIES, REQUIRED, STATIC_DEFAULTS
from .views import default_year

CONFIG = Path(__file__).with_name("datasette.yaml")
FORBIDDEN_FUNCTIONS = frozenset({"fts3_tokenizer", "load_extension"})  # a pointer into memory; loading code
HASH_COLUMNS = {"sha256", "source_sha256", "zip_sha256"}
URL_COLUMNS = {"url", "原文", "requested_url", "report_url", "问题网址", "evidence", "证据", "listed_url", "dead_url"}
REPORT_COLUMNS = {"报告", "本年报告", "上年报告"}
UNCOUNTED = {*(t.key for t in TABLES), "cells", "captures", "sightings", "report_sources", "report_text", "findings"}
REGION_COLUMNS = {"region"}  # in tables; the saved queries have a 地区 column of their own
ENUMS = {
    "level": LEVEL_NAMES,
    "kind": {**PROBLEM_NAMES, **KIND_NAMES},
    "rule": RULE_NAMES,
    "severity": SEVERITY_NAMES,
    "parse_status": PARSE_STATUS_NAMES,
    "confidence": CONFIDENCE_NAMES,
}


def _merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        base[key] = _merge(base.get(key, {}), value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return base


def make_datasette(db_path: str | Path, **settings):
    """Datasette over an archive as ``nianbao serve`` runs it (``settings`` override the file's)."""
    from datasette.app import Datasette  # not at import: Datasette imports this plugin while it starts

    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    configured = {**config.pop("settings", {}), **settings}
    queries = {"databases": {"archive": {"queries": {name: q.metadata() for name, q in QUERIES.items()}}}}
    return Datasette([str(db_path)], metadata=_merge(_merge(config, metadata()), queries), settings=configured)


# ---- SQL ------------------------------------------------------------------------


def _authorize(action: int, arg1, arg2, database, source) -> int:
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in FORBIDDEN_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


@hookimpl
def prepare_connection(conn):
    conn.set_authorizer(_authorize)


# ---- pages ----------------------------------------------------------------------


@hookimpl
def register_routes():
    return [
        (r"^/$", front),
        (r"^/-/nianbao$", front),  # the address alerts link to (archive.alerts.FRONT_PAGE)
        (r"^/report/(?P<id>[0-9]{1,12})$", report),
        (r"^/search$", search_page),
        (r"^/-/capture/(?P<sha256>[0-9a-f]{64})$", capture),
    ]


@hookimpl
def menu_links(datasette):
    return [
        {"href": datasette.urls.path("/"), "label": "年报总览"},
        {"href": datasette.urls.path("/search"), "label": "全文检索"},
        {"href": datasette.urls.database("archive"), "label": "数据表和查询"},
    ]


@hookimpl
def prepare_jinja2_environment(env):
    env.globals["param_labels"] = PARAM_LABELS
    env.globals["required_params"] = REQUIRED


# ---- saved queries: defaults and region names -----------------------------------


async def _query_redirect(datasette, scope) -> Response | None:
    """A saved query asked for without some parameter, or with a region name: the same
    URL with the defaults filled in and the region as its code prefix."""
    database = datasette.urls.database("archive")
    path = scope.get("path", "")
    if not path.startswith(database + "/"):
        return None
    name, _, suffix = path[len(database) + 1 :].partition(".")
    query = QUERIES.get(name)
    if query is None or suffix not in ("", "json", "csv"):
        return None
    given = dict(parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True))
    wanted = dict(given)
    for param in query.params:
        if param == "year" and not given.get("year", "").strip().isdigit():
            wanted["year"] = str(await run(datasette, default_year))
        elif param not in given:
            wanted[param] = STATIC_DEFAULTS.get(param, "")
    region = wanted.get("region", "").strip()
    if "region" in query.params and region and not region.isdigit():
        try:
            wanted["region"] = await run(datasette, resolve, region)
        except RegionError as e:
            if suffix:
                return Response.json({"ok": False, "error": str(e)}, status=400)
            return Response.html(
                await datasette.render_template("nianbao_message.html", {"title": "地区有误", "message": str(e)}), status=400
            )
    if wanted == given:
        return None
    return Response.redirect(path + "?" + urlencode(wanted))


def _uncounted(datasette, scope) -> dict:
    """The request for a table that grows with every report (36 M rows of 表三 at national
    scale: a count takes a second) asks Datasette not to count its rows."""
    database = datasette.urls.database("archive")
    path = scope.get("path", "")
    query = scope.get("query_string", b"")
    if path.startswith(database + "/") and path[len(database) + 1 :].split(".")[0] in UNCOUNTED and b"_nocount" not in query:
        return {**scope, "query_string": query + (b"&" if query else b"") + b"_nocount=1"}
    return scope


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
                await datasette.invoke_startup()  # idempotent; Datasette's router would run it after this
                response = await _query_redirect(datasette, scope)
                if response is not None:
                    await response.asgi_send(send)
                    return
                scope = _uncounted(datasette, scope)
            await app(scope, receive, send)

        return wrapped

    return wrap


# ---- cells ----------------------------------------------------------------------


async def _region_cell(datasette, value: str) -> Markup:
    names = await run(datasette, RegionNames, [value])
    name = names.name(value)
    if not name:
        return Markup(escape(value))
    return Markup(f'{escape(value)} <span class="nianbao-region">{escape(name)}</span>')


@hookimpl
def render_cell(value, column, table, database, datasette):
    if value is None or database != "archive":
        return None
    if column in HASH_COLUMNS and isinstance(value, str) and SHA.match(value):
        return Markup(
            f'<a href="{datasette.urls.path("/-/capture/" + value)}" title="{value}">存档副本 {escape(value[:12])}…</a>'
        )
    if column in URL_COLUMNS and isinstance(value, str) and value.startswith(("http://", "https://")):
        return Markup(f'<a href="{escape(value)}" rel="noopener noreferrer nofollow">{escape(value)}</a>')
    archived = value[len(CAPTURE_PATH) :] if isinstance(value, str) and value.startswith(CAPTURE_PATH) else ""
    if column in URL_COLUMNS and SHA.match(archived):
        return Markup(f'<a href="{datasette.urls.path(value)}">存档副本 {escape(archived[:12])}…</a>')
    if isinstance(value, int) and (column in REPORT_COLUMNS or (table == "reports" and column == "id")):
        return Markup(f'<a href="{datasette.urls.path(f"/report/{value}")}">年报 {value}</a>')
    if table and table != "regions" and column in REGION_COLUMNS and isinstance(value, str) and value.isdigit():
        return _region_cell(datasette, value)
    names = ENUMS.get(column) if table else None
    if names and isinstance(value, str) and value in names:
        return Markup(f'<span title="{escape(value)}">{escape(names[value])}</span>')
    return None
