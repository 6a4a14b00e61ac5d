"""Requests stay on public addresses: internal ones are refused after DNS resolution
and on every redirect (mock portals on loopback are allowed explicitly, and only
their network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from archive.schema import open_archive
from crawler.addresses import networks, refusal
from crawler.mock.world import World, config_yaml

RUN = "import sys; from crawler.runner import crawl; crawl(sys.argv[1], sys.argv[2], log_level='ERROR')"


@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.5.4", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("202.108.22.5", None),
        ("2400:da00::6666", None),
    ],
)
def test_internal_addresses_are_refused(address, reason):
    assert refusal(address) == reason


def test_allowed_networks_are_exact():
    allowed = networks(["127.42.0.0/16"])
    assert refusal("127.42.3.9", allowed) is None
    assert refusal("127.0.0.1", allowed) == "loopback"
    assert refusal("10.0.0.1", allowed) == "private"


def _crawl(tmp_path: Path, config_text: str) -> tuple:
    config = tmp_path / "config.yaml"
    config.write_text(config_text, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(config), str(tmp_path / "data")], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    db = open_archive(tmp_path / "data" / "archive.db")
    return db, [dict(r) for r in db.query("select kind, url, detail, role from problems")]


def _requests_to(mock, path_part: str) -> int:
    return sum(path_part in r[2] for r in mock.stats())


def test_without_an_explicit_allowance_loopback_portals_are_refused(tmp_path, mock):
    one = World(mock.world.port, [mock.world.portal("trs-0")])
    text = config_yaml(one).replace('  allow_networks: ["127.42.0.0/16"]', "")
    before = len(mock.stats())
    db, problems = _crawl(tmp_path, text)
    assert {p["kind"] for p in problems} == {"forbidden_address"}
    assert "loopback address" in problems[0]["detail"]
    assert len(mock.stats()) == before + 1  # only this test's own stats call reached the server
    assert db.execute("select count(*) from captures").fetchone()[0] == 0


def test_a_name_resolving_to_an_internal_address_is_refused(tmp_path, mock):
    portal = mock.world.portal("trs-0")
    one = World(mock.world.port, [portal])
    # localhost → 127.0.0.1: outside the allowed 127.42.0.0/16
    text = config_yaml(one).replace(f"http://{portal.ip}:", "http://localhost:")
    db, problems = _crawl(tmp_path, text)
    assert [(p["kind"], p["role"]) for p in problems] == [("forbidden_address", "list")]
    assert "localhost resolves to 127.0.0.1" in problems[0]["detail"]


def test_a_redirect_to_an_internal_address_is_refused(tmp_path, mock):
    portal = mock.world.portal("trs-0")
    one = World(mock.world.port, [portal])
    target = f"http://localhost:{mock.world.port}{portal.start_paths[0]}"
    start = f"http://{portal.ip}:{mock.world.port}/__fault__/redirect?to={target}"
    text = config_yaml(one).replace(f'start_urls: ["{portal.start_urls[0]}"]', f'start_urls: ["{start}"], hosts: [localhost]')
    assert start in text
    db, problems = _crawl(tmp_path, text)
    assert [(p["kind"], p["url"]) for p in problems] == [("forbidden_address", start)]  # filed under the listed URL
    assert _requests_to(mock, "__fault__/redirect") >= 1  # the portal was asked…
    assert db.execute("select count(*) from captures where status = 200").fetchone()[0] == 0  # …nothing fetched


def test_an_unreachable_portal_is_not_a_missing_report(tmp_path, mock):
    one = World(mock.world.port, [mock.world.portal("trs-0")])
    db, _ = _crawl(tmp_path, config_yaml(one).replace('  allow_networks: ["127.42.0.0/16"]', ""))
    from datetime import date

    from archive.compliance import check_year
    from archive.deadlines import Deadlines

    kinds = {f.kind for f in check_year(db, 2024, Deadlines(), date(2025, 6, 1))}
    assert kinds == {"unreachable"}


def _zip(members: dict[str, bytes], level: int = 9) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


class _Spider:  # what _members needs of the spider: its blob store
    def __init__(self, root: Path):
        from archive.blobs import BlobStore

        self.store = BlobStore(root)


def test_zip_member_names_never_become_paths(tmp_path):
    from crawler.pipelines import _members

    pdf = b"%PDF-1.4\n" + b"x" * 100
    body = _zip({"../../escape.pdf": pdf, "/etc/cron.d/x.pdf": pdf + b"1", "a/../../b.docx": b"PK\x03\x04" + b"y" * 50})
    root = tmp_path / "store" / "blobs"
    out = _members(body, _Spider(root))
    assert [m["name"] for m in out] == ["../../escape.pdf", "/etc/cron.d/x.pdf", "a/../../b.docx"]  # kept as text
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all(str(p).startswith("store/blobs/") and ".." not in str(p) for p in written)
    assert {p.name.split(".")[0] for p in written} == {m["sha256"] for m in out}


def test_zip_bombs_are_not_unpacked(tmp_path):
    from crawler.pipelines import _members

    bomb = _zip({"report.pdf": b"%PDF-1.4\n" + b"\0" * (60 * 1024 * 1024), "ok.pdf": b"%PDF-1.4\nfine"})
    assert len(bomb) < 200 * 1024  # 60 MB packed into a few KB
    out = _members(bomb, _Spider(tmp_path / "blobs"))
    assert "error" in out[0] and "ZIP bomb" in out[0]["error"] and out[1]["size"] == 13
    assert sum(p.stat().st_size for p in (tmp_path / "blobs").rglob("*") if p.is_file()) < 1024
    assert "unreadable ZIP" in _members(b"PK\x03\x04 truncated", _Spider(tmp_path / "b2"))[0]["error"]


def test_a_zip_member_not_unpacked_is_recorded_as_a_problem(tmp_path):
    from archive import ingest

    db = open_archive(tmp_path / "archive.db")
    run = ingest.start_run(db, ["p"])
    ingest.record_capture(
        db,
        run,
        {
            "portal": "p",
            "role": "attachment",
            "url": "http://p/a.zip",
            "status": 200,
            "fetched_at": "2025-02-01T00:00:00+00:00",
            "sha256": "ab" * 32,
            "size": 10,
            "kind": "zip",
            "members": [{"name": "r.pdf", "error": "not unpacked: bomb"}],
        },
    )
    assert [dict(r) for r in db.query("select kind, url, detail from problems")] == [
        {"kind": "zip_member", "url": "http://p/a.zip", "detail": "r.pdf: not unpacked: bomb"}
    ]


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://www.qy.gov.cn/qy/gknb/x.shtml", True),
        ("https://xxgk.qy.gov.cn/x.html", True),  # another host of the portal's own domain
        ("https://www.yongzhou.gov.cn/x.html", False),  # another government site: not configured
        ("https://evil.example.com/x.html", False),
        ("https://qy.gov.cn.evil.example.com/x.html", False),
        ("http://127.42.0.1:8080/x.html", False),
    ],
)
def test_requests_stay_within_the_configured_domains(url, ok):
    from crawler.middlewares import in_scope

    assert in_scope(url, ("www.qy.gov.cn",)) is ok
    assert in_scope("http://127.42.0.1:8080/x", ("127.42.0.1",)) and not in_scope("http://127.42.0.2/x", ("127.42.0.1",))


def test_secrets_from_the_environment_never_reach_errors_or_logs(tmp_path, monkeypatch, caplog):
    import logging

    from archive.alerts import AlertConfig, EmailChannel, WebhookChannel, alert
    from archive.compliance import ComplianceFinding, record

    monkeypatch.setenv("HOOK_URL", "http://127.0.0.1:9/robot/send?access_token=TOKEN-8c1f")
    monkeypatch.setenv("HOOK_SECRET", "SIGN-77aa")
    monkeypatch.setenv("SMTP_USER", "office")
    monkeypatch.setenv("SMTP_PASS", "PASS-5e2b")
    db = open_archive(tmp_path / "archive.db")
    record(
        db,
        2024,
        [ComplianceFinding("missing", "g", "青山区人民政府", "431201", "government", 2024, "2025-03-31", "未找到年报")],
        "t0",
    )
    config = AlertConfig(
        [
            WebhookChannel("env:HOOK_URL", "dingtalk", "HOOK_SECRET", name="ding"),
            EmailChannel("127.0.0.1", 9, "n@example.gov.cn", ("o@example.gov.cn",), "none", "SMTP_USER", "SMTP_PASS"),
        ]
    )
    with caplog.at_level(logging.DEBUG):
        results = alert(db, config, "t1")
    assert all(r.errors and not r.ok for r in results.values())  # both unreachable (port 9)
    said = str(results) + caplog.text
    for secret in ("TOKEN-8c1f", "SIGN-77aa", "PASS-5e2b"):
        assert secret not in said
