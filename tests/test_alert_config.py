"""The ``alerts:`` section of config.yaml: routes, limits and the archive's link, each error
with file:line."""

from __future__ import annotations

import pytest

from archive.alerts import EmailChannel, LogChannel, Route, WebhookChannel
from archive.errors import ConfigError
from crawler.config import load_config

HEAD = """portals: []
agencies:
  - {id: hq, name: 红旗区人民政府, level: government, region: "410702"}
  - {id: hq-cj, name: 红旗区城乡建设局, level: department, region: "410702", parent: hq}
"""


def _load(tmp_path, alerts: str):
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + "alerts:\n" + alerts, encoding="utf-8")
    return path, load_config(path).alerts


def _error(tmp_path, alerts: str) -> tuple[str, str]:
    path = tmp_path / "config.yaml"
    path.write_text(HEAD + "alerts:\n" + alerts, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    return str(path), str(e.value)


def test_routes_links_and_limits_are_read(tmp_path, monkeypatch):
    monkeypatch.delenv("NB_WECOM", raising=False)
    _, config = _load(
        tmp_path,
        """  archive_url: https://nianbao.example.gov.cn
  front_page: "/-/nianbao/{region}/{year}"
  email:
    - {host: smtp.example.gov.cn, from: n@example.gov.cn, to: [zwgk@example.gov.cn], regions: ["4107"]}
    - {name: cj, host: localhost, security: none, from: n@example.gov.cn, to: [cj@example.gov.cn], agencies: [hq-cj]}
  webhooks:
    - {kind: wecom, url_env: NB_WECOM, regions: ["410702", "4108"], levels: [government, township], max_bytes: 2048}
""",
    )
    log, city, cj, wecom = config.channels
    assert isinstance(log, LogChannel) and isinstance(city, EmailChannel) and isinstance(wecom, WebhookChannel)
    assert (city.name, city.route, city.security, city.port) == ("email-0", Route(regions=("4107",)), "starttls", 587)
    assert (cj.name, cj.route, cj.security) == ("cj", Route(agencies=("hq-cj",)), "none")
    assert wecom.route == Route(("410702", "4108"), ("government", "township")) and wecom.max_bytes == 2048
    assert wecom.url == "env:NB_WECOM" and wecom.name == "wecom-0"
    assert (config.archive_url, config.front_page) == ("https://nianbao.example.gov.cn", "/-/nianbao/{region}/{year}")


@pytest.mark.parametrize(
    "alerts, line, message",
    [
        ('  webhooks:\n    - {kind: wecom, url: "http://h/x", regions: ["41a7"]}\n', 7, "'41a7' is not a 行政区划代码 prefix"),
        ('  webhooks:\n    - {kind: wecom, url: "http://h/x", levels: [county]}\n', 7, "unknown level 'county'"),
        ('  webhooks:\n    - {kind: wecom, url: "http://h/x", agencies: [hq-jy]}\n', 7, "no agency with id 'hq-jy'"),
        ('  webhooks:\n    - {kind: wecom, url: "http://h/x", max_bytes: 8192}\n', 7, "expected a number from 1024 to 4096"),
        ('  webhooks:\n    - {kind: wecom, url: "http://h/x", secret_env: S}\n', 7, "wecom webhooks are not signed"),
        (
            '  webhooks:\n    - {kind: wecom, url: "http://h/x"}\n    - {kind: generic, url: "http://h/y", name: wecom-0}\n',
            8,
            "two channels",
        ),
        ('  front_page: "/x?r={region}&t={town}"\n', 6, "only {region} and {year}"),
        ("  archive_url: nianbao.example.gov.cn\n", 6, "alerts.archive_url: not a usable URL"),
        ("  email: {host: h, from: a@b, to: [nobody]}\n", 6, "'nobody' is not an email address"),
        ("  email: {host: h, from: a@b, to: [x@y], password_env: P}\n", 6, "a password needs username_env too"),
    ],
)
def test_alert_config_errors_name_file_and_line(tmp_path, alerts, line, message):
    path, error = _error(tmp_path, alerts)
    assert error.startswith(f"{path}:{line}: alerts") and message in error, error
