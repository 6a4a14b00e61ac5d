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
