"""Secrets and transport (issue 13): no URL, token or password in a traceback, a log line or
an alert error. Webhook URLs are checked when the config is read (also those from the
environment); errors name the environment variable, never its value; ``security: none``
only for a relay on this machine."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from archive_helpers import Feeder, office_mail
from click.testing import CliRunner

from archive import ingest
from archive.alerts import AlertConfig, EmailChannel, WebhookChannel, alert
from archive.compliance import check_year, record
from archive.deadlines import Deadlines
from archive.errors import ConfigError
from crawler.config import Agency, load_config
from scheduler import EXIT_UNDELIVERED, cli

TOKEN = "TOKEN-8c1f0d2e77aa"
HEAD = "portals: []\nagencies: []\nalerts:\n"


def _config_error(tmp_path, alerts: str) -> tuple[str, str]:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + alerts, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    return str(path), str(e.value)


@pytest.mark.parametrize(
    "url, reason",
    [
        (f"oapi.dingtalk.com/robot/send?access_token={TOKEN}", "缺少协议"),
        (f"localhost:8080/robot/send?access_token={TOKEN}", "缺少协议"),
        (f"http://[::1/robot/send?access_token={TOKEN}", "不是格式正确的网址"),
        (f"https://oapi.dingtalk.com:99999/robot/send?access_token={TOKEN}", "不是格式正确的网址"),
        (f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}\\0", "控制字符"),
        (f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN} x", "空白"),
        (f"ftp://oapi.dingtalk.com/robot/send?access_token={TOKEN}", "不是 http 或 https"),
    ],
)
def test_a_bad_webhook_url_is_a_config_error_that_never_shows_it(tmp_path, url, reason):
    path, error = _config_error(tmp_path, f'  webhooks:\n    - {{kind: dingtalk, url: "{url}"}}\n')
    assert error.startswith(f"{path}:5: alerts.webhooks[0].url: not a usable webhook URL") and reason in error, error
    assert TOKEN not in error and "dingtalk.com" not in error


def test_a_bad_url_in_the_environment_is_a_config_error_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("NB_DING_URL", f"oapi.dingtalk.com/robot/send?access_token={TOKEN}")
    path, error = _config_error(tmp_path, "  webhooks:\n    - {kind: dingtalk, url_env: NB_DING_URL}\n")
    assert error.startswith(f"{path}:5: alerts.webhooks[0].url_env: the URL in environment variable NB_DING_URL is not usable")
    assert TOKEN not in error
    monkeypatch.delenv("NB_DING_URL")
    load_config(path)  # unset when the config is read (crawl-only hosts): said when an alert is sent


def test_a_secret_pasted_where_its_variable_name_goes_is_not_repeated(tmp_path):
    path, error = _config_error(
        tmp_path,
        "  email: {host: smtp.example.gov.cn, from: a@b.cn, to: [c@d.cn], username_env: U, password_env: hunter2-PASS}\n",
    )
    assert error.startswith(f"{path}:4: alerts.email.password_env: not an environment variable name") and "hunter2" not in error


@pytest.mark.parametrize(
    "host, ok", [("smtp.example.gov.cn", False), ("10.0.0.5", False), ("127.0.0.1", True), ("::1", True), ("localhost", True)]
)
def test_unencrypted_smtp_only_to_a_relay_on_this_machine(tmp_path, host, ok):
    alerts = f'  email: {{host: "{host}", security: none, from: a@b.cn, to: [c@d.cn]}}\n'
    if ok:
        path = tmp_path / "config.yaml"
        path.write_text(HEAD + alerts, encoding="utf-8")
        assert load_config(path).alerts.channels[1].security == "none"
        return
    path, error = _config_error(tmp_path, alerts)
    assert error.startswith(f"{path}:4: alerts.email.security: 'none' sends mail and passwords unencrypted")


@pytest.fixture
def feeder(tmp_path):
    agencies = [Agency("g", "青山区人民政府", "government", "431201", None, ())]
    feeder = Feeder(tmp_path, agencies=agencies)
    ingest.sync_portals(feeder.db, {"p": ["g"]})
    feeder.capture("http://p/list.html", b"<html>list</html>", "html", role="list")
    record(feeder.db, 2024, check_year(feeder.db, 2024, Deadlines(), date(2025, 6, 1)), "t0")
    return feeder


def test_a_url_gone_bad_after_the_config_was_read_fails_without_a_traceback_or_the_token(feeder, tmp_path, monkeypatch):
    config = tmp_path / "alerts.yaml"
    config.write_text(
        HEAD + "  log: false\n  webhooks:\n    - {name: ding, kind: dingtalk, url_env: NB_DING_URL}\n", encoding="utf-8"
    )
    command = ["check", "--data", str(feeder.root), "--config", str(config), "--year", "2024", "--today", "2025-06-01", "--alert"]
    monkeypatch.delenv("NB_DING_URL", raising=False)
    unset = CliRunner().invoke(cli, command)
    assert unset.exit_code == EXIT_UNDELIVERED and "环境变量 NB_DING_URL 未设置" in unset.stderr
    for bad in (f"oapi.dingtalk.com/robot/send?access_token={TOKEN}", f"http://[::1/robot/send?access_token={TOKEN}"):
        monkeypatch.setenv("NB_DING_URL", bad)
        result = alert(feeder.db, AlertConfig([WebhookChannel("env:NB_DING_URL", "dingtalk", name="ding")]), "t1")["ding"]
        assert result.untold == 1 and "环境变量 NB_DING_URL 中的地址不可用" in result.errors[0]
        assert TOKEN not in str(result)


def test_robot_answers_and_redirects_are_scrubbed_and_not_followed(feeder, robots, monkeypatch, caplog):
    url, robot = robots.add("dingtalk", secret="SEC-77aa-secret")
    monkeypatch.setenv("NB_DING_URL", url)
    monkeypatch.setenv("NB_DING_SECRET", "SEC-77aa-secret")
    token = url.rsplit("=", 1)[1]
    robot.refuse_once(lambda body: True, 200, {"errcode": 300005, "errmsg": f"token is not exist: {url} SEC-77aa-secret"})
    channel = WebhookChannel("env:NB_DING_URL", "dingtalk", "NB_DING_SECRET", "ding")
    with caplog.at_level(logging.DEBUG):
        first = alert(feeder.db, AlertConfig([channel]), "t1", clock=robots.clock)["ding"]
    assert first.errors[0].startswith("摘要消息：机器人拒绝（300005：token is not exist: ***")
    robot.refuse_once(lambda body: True, 302, {})  # a redirect: never followed, never taken for success
    second = alert(feeder.db, AlertConfig([channel]), "t2", clock=robots.clock)["ding"]
    assert second.errors[0] == "摘要消息：HTTP 302" and second.untold == 1 and len(robot.accepted) == 0
    said = str(first) + str(second) + caplog.text
    assert token not in said and "SEC-77aa-secret" not in said


def test_smtp_errors_never_show_the_password(feeder, smtp, monkeypatch):
    controller, inbox = smtp
    result = alert(feeder.db, AlertConfig([office_mail(controller.port, monkeypatch, "wrong-PASS-5e2b")]), "t1")["email"]
    assert "SMTPAuthenticationError" in result.errors[0] and "wrong-PASS-5e2b" not in str(result) and inbox.messages == []
    remote = EmailChannel("192.0.2.1", 25, "n@example.gov.cn", ("o@example.gov.cn",), "none", "SMTP_USER", "SMTP_PASS")
    refused = alert(feeder.db, AlertConfig([remote]), "t2")["email"]  # built in code, not from a config: refused too
    assert "security: none 会明文发送邮件和密码，只允许本机中继" in refused.errors[0] and refused.untold == 1
