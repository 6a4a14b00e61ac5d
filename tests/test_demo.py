"""``nianbao demo`` tells the story: progress while it crawls, then the check's answer by
region (with names) and the command to browse it; run again with ``--dry-run`` it sends
nothing new and prints the answer once."""

from __future__ import annotations

import re
import subprocess
import sys

from archive.schema import open_archive


def _demo(workdir, *extra: str) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "scheduler", "demo", "--dir", str(workdir), *extra], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stdout + out.stderr
    return out


def test_demo_ends_with_the_answer_and_a_second_dry_run_sends_nothing_new(tmp_path):
    first = _demo(tmp_path / "demo")
    assert "抓取：" in first.stderr and "解析入库：" in first.stderr  # progress while it works
    out = first.stdout
    answer = out[out.index("核查结果（2024 年度") :]
    assert "410702 河南省新乡市红旗区" in answer and "410704 河南省新乡市凤泉区" in answer
    for kind in ("缺报", "迟报", "门户无法访问", "勾稽不符"):
        assert re.search(rf"^  {kind}（\d+）$", answer, re.M), kind
    assert "robots.txt 禁止抓取" in answer and "不计为缺报" in answer
    assert re.search(r"提醒（log）：已发送 \d+ 条", answer)
    assert f"nianbao serve --data {tmp_path / 'demo' / 'data'}" in out.splitlines()[-2]
    db = open_archive(tmp_path / "demo" / "data" / "archive.db")
    sent = db.execute("select count(*) from alerts_sent").fetchone()[0]
    assert sent > 0

    second = _demo(tmp_path / "demo", "--dry-run").stdout
    assert second.count("核查结果（2024 年度") == 1
    assert "与上次核查相比：新增 0，变化 0，已解决 0" in second
    assert "提醒（log）：演练，不发送；没有新的提醒" in second
    answer = second[second.index("核查结果（2024 年度") :]
    headers = [line for line in answer.splitlines() if re.match(r"^\d{6,12} ", line)]
    assert headers == sorted(set(headers)) and "410702 河南省新乡市红旗区" in headers  # one block per region
    assert db.execute("select count(*) from alerts_sent").fetchone()[0] == sent
