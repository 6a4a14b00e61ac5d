"""The custom pages (registered by :mod:`archive.web`): the front page (``/``), a
report as printed (``/report/<id>``) and full-text search (``/search``). Each
reads the archive on Datasette's read connections and renders a template of the
plugin's ``templates/`` folder."""

from __future__ import annotations

from urllib.parse import urlencode

import sqlite_utils
from datasette.utils.asgi import Response

from ..regions import RegionError, resolve
from .views import default_year, front_data, report_data, search_view


async def run(datasette, fn, *args):
    """``fn(db, *args)`` on a read connection of the archive."""
    return await datasette.get_database("archive").execute_fn(lambda conn: fn(sqlite_utils.Database(conn), *args))


async def _region(datasette, text: str) -> tuple[str, str | None]:
    """(code prefix, error message) for what the user typed."""
    try:
        return await run(datasette, resolve, text), None
    except RegionError as e:
        return "", str(e)


def _year(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


def query_url(datasette, name: str, **params) -> str:
    return datasette.urls.database("archive") + f"/{name}?" + urlencode(params)


async def front(request, datasette):
    region_text = request.args.get("region", "").strip()
    prefix, error = await _region(datasette, region_text)
    year = _year(request.args.get("year")) or await run(datasette, default_year)
    data = await run(datasette, front_data, year, prefix)
    context = {**data, "region_text": region_text, "error": error}
    context["links"] = [
        (label, n, query_url(datasette, query, year=year, region=prefix, **extra)) for label, n, query, extra in data["counts"]
    ]
    context["more"] = query_url(datasette, "issues", year=year, region=prefix, kind="")
    context["completion"] = query_url(datasette, "completion", year=year, region=prefix)
    context["gone_list"] = query_url(datasette, "withdrawn", year=year, region=prefix)
    return Response.html(await datasette.render_template("nianbao_front.html", context, request=request))


async def report(request, datasette):
    data = await run(datasette, report_data, int(request.url_vars["id"]))
    if data is None:
        return Response.html(
            await datasette.render_template(
                "nianbao_message.html", {"title": "没有这份年报", "message": "归档中没有这个编号的年报。"}
            ),
            status=404,
        )
    return Response.html(await datasette.render_template("nianbao_report.html", data, request=request))


async def search_page(request, datasette):
    query = request.args.get("q", "").strip()
    region_text = request.args.get("region", "").strip()
    prefix, error = await _region(datasette, region_text)
    year = _year(request.args.get("year"))
    hits = await run(datasette, search_view, query, year, prefix) if query and not error else []
    context = {"q": query, "year": year or "", "region_text": region_text, "error": error, "hits": hits}
    return Response.html(await datasette.render_template("nianbao_search.html", context, request=request))
