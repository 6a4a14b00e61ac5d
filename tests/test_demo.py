"""``nianbao demo`` tells the story: progress while it crawls, then the check's answer by
region (with names) and the command to browse it; run again with ``--dry-run`` it sends
nothing new and prints the answer once."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from archive.schema import open_archive


def _demo(workdir, *extra: str) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "scheduler", "demo", "--dir", str(workdir), *extra], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stdout + out.stderr
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo run for the module (it crawls, parses and OCRs a whole world: the slowest test)."""
    workdir = tmp_path_factory.mktemp("demo") / "demo"
    return workdir, _demo(workdir)


def test_demo_crawls_parses_and_summarises(demo):
    workdir, first = demo
    out = first.stdout
    assert "年报 150 份" in out  # the demo world's 150 reports
    assert "凤泉区人民政府                2021" in out  # the DOC attachment, parsed
    assert "被防火墙拦截（未破解）" in out and "robots.txt 禁止" in out
    assert "! 列表无法解读（不计缺报）" in out and "! 分页无法跟进（不计缺报）" in out
    # the scanned reports (an image-only PDF of a real report's three tables, a photographed page) read by OCR
    assert "（扫描件，OCR 识别 3 页）" in out and "（扫描件，OCR 识别 1 页）" in out
    data = workdir / "data"
    db = open_archive(data / "archive.db")
    scans = {
        r["ocr_pages"]: r
        for r in db.query(
            "select r.ocr_pages, r.parse_status, r.errors, (select count(*) from cells c where c.report_id = r.id) as n "
            "from reports r where r.ocr_pages is not null"
        )
    }
    assert set(scans) == {"[1, 2, 3]", "[1]"}
    assert scans["[1, 2, 3]"]["n"] == 186 and scans["[1]"]["n"] == 94  # every cell of the tables
    assert all(r["parse_status"] == "ok" and r["errors"] == 0 for r in scans.values())
    db.close()
    again = subprocess.run(
        [sys.executable, "-m", "scheduler", "reparse", "--data", str(data), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "OCR 4 页（0 秒）" in again.stderr  # read from the OCR cache, not again


def test_demo_ends_with_the_answer_and_a_second_dry_run_sends_nothing_new(demo):
    workdir, first = demo
    assert "抓取：" in first.stderr and "解析入库：" in first.stderr  # progress while it works
    out = first.stdout
    answer = out[out.index("核查结果（2024 年度") :]
    assert "410702 河南省新乡市红旗区" in answer and "410704 河南省新乡市凤泉区" in answer
    for kind in ("缺报", "迟报", "门户无法访问", "勾稽不符"):
        assert re.search(rf"^  {kind}（\d+）$", answer, re.M), kind
    assert "robots.txt 禁止抓取" in answer and "不计为缺报" in answer
    assert re.search(r"提醒（log）：已发送 \d+ 条", answer)
    assert f"nianbao serve --data {workdir / 'data'}" in out.splitlines()[-2]
    db = open_archive(workdir / "data" / "archive.db")
    sent = db.execute("select count(*) from alerts_sent").fetchone()[0]
    assert sent > 0

    second = _demo(workdir, "--dry-run").stdout
    assert second.count("核查结果（2024 年度") == 1
    assert "与上次核查相比：新增 0，变化 0，已解决 0" in second
    assert "提醒（log）：演练，不发送；没有新的提醒" in second
    answer = second[second.index("核查结果（2024 年度") :]
    headers = [line for line in answer.splitlines() if re.match(r"^\d{6,12} ", line)]
    assert headers == sorted(set(headers)) and "410702 河南省新乡市红旗区" in headers  # one block per region
    assert db.execute("select count(*) from alerts_sent").fetchone()[0] == sent
