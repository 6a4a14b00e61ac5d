"""A list that links a report's file itself (``….pdf``, ``downfile.jsp?id=…``) instead of a page:
end to end, ``nianbao run`` against a portal on loopback (real HTTP, a real archive). Before,
such rows were dropped as off the family's URL shape, and the body was told it had not
published; read as a page, the file was a soft 404. Now the file is the report: stored,
parsed as the document it is, its body not 缺报. A file whose listed title is cut short is
taken when its own first lines name a report; one that names none is not a report."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servers import free_port

from archive.schema import open_archive

FIXTURES = Path(__file__).parent / "fixtures"
PDF = (FIXTURES / "realdocs" / "02-hongze-gov-2024.pdf").read_bytes()
LIST = """<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body>
<ul class="list">
<li><a href="/zfxxgk/zfxxgknb/202501/P020250120.pdf">淮安市洪泽区人民政府2024年政府信息公开工作年度报告</a><span>2025-01-20</span></li>
<li><a href="/download.jsp?id=77">淮安市洪泽区人民政府2024年政府信息…</a><span>2025-01-21</span></li>
<li><a href="/zfxxgk/zfxxgknb/202501/P020250122.pdf">关于2024年度政务公开培训的通知</a><span>2025-01-22</span></li>
</ul>
<script>createPageHTML(1, 0, "index", "html");</script>
</body></html>"""


class _Portal(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("#")[0]
        if path in ("/zfxxgk/zfxxgknb/", "/zfxxgk/zfxxgknb/index.html"):
            self._send(200, "text/html; charset=utf-8", LIST.encode())
        elif path in ("/zfxxgk/zfxxgknb/202501/P020250120.pdf", "/download.jsp?id=77"):
            self._send(200, "application/octet-stream" if "jsp" in path else "application/pdf", PDF)
        elif path == "/robots.txt":
            self._send(200, "text/plain", b"User-agent: *\nAllow: /\n")
        else:
            self._send(404, "text/html; charset=utf-8", b"<html><body>404</body></html>")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    root = tmp_path_factory.mktemp("documents")
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = root / "config.yaml"
    config.write_text(
        f"""contact: "年报测试 nianbao test <nianbao@example.org>"
crawl:
  delay: 0.0
  timeout: 10
  retries: 0
  max_download_mb: 5
  allow_networks: ["127.0.0.1/32"]
portals:
  - {{id: hz, name: 洪泽区政府信息公开年报, family: trs, owner: hz, start_urls: ["http://127.0.0.1:{port}/zfxxgk/zfxxgknb/"]}}
agencies:
  - {{id: hz, name: 淮安市洪泽区人民政府, level: government, region: "320813"}}
""",
        encoding="utf-8",
    )
    data = root / "data"
    try:
        out = subprocess.run(
            [sys.executable, "-m", "scheduler", "run", "--config", str(config), "--data", str(data), "--today", "2025-05-01"],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.shutdown()
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return open_archive(data / "archive.db"), port


def test_a_report_linked_as_its_file_is_stored_and_parsed(crawled):
    db, port = crawled
    reports = list(db.query("select * from reports"))
    assert reports, "no report stored"
    urls = {r["url"] for r in db.query("select url from sightings")}
    assert f"http://127.0.0.1:{port}/zfxxgk/zfxxgknb/202501/P020250120.pdf" in urls
    assert f"http://127.0.0.1:{port}/download.jsp?id=77" in urls  # cut short: its own first lines named the report
    assert not any("P020250122" in u for u in urls)  # the notice is no report
    report = reports[0]
    assert report["year"] == 2024 and report["cells_read"]


def test_its_body_is_neither_missing_nor_unreachable(crawled):
    """Before, the list's dated rows read as nothing the family knows: its portal unreadable."""
    db, _ = crawled
    kinds = {r["kind"] for r in db.query("select kind from compliance where agency_key = 'hz' and year = 2024")}
    assert kinds.isdisjoint({"missing", "unreachable", "unmatched"}), kinds
