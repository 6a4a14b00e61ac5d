"""One answer to "who is missing", everywhere: a real crawl of the mock portals, a real
check, then four views of the result — the check's own answer, Datasette's saved queries
(through Datasette's client, as ``nianbao serve`` makes it), the export file and the
alerts digest as archive/alerts.py builds it — list exactly the same agencies per kind,
and those are the agencies the mock world says."""

from __future__ import annotations

import asyncio
import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_run import expected_findings

from archive.names import KIND_NAMES
from archive.schema import open_archive
from archive.web import make_datasette
from crawler.mock.world import config_yaml

KINDS = ("missing", "late", "unreachable", "inconsistent")
BY_NAME = {name: kind for kind, name in KIND_NAMES.items()}


def _nianbao(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "scheduler", *args], capture_output=True, text=True, timeout=600)
    assert out.returncode in (0, 1), out.stderr[-3000:]
    return out.stdout


@pytest.fixture(scope="module")
def world(mock, tmp_path_factory):
    root = tmp_path_factory.mktemp("one-answer")
    config = root / "config.yaml"
    config.write_text(config_yaml(mock.world), encoding="utf-8")
    common = ("--config", str(config), "--data", str(root / "data"), "--today", "2025-05-01")
    run = _nianbao("run", *common, "--dry-run")  # crawl → archive → check → the digest it would send
    check = _nianbao("check", *common, "--year", "2024")
    export = root / "export.csv"
    _nianbao("export", "--data", str(root / "data"), "--year", "2024", "--format", "csv", "--out", str(export))
    return {"run": run, "check": check, "export": export, "db": root / "data" / "archive.db", "mock": mock}


def _from_check(text: str) -> set[tuple[str, str]]:
    found, kind = set(), None
    for line in text.splitlines():
        if m := re.match(r"^  (\S+)（\d+）$", line):
            kind = BY_NAME[m.group(1)]
        elif line.startswith("    ") and kind:
            found.add((kind, line.split()[0]))
    return found


def _from_digest(text: str) -> set[tuple[str, str]]:
    digest = text[text.index("—— 将发送到") :]
    return {(BY_NAME[m.group(1)], m.group(2)) for m in re.finditer(r"^- .+? · (\S+) · (.+?)（2024）：", digest, re.M)}


def _from_datasette(db: Path) -> set[tuple[str, str]]:
    """The saved queries as a user opens them: no parameters but the year (the rest default)."""
    return {(kind, row["机关"]) for kind in KINDS for row in _query_rows(db, f"/archive/{kind}.json?_shape=array&year=2024")}


def _from_export(path: Path) -> set[tuple[str, str]]:
    with open(path, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    found = set()
    for row in rows:
        for kind in ("missing", "unreachable"):
            if row["状态"] == KIND_NAMES[kind]:
                found.add((kind, row["机关"]))
        for kind in ("late", "inconsistent"):
            if row[KIND_NAMES[kind]]:
                found.add((kind, row["机关"]))
    return found


def test_four_views_list_the_same_agencies_per_kind(world):
    db = open_archive(world["db"])
    names = dict(db.execute("select id, name from agencies"))
    truth = {(kind, names[key]) for kind, key in expected_findings(world["mock"].world, 2024) if kind in KINDS}
    assert {k for k, _ in truth} == set(KINDS)
    views = {
        "check": {f for f in _from_check(world["check"]) if f[0] in KINDS},
        "datasette": _from_datasette(world["db"]),
        "export": _from_export(world["export"]),
        "alerts": {f for f in _from_digest(world["run"]) if f[0] in KINDS},
    }
    for view, found in views.items():
        assert found == truth, (view, sorted(found ^ truth))


def test_region_names_in_every_view(world):
    """The mock counties carry real codes: 新乡市's counties, named in every view."""
    assert "410702 河南省新乡市红旗区" in world["check"]
    assert "- 410704 河南省新乡市凤泉区 · 门户无法访问 · " in world["run"]  # the digest names each finding's region
    with open(world["export"], encoding="utf-8-sig") as f:
        places = {row["地区"] for row in csv.DictReader(f)}
    assert places >= {"河南省新乡市红旗区", "河南省新乡市凤泉区"}
    rows = _query_rows(world["db"], "/archive/unreachable.json?_shape=array&year=2024&region=凤泉区")
    assert rows and {r["地区"] for r in rows} == {"河南省新乡市凤泉区"}


def _query_rows(db: Path, path: str) -> list[dict]:
    async def run():
        client = make_datasette(db).client
        response = await client.get(path)
        if response.status_code == 302:  # defaults filled in, a region name resolved to its code prefix
            response = await client.get(response.headers["location"])
        assert response.status_code == 200, response.text
        return response.json()

    return asyncio.run(run())
