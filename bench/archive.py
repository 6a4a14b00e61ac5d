"""A synthetic national archive: ingest rate, database size, the national check, and the time
of every page and saved query.

    python bench/archive.py [--agencies 200000] [--years 7] [--sample 5000] [--dir DIR]

Agencies: ≈71 per county (government, departments, townships) in ≈2,800
counties. Reports: 95 % of agencies each year, 5 % published late, 3 % with
numbers that do not add up, full tables (37 printed rows per report). The
bulk of the archive is written with plain multi-row inserts (same schema);
then ``--sample`` more reports go through the real store path
(``archive.store.store_report``: dedup, version check, wide tables,
findings, text, one transaction each) into the full-size database, which
gives the ingest rate. ``nianbao check`` then judges the latest year for the
whole country (its findings and roll are what every view reads), and every
page (front page, report, search) and saved query runs through Datasette's
own client as ``nianbao serve`` makes it (HTML pages; saved queries as the
JSON API a user's browser calls). Target: each < 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.compliance import check_year, record
from archive.deadlines import Deadlines
from archive.regions import name_townships
from archive.report import Report
from archive.rules import check_report
from archive.schema import open_archive
from archive.sources import Parsed, Source
from archive.store import store_report
from archive.template import APPLICANT_COLUMNS as APPLICANTS
from archive.template import REQUESTS, TABLES
from archive.web import make_datasette
from archive.web.queries import QUERIES

PER_COUNTY = 71


def agencies(n: int) -> list[tuple]:
    rows = []
    county = 0
    while len(rows) < n:
        code = f"{110000 + county * 7:06d}"
        gov = f"c{county}"
        rows.append((gov, f"第{county}县人民政府", "government", code, None))
        for d in range(1, PER_COUNTY):
            level = "department" if d < 50 else "township"
            region = code if level == "department" else f"{code}{d:03d}000"
            rows.append((f"{gov}-{d}", f"第{county}县机关{d}", level, region, gov))
        county += 1
    return rows[:n]


def requests_cells(rng: random.Random, broken: bool) -> dict:
    cells = {}
    per = {c: rng.choice((0, 0, 0, 1, 2, 5, 12)) for c in APPLICANTS}
    for row in REQUESTS.rows:
        if "2021" not in row.templates or row.key == "other":
            continue
        for c in APPLICANTS:
            value = per[c] if row.key in ("new", "granted", "total_handled") else 0
            cells[f"requests.{row.key}.{c}"] = value
        cells[f"requests.{row.key}.total"] = sum(cells[f"requests.{row.key}.{c}"] for c in APPLICANTS)
    if broken:
        cells["requests.total_handled.total"] += 1
    return cells


def full_cells(rng: random.Random, broken: bool) -> dict:
    cells = requests_cells(rng, broken)
    for key in ("rules", "normative_docs"):
        for col in ("issued", "repealed", "in_force"):
            cells[f"disclosure.{key}.{col}"] = rng.randint(0, 9)
    for key in ("licensing", "penalty", "coercion"):
        cells[f"disclosure.{key}.decisions"] = rng.randint(0, 500)
    cells["disclosure.fees.amount"] = round(rng.random() * 100, 2)
    for row in ("review", "suit_direct", "suit_after_review"):
        vals = [rng.choice((0, 0, 1)) for _ in range(4)]
        for col, v in zip(("upheld", "corrected", "other", "pending"), vals):
            cells[f"appeals.{row}.{col}"] = v
        cells[f"appeals.{row}.total"] = sum(vals)
    return cells


PHRASES = ("本机关依申请公开政府信息", "行政复议", "行政诉讼", "城管执法", "主动公开规范性文件", "政务新媒体", "信息公开平台建设")


def report_text(rng: random.Random, name: str, year: int) -> str:
    """A short report text (≈300 characters) with some of the phrases people search for."""
    parts = [f"{name}{year}年政府信息公开工作年度报告。一、总体情况。"]
    parts += [f"{p}{rng.randint(0, 99)}件。" for p in PHRASES if rng.random() < 0.4]
    return "".join(parts) + "二、存在的主要问题及改进情况。" * 5


def bulk_fill(db, agency_rows: list[tuple], years: range, seed: int = 1) -> int:
    """Reports for every year, written with multi-row inserts in large transactions."""
    rng = random.Random(seed)
    conn = db.conn
    conn.executemany(
        "insert into agencies (id, name, level, region, parent_id) values (?, ?, ?, ?, ?)",
        sorted(agency_rows, key=lambda r: r[4] is not None),
    )
    conn.commit()
    name_townships(db)
    report_id = 0
    wide = {t.key: [] for t in TABLES}
    columns = {t.key: [c.key for c in t.columns] for t in TABLES}
    reports, findings = [], []

    def flush():
        conn.executemany(
            "insert into reports (id, agency_key, agency_id, agency_name, year, version, is_current, "
            "title, url, published, first_seen, last_seen, template, parse_status, content_hash, "
            "region, level, new_requests, carried_over, handled, carried_forward, reviews, suits, "
            "errors, warnings) values (" + ",".join("?" * 25) + ")",
            reports,
        )
        for key, rows in wide.items():
            cols = ["report_id", "row", "label", *columns[key]]
            conn.executemany(
                f"insert into [{key}] ({','.join(f'[{c}]' for c in cols)}) values ({','.join('?' * len(cols))})", rows
            )
            rows.clear()
        conn.executemany(
            "insert into findings (report_id, agency_key, year, rule, severity, cell, message) values (?, ?, ?, ?, ?, ?, ?)",
            findings,
        )
        conn.executemany("insert into report_text (report_id, title, text) values (?, ?, ?)", texts)
        conn.executemany(  # each report seen at its one URL (what the check reads for withdrawn / moved)
            "insert into report_urls (agency_key, year, url, listed_url, portal, report_id, first_seen, last_seen) "
            "values (?, ?, ?, ?, 'bench', ?, ?, ?)",
            [(r[1], r[4], r[8], r[8], r[0], r[10], r[11]) for r in reports],
        )
        conn.commit()
        reports.clear()
        findings.clear()
        texts.clear()

    labels = {t.key: {r.key: r.label for r in t.rows} for t in TABLES}
    texts = []
    for year in years:
        for agency_id, name, level, region, _ in agency_rows:
            if rng.random() >= 0.95:
                continue
            report_id += 1
            broken = rng.random() < 0.03
            cells = full_cells(rng, broken)
            deadline_month = 1 if level == "department" else 3
            late = rng.random() < 0.05
            day = rng.randint(1, 28)
            published = f"{year + 1}-{deadline_month + (1 if late else 0):02d}-{day:02d}"
            by_row: dict[tuple[str, str], dict] = {}
            for cell, value in cells.items():
                t, r, c = cell.split(".")
                by_row.setdefault((t, r), {})[c] = value
            for (t, r), values in by_row.items():
                wide[t].append((report_id, r, labels[t][r], *(values.get(c) for c in columns[t])))
            failures = [f for f in check_report(cells) if f.severity == "error"] if broken else []
            for f in failures:
                findings.append((report_id, agency_id, year, f.rule, f.severity, f.where, f.message))
            g = lambda row, cells=cells: cells[f"requests.{row}.total"]
            reports.append(
                (
                    report_id,
                    agency_id,
                    agency_id,
                    name,
                    year,
                    1,
                    1,
                    f"{name}{year}年政府信息公开工作年度报告",
                    f"http://gov.example/{agency_id}/{year}.html",
                    published,
                    published,
                    published,
                    "2021",
                    "ok",
                    f"cells:{report_id}",
                    region,
                    level,
                    g("new"),
                    g("carried_over"),
                    g("total_handled"),
                    g("carried_forward"),
                    cells["appeals.review.total"],
                    cells["appeals.suit_direct.total"] + cells["appeals.suit_after_review.total"],
                    len(failures),
                    0,
                )
            )
            if year == years[-1]:  # full text for the latest year (searched by the search page)
                texts.append((report_id, f"{name}{year}年政府信息公开工作年度报告", report_text(rng, name, year)))
            if len(reports) >= 20000:
                flush()
    flush()
    return report_id


def sample_ingest(db, agency_rows: list[tuple], year: int, n: int) -> float:
    """n reports through the real store path; returns reports/s."""
    rng = random.Random(2)
    chosen = rng.sample(agency_rows, n)
    db.execute("insert or ignore into documents (sha256, size, kind) values ('0' || hex(randomblob(31)), 1, 'html')")
    sha = db.execute("select sha256 from documents limit 1").fetchone()[0]
    run_id = db["crawl_runs"].insert({"started_at": "bench"}).last_pk
    sightings = []
    for i, (agency_id, name, *_rest) in enumerate(chosen):
        sid = (
            db["sightings"]
            .insert(
                {
                    "run_id": run_id,
                    "portal": "bench",
                    "url": f"http://gov.example/s/{i}.html",
                    "title": f"{name}{year}年政府信息公开工作年度报告",
                    "year": year,
                    "agency_id": agency_id,
                    "agency_name": name,
                    "published": f"{year + 1}-01-15",
                    "seen_at": f"{year + 1}-01-16T00:00:00+00:00",
                }
            )
            .last_pk
        )
        sightings.append(next(db.query("select * from sightings where id = ?", [sid])))
    parsed = []
    for s in sightings:
        cells = full_cells(rng, rng.random() < 0.03)
        report = Report(s["agency_name"], year, "2021", cells, check_report(cells), title=s["title"])
        source = Source("page", s["url"], sha, "html", None)
        parsed.append((s, source, Parsed(report, source, text=s["title"] + " 依申请公开情况 " * 50)))
    started = time.perf_counter()
    for s, source, p in parsed:
        store_report(db, s, [source], p)
    return n / (time.perf_counter() - started)


def national_check(db, year: int) -> tuple[float, int]:
    """``nianbao check`` for the whole country: seconds, findings."""
    started = time.perf_counter()
    findings = check_year(db, year, Deadlines(), date(year + 1, 6, 1))
    record(db, year, findings, f"{year + 1}-06-01T00:00:00+00:00")
    return time.perf_counter() - started, len(findings)


def pages(db, year: int, region: str) -> list[tuple[str, str]]:
    """(name, path) of every page and saved query for one year and region."""
    report = db.execute(
        "select id from reports where year = ? and is_current = 1 and region >= ? limit 1", [year, region]
    ).fetchone()[0]
    params = {
        "year": year,
        "region": region,
        "rule": "",
        "kind": "",
        "status": "",
        "agency": "第7县机关3",
        "factor": 3,
        "minimum": 10,
    }
    out = [
        ("front page", f"/?year={year}&region={region}"),
        ("report page", f"/report/{report}"),
        ("search 3 chars", f"/search?q=%E4%BE%9D%E7%94%B3%E8%AF%B7&year={year}&region={region}"),  # 依申请
        ("search 2 chars", f"/search?q=%E5%85%AC%E5%BC%80&year={year}&region={region}"),  # 公开
        ("search 1 char, absent", f"/search?q=%E9%91%AB&region={region}"),  # 鑫: every text read (worst case)
        ("reports table", f"/archive/reports?year={year}&region__startswith={region}"),
        ("requests table", "/archive/requests?_sort_desc=report_id"),  # 36 M rows at national scale: Datasette counts them
    ]
    for name, q in QUERIES.items():
        out.append((f"query {name}", f"/archive/{name}.json?_shape=array&" + "&".join(f"{p}={params[p]}" for p in q.params)))
    return out


def time_pages(path: Path, paths: list[tuple[str, str]]) -> list[tuple[str, float, int]]:
    """Median of 4 runs after a warm-up: (name, seconds, bytes or rows)."""
    ds = make_datasette(path, sql_time_limit_ms=20000)

    async def run():
        out = []
        for name, url in paths:
            times, size = [], 0
            for _ in range(5):
                started = time.perf_counter()
                response = await ds.client.get(url)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, (url, response.status_code, response.text[:300])
                size = len(response.json()) if url.startswith("/archive/") and ".json" in url else len(response.content)
            out.append((name, statistics.median(times[1:]), size))
        return out

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agencies", type=int, default=200_000)
    parser.add_argument("--years", type=int, default=7)
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--dir", default=os.environ.get("BENCH_DIR"))
    parser.add_argument(
        "--keep", type=Path, help="keep the archive in this directory (as archive.db); an existing one is reused (queries only)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = (args.keep or Path(tmp)) / "archive.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = agencies(args.agencies)
        if args.keep and path.exists():
            before = open_archive(path, migrate=False).execute("pragma user_version").fetchone()[0]
            started = time.perf_counter()
            db = open_archive(path)  # applies any newer migration (its indexes) to the kept archive
            db.execute("analyze")
            print(
                f"reusing {path}: {db.execute('select count(*) from reports').fetchone()[0]} reports; "
                f"schema v{before} → v{db.execute('pragma user_version').fetchone()[0]} "
                f"and analyze in {time.perf_counter() - started:.0f} s"
            )
        else:
            db = open_archive(path)
            years = range(2024 - args.years + 1, 2025)
            started = time.perf_counter()
            count = bulk_fill(db, rows, years)
            bulk_s = time.perf_counter() - started
            print(f"agencies {len(rows)}  years {years.start}–{years.stop - 1}  reports {count}")
            print(f"bulk fill                 {bulk_s:.0f} s ({count / bulk_s:.0f} reports/s, plain inserts)")
            db.execute("analyze")
            rate = sample_ingest(db, rows, 2025, args.sample)
            print(
                f"ingest (store_report)     {rate:.0f} reports/s into the full-size archive "
                f"({args.sample} reports, one transaction each)"
            )
        db.execute("pragma wal_checkpoint(truncate)")
        db.close()
        print(f"database size             {path.stat().st_size / 1e9:.2f} GB")
        db = open_archive(path)
        if not db.execute("select count(*) from roll where year = 2024").fetchone()[0]:
            seconds, n = national_check(db, 2024)
            print(f"national check (2024)     {seconds:.0f} s, {n} findings (compliance and roll written)")
        region = rows[len(rows) // 2][3][:4]
        for label, where in ((f"a city, region {region}", region), ("national, region ''", "")):
            print(f"pages and saved queries ({label}; Datasette client, median of 4 after a warm-up):")
            for name, seconds, n in time_pages(path, pages(db, 2024, where)):
                flag = "" if seconds < 0.2 else "  ← over 200 ms"
                print(f"  {name:<22} {seconds * 1000:7.1f} ms  {n:8d} {'rows' if name.startswith('query') else 'bytes'}{flag}")


if __name__ == "__main__":
    main()
