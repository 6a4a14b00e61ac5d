"""Config files as a hostile or careless hand writes them (issue 13): each case ends in
one line naming the file, the line and the reason — never a traceback, never silently
accepted — and the agency tree is checked and stored without recursion."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from archive_helpers import Feeder

from archive import ingest
from archive.errors import ConfigError
from archive.isolation import Budget
from crawler.config import MAX_AGENCY_DEPTH, Agency, load_config
from crawler.settings import USER_AGENT_BASE
from crawler.spiders.portal import apply_config

GOOD = """\
contact: "ops <ops@example.org>"
crawl: {delay: 0.5, concurrency: 8}
portals:
  - {id: xx-gknb, start_urls: ["https://www.xx.gov.cn/zfxxgk/zfxxgknb/"], family: trs, owner: xx}
agencies:
  - {id: xx, name: 某某县人民政府, level: government, region: "430000"}
  - {id: xx-zjj, name: 某某县住房和城乡建设局, level: department, region: "430000", parent: xx}
"""


def _write(tmp_path, text: str | bytes):
    path = tmp_path / "config.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _error(tmp_path, text: str | bytes) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    return str(err.value)


@pytest.mark.parametrize(
    "old, new, line, reason",
    [
        ('"https://www.xx.gov.cn/zfxxgk/zfxxgknb/"', '"http://[::1/"', 4, "not a valid URL: 'http://[::1/' (Invalid IPv6 URL)"),
        ("www.xx.gov.cn/", "www.xx.gov.cn:99999/", 4, "Port out of range"),
        ("www.xx.gov.cn/", "www.xx.gov.cn:http/", 4, "not a valid URL"),
        ("concurrency: 8", "concurrency: 1.9", 2, "expected a whole number from 1 to 4096, not 1.9"),
        ("delay: 0.5", "delay: 0.5, workers: 2.5", 2, "crawl.workers: expected a whole number"),
        ("owner: xx}", 'owner: xx, hosts: ["*"]}', 4, "'*' is not a host name"),
        ("owner: xx}", 'owner: xx, hosts: ["files.xx.gov.cn", "169.254.169.254"]}', 4, "link-local address"),
        ("owner: xx}", 'owner: xx, hosts: ["10.0.0.8"]}', 4, "10.0.0.8 is a private address"),
        ("owner: xx}", 'owner: xx, hosts: ["a b.gov.cn"]}', 4, "not a host name"),
        ("某某县人民政府", '"某某\\0县人民政府"', 6, "control character '\\x00'"),
        ('contact: "ops <ops@example.org>"', 'contact: "ops\\r\\nX-Evil: 1"', 1, "control character '\\r'"),
    ],
)
def test_config_cases_name_file_line_and_reason(tmp_path, old, new, line, reason):
    assert old in GOOD
    message = _error(tmp_path, GOOD.replace(old, new, 1))
    assert f"config.yaml:{line}:" in message and reason in message, message


def test_a_raw_nul_byte_names_its_line(tmp_path):
    message = _error(tmp_path, GOOD.replace("某某县住房", "某某县\0住房").encode())
    assert "config.yaml:7:" in message and "'\\x00' is not allowed" in message


def test_an_internal_start_url_is_left_to_the_request_guard(tmp_path):
    # refused when requested (forbidden_address: the portal unreachable, the others crawled; tests/test_security.py)
    text = GOOD.replace("www.xx.gov.cn/", "169.254.169.254/")
    assert load_config(_write(tmp_path, text)).portals["xx-gknb"].hosts == ("169.254.169.254",)


def test_internal_hosts_only_inside_allow_networks(tmp_path):
    text = GOOD.replace("concurrency: 8}", 'concurrency: 8, allow_networks: ["10.0.0.0/8"]}').replace(
        "owner: xx}", 'owner: xx, hosts: ["10.0.0.8"]}'
    )
    assert load_config(_write(tmp_path, text)).portals["xx-gknb"].hosts == ("10.0.0.8", "www.xx.gov.cn")


def _chain(n: int) -> str:
    lines = [GOOD.split("agencies:")[0] + "agencies:", '  - {id: xx, name: 某某县人民政府, level: government, region: "430000"}']
    previous = "xx"
    for i in range(n):
        lines.append(f'  - {{id: a{i}, name: 机关{i}, level: department, region: "430000", parent: {previous}}}')
        previous = f"a{i}"
    return "\n".join(lines) + "\n"


def test_a_parent_chain_of_1500_agencies_is_refused_with_its_line(tmp_path):
    message = _error(tmp_path, _chain(1500))
    assert "config.yaml:1506:" in message and f"1500 levels of parents (at most {MAX_AGENCY_DEPTH}" in message
    assert len(load_config(_write(tmp_path, _chain(MAX_AGENCY_DEPTH))).agencies) == MAX_AGENCY_DEPTH + 1


def test_a_parent_cycle_is_refused_with_its_line(tmp_path):
    text = GOOD.replace('region: "430000"}', 'region: "430000", parent: xx-zjj}', 1)
    message = _error(tmp_path, text)
    assert "config.yaml:" in message and "parents form a cycle" in message


def test_a_long_parent_chain_is_stored_without_recursion(tmp_path):
    # the registry's depth order (parents first) once recursed: 1,500 levels raised RecursionError
    chain = [Agency("a0", "机关0", "government", "430000")]
    chain += [Agency(f"a{i}", f"机关{i}", "department", "430000", f"a{i - 1}") for i in range(1, 1500)]
    feeder = Feeder(tmp_path, agencies=list(reversed(chain)))
    assert feeder.db.execute("select count(*) from agencies").fetchone()[0] == 1500
    ingest.sync_agencies(feeder.db, chain)


def test_parse_budget_section(tmp_path):
    text = GOOD + "parse: {wall_seconds: 90, cpu_seconds: 30.5, memory_mb: 1024, attempts: 2, workers: 3}\n"
    config = load_config(_write(tmp_path, text))
    assert config.parse == Budget(90, 30.5, 1024, 2) and config.parse_workers == 3
    assert load_config(_write(tmp_path, GOOD)).parse == Budget()
    assert "parse.memory_mb: expected a whole number" in _error(tmp_path, GOOD + "parse: {memory_mb: 1024.5}\n")
    assert "parse.cpu_seconds: expected a number from 1 to 86400" in _error(tmp_path, GOOD + "parse: {cpu_seconds: 0}\n")
    assert "parse.budget: unknown key" in _error(tmp_path, GOOD + "parse: {budget: 1}\n")


def test_user_agent_is_ascii_whatever_the_contact(tmp_path):
    config = load_config(_write(tmp_path, GOOD.replace('"ops <ops@example.org>"', '"年报组 <nb@例子.中国>"')))
    settings: dict = {"USER_AGENT_BASE": USER_AGENT_BASE}

    class Settings(dict):
        def set(self, key, value, priority=None):
            self[key] = value

    applied = Settings(settings)
    apply_config(applied, config)
    agent = applied["USER_AGENT"]
    assert agent.isascii() and "%E5%B9%B4%E6%8A%A5%E7%BB%84 <nb@%E4%BE%8B%E5%AD%90.%E4%B8%AD%E5%9B%BD>" in agent
    assert agent.encode("latin-1")  # a header value any HTTP stack sends as is


def test_cli_prints_the_line_not_a_traceback(tmp_path):
    path = _write(tmp_path, GOOD.replace('"https://www.xx.gov.cn/zfxxgk/zfxxgknb/"', '"http://[::1/"'))
    out = subprocess.run(
        [sys.executable, "-m", "scheduler", "crawl", "--config", str(path), "--data", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and f"{path}:4:" in out.stderr and "Traceback" not in out.stderr
