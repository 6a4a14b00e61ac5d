"""Alerts received by real servers on 127.0.0.1: an SMTP server (aiosmtpd; plain
with AUTH, and STARTTLS with a self-signed certificate) and an HTTP server for
webhooks. Each finding is told once; again when it changes or is resolved."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import urllib.parse
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from archive_helpers import Feeder
from servers import Inbox, free_port

from archive import ingest
from archive.alerts import AlertConfig, EmailChannel, LogChannel, WebhookChannel, alert, webhook_request
from archive.compliance import check_year, record
from archive.deadlines import Deadlines
from crawler.config import Agency

AGENCIES = [
    Agency("g", "青山区人民政府", "government", "431201", None, ()),
    Agency("d", "青山区教育局", "department", "431201", "g", ()),
]


@pytest.fixture
def feeder(tmp_path):
    feeder = Feeder(tmp_path, agencies=AGENCIES)
    ingest.sync_portals(feeder.db, {"p": ["g", "d"]})
    feeder.capture("http://p/list.html", b"<html>list</html>", "html", role="list")
    return feeder


def _check(feeder, today=date(2025, 6, 1)):
    record(feeder.db, 2024, check_year(feeder.db, 2024, Deadlines(), today), today.isoformat())


def test_email_digest_once_then_resolution(feeder, smtp, monkeypatch):
    controller, inbox = smtp
    monkeypatch.setenv("SMTP_USER", "office")
    monkeypatch.setenv("SMTP_PASS", "s3cret")
    channel = EmailChannel(
        "127.0.0.1", controller.port, "nianbao@example.gov.cn", ("office@example.gov.cn",), "none", "SMTP_USER", "SMTP_PASS"
    )
    config = AlertConfig([channel])
    _check(feeder)
    assert alert(feeder.db, config, "t1") == {"email": {"sent": 2}}
    assert len(inbox.messages) == 1
    rcpt, message, authenticated = inbox.messages[0]
    assert rcpt == ["office@example.gov.cn"] and authenticated
    assert message["Subject"] == "年报核查提醒：缺报 2"
    body = message.get_content()
    assert "青山区教育局" in body and "青山区人民政府" in body and "s3cret" not in body
    _check(feeder)
    assert alert(feeder.db, config, "t2") == {"email": {"sent": 0}}  # nothing new: nothing sent
    assert len(inbox.messages) == 1
    feeder.db.execute("update agencies set retired = '2024-06-30' where id = 'd'")  # d no longer expected
    _check(feeder)
    assert alert(feeder.db, config, "t3") == {"email": {"sent": 1}}
    assert "【已解决】" in inbox.messages[1][1].get_content()


def test_email_starttls(feeder, tmp_path, monkeypatch):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True)
    controller.start()
    try:
        monkeypatch.setenv("NIANBAO_SMTP_CAFILE", str(cert))
        channel = EmailChannel("127.0.0.1", controller.port, "n@example.gov.cn", ("o@example.gov.cn",), "starttls")
        _check(feeder)
        assert alert(feeder.db, AlertConfig([channel]), "t1") == {"email": {"sent": 2}}
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_unreachable_smtp_is_retried_next_run(feeder, smtp):
    controller, inbox = smtp
    dead = EmailChannel("127.0.0.1", 9, "n@example.gov.cn", ("o@example.gov.cn",), "none")
    _check(feeder)
    result = alert(feeder.db, AlertConfig([dead]), "t1")
    assert result["email"]["sent"] == 0 and "127.0.0.1:9" in result["email"]["error"]
    live = EmailChannel("127.0.0.1", controller.port, "n@example.gov.cn", ("o@example.gov.cn",), "none")
    assert alert(feeder.db, AlertConfig([live]), "t2") == {"email": {"sent": 2}}


def test_generic_webhook_and_dry_run(feeder, hook):
    base, received = hook
    config = AlertConfig([WebhookChannel(base + "/hook", "generic", name="ops"), LogChannel()])
    _check(feeder)
    dry = alert(feeder.db, config, "t0", dry_run=True)
    assert dry["ops"]["would_send"] == 2 and "缺报" in dry["ops"]["text"] and received == []
    assert alert(feeder.db, config, "t1") == {"ops": {"sent": 2}, "log": {"sent": 2}}
    path, body = received[0]
    assert path == "/hook" and {f["key"] for f in body["findings"]} == {"missing:d:2024", "missing:g:2024"}
    assert alert(feeder.db, config, "t2") == {"ops": {"sent": 0}, "log": {"sent": 0}}
    assert len(received) == 1


def test_dingtalk_signature_and_robot_error(feeder, hook, monkeypatch):
    base, received = hook
    monkeypatch.setenv("DING_SECRET", "SECabc")
    channel = WebhookChannel(base + "/robot/send?access_token=t", "dingtalk", "DING_SECRET", name="ding")
    url, body = webhook_request(channel, "主题", "正文", [], now=1700000000.123)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000123\nSECabc", hashlib.sha256).digest()).decode()
    assert query == {"access_token": "t", "timestamp": "1700000000123", "sign": expected}
    assert json.loads(body) == {"msgtype": "markdown", "markdown": {"title": "主题", "text": "正文"}}
    _check(feeder)
    assert alert(feeder.db, AlertConfig([channel]), "t1") == {"ding": {"sent": 2}}
    assert received[0][0].startswith("/robot/send?access_token=t&timestamp=")


def test_feishu_and_wecom_formats(monkeypatch):
    monkeypatch.setenv("FS_SECRET", "fs")
    _, body = webhook_request(WebhookChannel("http://h/f", "feishu", "FS_SECRET"), "s", "t", [], now=1700000000)
    data = json.loads(body)
    expected = base64.b64encode(hmac.new(b"1700000000\nfs", b"", hashlib.sha256).digest()).decode()
    assert data == {"msg_type": "text", "content": {"text": "t"}, "timestamp": "1700000000", "sign": expected}
    _, body = webhook_request(WebhookChannel("http://h/w", "wecom"), "s", "t", [])
    assert json.loads(body) == {"msgtype": "markdown", "markdown": {"content": "t"}}
