"""The archive: captures kept as evidence, dedup, versions with cell diffs,
idempotent ingest, migrations, parse failures that keep their capture, re-parse,
full-text search. A real SQLite file and a real blob store; captures are the
seed reports rendered the way portals serve them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from archive_helpers import AGENCIES, Feeder, html

from archive import ingest, schema
from archive.blobs import BlobStore
from archive.parse import parse_file
from archive.schema import VERSION, SchemaError, open_archive
from archive.search import search
from crawler.mock.documents import to_docx, to_pdf

FIXTURES = Path(__file__).parent / "fixtures"
SEED_001_PATH = FIXTURES / "seeds" / "001_924043a2ff6d2acf.txt"
SEED_001 = SEED_001_PATH.read_text("utf-8")  # 红旗区城乡建设局 2023
SEED_003 = (FIXTURES / "seeds" / "003_172fae212f76daa1.txt").read_text("utf-8")


@pytest.fixture
def feeder(tmp_path) -> Feeder:
    return Feeder(tmp_path)


def test_report_is_stored_with_its_tables_findings_and_text(feeder):
    feeder.capture("http://a/1.html", html(SEED_001), "html")
    feeder.sight("http://a/1.html")
    assert feeder.ingest().reports == 1
    report = next(feeder.db.query("select * from reports"))
    gold = json.loads((FIXTURES / "seeds" / "001_924043a2ff6d2acf.gold.json").read_text("utf-8"))
    cells = {
        f"{t}.{r}.{c}": v
        for t, r, c, v in feeder.db.execute(
            'select table_name, row, "column", value from cells where report_id = ?', [report["id"]]
        )
    }
    assert cells == gold["cells"]  # wide tables + blanks round-trip the contract exactly
    assert (report["agency_id"], report["year"], report["template"], report["parse_status"]) == ("hq-cj", 2023, "2021", "ok")
    assert report["region"] == "410702" and report["level"] == "department"
    assert report["new_requests"] == gold["cells"]["requests.new.total"]
    assert feeder.count("findings", f"report_id = {report['id']}") == len(parse_file(SEED_001_PATH).findings)
    assert "政府信息" in next(feeder.db.query("select text from report_text"))["text"]


def test_same_bytes_at_two_urls_are_one_document_and_one_report(feeder):
    data = html(SEED_001)
    feeder.capture("http://a/1.html", data, "html")
    feeder.capture("http://a/1_wap.html", data, "html")
    feeder.sight("http://a/1.html")
    feeder.sight("http://a/1_wap.html")
    feeder.ingest()
    assert feeder.count("documents") == 1 and feeder.count("captures") == 2
    assert feeder.count("reports") == 1
    assert feeder.count("report_sources") == 2
    assert len(list(feeder.blobs.root.glob("*/*"))) == 1


def test_page_and_attachment_are_one_report_with_both_sources(feeder):
    page = html("红旗区城乡建设局2023年政府信息公开工作年度报告\n详见附件。")
    feeder.capture("http://a/2.html", page, "html")
    feeder.capture("http://a/2.docx", to_docx(SEED_001), "docx", role="attachment", report_url="http://a/2.html")
    feeder.sight("http://a/2.html", attachments=["http://a/2.docx"])
    feeder.ingest()
    assert feeder.count("reports") == 1
    sources = {(r["role"], r["used"]) for r in feeder.db.query("select role, used from report_sources")}
    assert sources == {("page", 0), ("attachment", 1)}  # numbers from the attachment, page kept
    # the same report seen later inline on another portal adds a source, not a report
    feeder.capture("http://b/2.html", html(SEED_001), "html")
    feeder.sight("http://b/2.html")
    feeder.ingest()
    assert feeder.count("reports") == 1 and feeder.count("report_sources") == 3


def test_republished_report_is_a_new_version_with_changed_cells(feeder):
    feeder.capture("http://a/3.html", html(SEED_001), "html")
    feeder.sight("http://a/3.html")
    feeder.ingest()
    v1_cells = dict(feeder.db.execute("select table_name || '.' || row || '.' || \"column\", value from cells"))
    corrected_text = _bump_first_new_requests(SEED_001)
    feeder.capture("http://a/3-corrected.html", html(corrected_text), "html")
    feeder.sight("http://a/3-corrected.html")
    result = feeder.ingest()
    assert result.new_versions == 1
    versions = list(feeder.db.query("select * from reports order by version"))
    assert [(v["version"], v["is_current"]) for v in versions] == [(1, 0), (2, 1)]
    assert versions[1]["supersedes_id"] == versions[0]["id"]
    changes = json.loads(versions[1]["changed_cells"])
    assert len(changes) == 1  # one number corrected, one cell listed
    key = changes[0]["cell"]
    assert key.startswith("requests.new.") and changes[0] == {"cell": key, "old": v1_cells[key], "new": v1_cells[key] + 1}
    assert feeder.count("cells", f"report_id = {versions[0]['id']}") == len(v1_cells)  # history kept
    assert ingest.reparse(feeder.db, feeder.blobs.root).reports == 2  # diff rebuilt alike
    assert json.loads(next(feeder.db.query("select changed_cells from reports where version = 2"))["changed_cells"]) == changes


def _bump_first_new_requests(text: str) -> str:
    """The seed with 本年新收 from natural persons one higher (the row's first number)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "本年新收" in line:
            for j in range(i, min(i + 3, len(lines))):
                parts = lines[j].split("\t")
                for k, part in enumerate(parts):
                    if part.strip().isdigit():
                        parts[k] = str(int(part) + 1)
                        lines[j] = "\t".join(parts)
                        return "\n".join(lines)
    raise AssertionError("seed layout changed")


def test_ingesting_the_same_crawl_twice_changes_nothing(feeder):
    def crawl():
        feeder.capture("http://a/1.html", html(SEED_001), "html")
        feeder.capture("http://a/4.html", html("红旗区人民政府2023年政府信息公开工作年度报告"), "html")
        feeder.capture("http://a/4.pdf", to_pdf(SEED_003), "pdf", role="attachment")
        feeder.sight("http://a/1.html")
        feeder.sight("http://a/4.html", agency_id="hq", agency_name="红旗区人民政府", attachments=["http://a/4.pdf"])
        feeder.ingest()

    crawl()
    tables = ("reports", "documents", "report_sources", "findings", "requests", "disclosure", "appeals", "cells")
    before = {t: feeder.count(t) for t in tables}
    snapshot = list(feeder.db.query("select id, version, is_current, content_hash, first_seen from reports"))
    crawl()
    assert {t: feeder.count(t) for t in tables} == before
    assert list(feeder.db.query("select id, version, is_current, content_hash, first_seen from reports")) == snapshot
    assert ingest.ingest(feeder.db, feeder.blobs.root).reports == 0  # nothing pending


def test_parse_failure_keeps_the_capture_and_says_why(feeder):
    broken = (FIXTURES / "truncated.pdf").read_bytes()
    feeder.capture("http://a/5.html", html("红旗区人民政府2023年政府信息公开工作年度报告 见附件"), "html")
    sha = feeder.capture("http://a/5.pdf", broken, "pdf", role="attachment")
    feeder.sight("http://a/5.html", agency_id="hq", agency_name="红旗区人民政府", attachments=["http://a/5.pdf"])
    feeder.ingest()
    report = next(feeder.db.query("select * from reports"))
    assert report["parse_status"] == "no_tables"
    assert "http://a/5.pdf" in report["parse_error"] and "PDF" in report["parse_error"]
    assert feeder.blobs.get(sha) == broken  # the evidence is kept byte for byte
    assert feeder.count("captures", "url = 'http://a/5.pdf'") == 1
    # only a broken attachment and no page at all: the report is still recorded, as failed
    feeder.capture("http://a/6.pdf", broken + b"x", "pdf", role="attachment")
    feeder.sight("http://a/6.html", year=2022, attachments=["http://a/6.pdf"])
    feeder.ingest()
    failed = next(feeder.db.query("select * from reports where year = 2022"))
    assert failed["parse_status"] == "failed" and failed["parse_error"]


def test_kill_before_ingest_leaves_sightings_pending_not_half_written(feeder):
    feeder.capture("http://a/1.html", html(SEED_001), "html")
    feeder.sight("http://a/1.html")
    # a crawl killed here has its capture and sighting but no report
    assert feeder.count("reports") == 0 and feeder.count("sightings", "ingested_at is null") == 1
    reopened = open_archive(feeder.root / "archive.db")
    assert ingest.ingest(reopened, feeder.blobs.root).reports == 1
    assert reopened.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_reparse_rewrites_cells_in_place(feeder):
    feeder.capture("http://a/1.html", html(SEED_001), "html")
    feeder.sight("http://a/1.html")
    feeder.ingest()
    report_id, good = next(feeder.db.execute("select id, content_hash from reports"))
    n = feeder.count("cells")
    feeder.db.execute("delete from requests")  # what an older parser might have missed
    feeder.db.execute("update reports set content_hash = 'old'")
    assert ingest.reparse(feeder.db, feeder.blobs.root).reports == 1
    assert feeder.count("cells") == n
    assert next(feeder.db.execute("select id, content_hash from reports")) == (report_id, good)


@pytest.mark.parametrize("start", range(1, VERSION))
def test_migration_from_earlier_schemas_keeps_data(tmp_path, start):
    path = tmp_path / "old.db"
    old = open_archive(path, upto=start)
    assert old.execute("pragma user_version").fetchone()[0] == start
    ingest.sync_agencies(old, AGENCIES)
    old["reports"].insert(
        {
            "agency_key": "hq-cj",
            "agency_id": "hq-cj",
            "agency_name": "红旗区城乡建设局",
            "year": 2023,
            "version": 1,
            "is_current": 1,
            "content_hash": "x",
        }
    )
    old["report_text"].insert({"report_id": 1, "title": "红旗区城乡建设局2023年年报", "text": "依申请公开情况"})
    old.close()
    db = open_archive(path)
    assert db.execute("pragma user_version").fetchone()[0] == VERSION
    row = next(db.query("select * from reports"))
    assert row["agency_name"] == "红旗区城乡建设局"
    if start < 2:  # v2 filled region/level from agencies
        assert (row["region"], row["level"]) == ("410702", "department")
    assert [r["report_id"] for r in search(db, "依申请")] == [1]  # text written before v2 is searchable


def test_newer_schema_is_refused(tmp_path):
    db = open_archive(tmp_path / "a.db")
    db.execute(f"pragma user_version = {VERSION + 1}")
    db.close()
    with pytest.raises(SchemaError, match="newer"):
        open_archive(tmp_path / "a.db")


def test_full_text_search_in_chinese_long_and_short_queries(feeder):
    feeder.capture("http://a/1.html", html(SEED_001), "html")
    feeder.sight("http://a/1.html")
    feeder.ingest()
    assert [r["agency_name"] for r in search(feeder.db, "城乡建设局")] == ["红旗区城乡建设局"]  # trigram FTS
    assert len(search(feeder.db, "复议")) == 1  # 2 chars: fallback
    assert len(search(feeder.db, "申")) == 1  # 1 char
    assert search(feeder.db, "量子计算机") == []
    assert search(feeder.db, '"; drop table reports; --') == []  # quoted, not SQL


def test_blob_store_compresses_text_and_verifies_by_raw_hash(tmp_path):
    blobs = BlobStore(tmp_path)
    page = html(SEED_001)
    sha = blobs.put(page, "html")
    assert sha == hashlib.sha256(page).hexdigest()
    assert blobs.path(sha).suffix == ".gz" and blobs.path(sha).stat().st_size < len(page) / 3
    assert blobs.get(sha) == page
    pdf = to_pdf(SEED_003)
    assert blobs.path(blobs.put(pdf, "pdf")).suffix == ""


def test_parsing_in_worker_processes_stores_the_same(tmp_path):
    def fill(root: Path, workers: int):
        feeder = Feeder(root)
        for i in range(6):
            feeder.capture(f"http://a/{i}.html", html(SEED_001 if i % 2 else SEED_003), "html")
            feeder.sight(f"http://a/{i}.html", year=2018 + i)
        ingest.ingest(feeder.db, feeder.blobs.root, workers=workers)
        return list(feeder.db.query("select agency_key, year, content_hash, parse_status from reports order by year"))

    inline, pooled = fill(tmp_path / "inline", 1), fill(tmp_path / "pool", 2)
    assert inline == pooled and len(inline) == 6 and {r["parse_status"] for r in inline} == {"ok"}


def _yoy(db, year: int) -> tuple:
    return db.execute("select prev_new_requests, jump from reports where year = ? and is_current = 1", [year]).fetchone()


def test_year_on_year_figures_follow_versions_and_reparses(tmp_path):
    db = open_archive(tmp_path / "a.db")
    ingest.sync_agencies(db, AGENCIES)
    row = {"agency_key": "hq-cj", "agency_id": "hq-cj", "is_current": 1, "version": 1}
    db["reports"].insert({**row, "year": 2024, "new_requests": 10, "content_hash": "b"})
    assert _yoy(db, 2024) == (None, None)  # no 2023 report yet
    first = db["reports"].insert({**row, "year": 2023, "new_requests": 2, "content_hash": "a1"}).last_pk
    assert _yoy(db, 2024) == (2, 5.0)  # the earlier year arrived later
    db["reports"].insert({**row, "year": 2023, "version": 2, "new_requests": 8, "content_hash": "a2"})
    db["reports"].update(first, {"is_current": 0})  # a corrected 2023 report
    assert _yoy(db, 2024) == (8, 1.25)
    db.execute("update reports set new_requests = 40 where year = 2024")  # reparsed with other numbers
    assert _yoy(db, 2024) == (8, 5.0)


def test_migration_to_v7_fills_last_years_figures(tmp_path):
    old = open_archive(tmp_path / "a.db", upto=6)
    ingest.sync_agencies(old, AGENCIES)
    for year, n in ((2022, 3), (2023, 9)):
        old["reports"].insert(
            {
                "agency_key": "hq-cj",
                "agency_id": "hq-cj",
                "year": year,
                "version": 1,
                "is_current": 1,
                "new_requests": n,
                "content_hash": str(year),
            }
        )
    old.close()
    assert _yoy(open_archive(tmp_path / "a.db"), 2023) == (3, 3.0)


def test_migration_lists_every_url_a_report_was_seen_at_and_keeps_the_first(tmp_path):
    """An archive made before report URLs were kept: each report's URLs from its sightings,
    and the first URL canonical again on every version (#19)."""
    old = open_archive(tmp_path / "a.db", upto=schema.MIGRATIONS.index(schema._v16))
    ingest.sync_agencies(old, AGENCIES)
    row = {"agency_key": "hq-cj", "agency_id": "hq-cj", "year": 2023, "content_hash": "a"}
    first = old["reports"].insert({**row, "version": 1, "is_current": 0, "url": "http://a/1.html"}).last_pk
    second = (
        old["reports"].insert({**row, "version": 2, "is_current": 1, "url": "http://a/fix.html", "content_hash": "b"}).last_pk
    )
    for url, report_id, seen in (
        ("http://a/1.html", first, "2024-01-20T00:00:00+00:00"),
        ("http://a/1.html", first, "2024-02-20T00:00:00+00:00"),
        ("http://a/fix.html", second, "2024-05-01T00:00:00+00:00"),
    ):
        old["sightings"].insert({"portal": "p", "url": url, "year": 2023, "report_id": report_id, "seen_at": seen})
    old.close()
    db = open_archive(tmp_path / "a.db")
    assert [u for (u,) in db.execute("select url from reports order by version")] == ["http://a/1.html"] * 2
    urls = [tuple(r) for r in db.execute("select url, report_id, first_seen, last_seen from report_urls order by first_seen")]
    assert urls == [
        ("http://a/1.html", first, "2024-01-20T00:00:00+00:00", "2024-02-20T00:00:00+00:00"),
        ("http://a/fix.html", second, "2024-05-01T00:00:00+00:00", "2024-05-01T00:00:00+00:00"),
    ]


def test_how_much_was_read_is_stored_and_filters_reports_read_fully(feeder):
    """Coverage in the archive: a report read fully says so; one with a row whose values
    could not be placed is kept partial, with its undecided cells counted; ``read_fully``
    filters them; a report stored before the figures existed gets them from ``reparse``."""
    shattered = SEED_001.replace("规章\t0\t0\t0", "规章 5 7")  # two values of three, blank cells not kept
    assert shattered != SEED_001
    feeder.capture("http://a/1.html", html(SEED_001), "html")
    feeder.sight("http://a/1.html")
    feeder.capture("http://a/3.txt", SEED_003.encode(), "text")
    feeder.sight("http://a/3.txt")
    feeder.ingest()

    def seen_at(url: str) -> dict:  # the version last seen at url (every version's url is the first one: #19)
        sql = "select r.* from reports r join report_urls u on u.report_id = r.id where u.url = ?"
        return next(feeder.db.query(sql, [url]))

    parsed = parse_file(SEED_001_PATH).coverage
    full = seen_at("http://a/1.html")
    assert (full["cells_expected"], full["cells_read"], full["cells_undecided"], full["read_fully"]) == (
        parsed["template_cells"],
        parsed["cells_read"],
        0,
        1,
    )
    feeder.capture("http://a/1b.txt", shattered.encode(), "text")
    feeder.sight("http://a/1b.txt")
    feeder.ingest()
    partial = seen_at("http://a/1b.txt")
    assert partial["read_fully"] == 0 and partial["cells_undecided"] == 3
    assert partial["cells_read"] == partial["cells_expected"] - 3
    fully = {
        u
        for (u,) in feeder.db.execute("select u.url from report_urls u join reports r on r.id = u.report_id and r.read_fully = 1")
    }
    assert "http://a/1b.txt" not in fully and "http://a/3.txt" in fully
    feeder.db.execute("update reports set cells_expected = null, cells_read = null, read_fully = null")
    ingest.reparse(feeder.db, feeder.blobs.root)
    assert feeder.count("reports", "read_fully is null") == 0
