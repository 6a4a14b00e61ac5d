"""Plays crawls into a real archive through the calls the Scrapy pipeline makes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from archive import ingest
from archive.blobs import BlobStore
from archive.schema import open_archive
from crawler.config import Agency
from crawler.mock.documents import to_html_body

AGENCIES = [
    Agency("hq", "红旗区人民政府", "government", "410702", None, ()),
    Agency("hq-cj", "红旗区城乡建设局", "department", "410702", "hq", ()),
]


def office_mail(port: int, monkeypatch, password: str = "s3cret"):
    """An email channel to the test SMTP server, logging in as the office (user and password
    from the environment, as in production)."""
    from archive.alerts import EmailChannel

    monkeypatch.setenv("SMTP_USER", "office")
    monkeypatch.setenv("SMTP_PASS", password)
    return EmailChannel("127.0.0.1", port, "nianbao@example.gov.cn", ("office@example.gov.cn",), "none", "SMTP_USER", "SMTP_PASS")


def html(text: str) -> bytes:
    return f"<html><head><meta charset='utf-8'><title>年报</title></head><body>{to_html_body(text)}</body></html>".encode()


@dataclass
class Feeder:
    """Plays a crawl into the archive through the same calls the Scrapy pipeline makes."""

    root: Path
    db: object = None
    blobs: BlobStore = None
    run_id: int | None = None
    clock: list = field(default_factory=lambda: [0])

    agencies: list = field(default_factory=lambda: AGENCIES)

    def __post_init__(self):
        self.db = open_archive(self.root / "archive.db")
        self.blobs = BlobStore(self.root / "blobs")
        ingest.sync_agencies(self.db, self.agencies)
        self.run_id = ingest.start_run(self.db, ["p"])

    def now(self) -> str:
        self.clock[0] += 1
        return f"2025-02-01T00:{self.clock[0] // 60:02d}:{self.clock[0] % 60:02d}+00:00"

    def capture(self, url: str, data: bytes, kind: str, role: str = "report", report_url=None, status: int = 200) -> str:
        sha = self.blobs.put(data, kind)
        ingest.record_capture(
            self.db,
            self.run_id,
            {
                "portal": "p",
                "role": role,
                "url": url,
                "status": status,
                "fetched_at": self.now(),
                "sha256": sha,
                "size": len(data),
                "kind": kind,
                "headers": {"Content-Type": "text/html"},
                "report_url": report_url,
            },
        )
        return sha

    def sight(self, url: str, year=2023, agency_id="hq-cj", agency_name="红旗区城乡建设局", attachments=()):
        return ingest.record_sighting(
            self.db,
            self.run_id,
            {
                "portal": "p",
                "url": url,
                "title": f"{agency_name}{year}年政府信息公开工作年度报告",
                "year": year,
                "agency_id": agency_id,
                "agency_name": agency_name,
                "published": f"{year + 1}-01-20",
                "attachments": [{"url": u, "name": u.rsplit("/", 1)[-1]} for u in attachments],
            },
            seen_at=self.now(),
        )

    def ingest(self) -> ingest.IngestResult:
        return ingest.ingest(self.db, self.blobs.root)

    def count(self, table: str, where: str = "1") -> int:
        return self.db.execute(f"select count(*) from {table} where {where}").fetchone()[0]


def count_in_archive(data: Path, sql: str) -> int:
    """A count from a crawl's archive while a crawl may be writing it (0 before it exists)."""
    path = data / "archive.db"
    if not path.exists():
        return 0
    db = open_archive(path, migrate=False)
    try:
        return db.execute(sql).fetchone()[0]
    except Exception:  # the schema is still being created
        return 0
    finally:
        db.close()


def assert_archived_once(db_path: Path, world, portals: list[str] | None = None) -> None:
    """After a crawl (however often killed and resumed) of ``portals`` (default: all): every
    report the mock world holds there is archived once, nothing half-written or left
    pending, no capture recorded twice, and SQLite's integrity checks pass."""
    db = open_archive(db_path)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert db.execute("pragma foreign_key_check").fetchall() == []
    crawled = [p for p in world.portals if portals is None or p.id in portals]
    expected = {(e["agency_id"], e["year"]) for p in crawled for e in p.expected_reports()}
    current = db.execute(
        "select agency_id, year, count(*) from reports where is_current = 1 and agency_id is not null group by 1, 2"
    ).fetchall()
    assert {(a, y) for a, y, _ in current} == expected  # every report…
    assert all(n == 1 for _, _, n in current)  # …once
    assert db.execute("select count(*) from reports where version > 1").fetchone()[0] == 0
    assert db.execute("select count(*) from sightings where ingested_at is null").fetchone()[0] == 0
    # no capture twice: the same response (run, URL, role, status, bytes) is one row
    twice = db.execute(
        "select count(*) from (select 1 from captures group by run_id, url, requested_url, role, status, sha256 having count(*) > 1)"
    ).fetchone()[0]
    assert twice == 0
    # nothing half-written: every stored report has its cells and text, or says why not
    assert (
        db.execute(
            "select count(*) from reports r where parse_status = 'ok' and not exists "
            "(select 1 from report_text t where t.report_id = r.id)"
        ).fetchone()[0]
        == 0
    )
    db.close()
