"""`nianbao parse` as users and evaluation tools call it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
FIX = ROOT / "tests/fixtures"


def nianbao(*args: str, color: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from scheduler import cli; cli()", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_json_lines_exactly_the_contract():
    proc = nianbao("parse", "--json", str(FIX / "seeds"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5
    for line in lines:
        obj = json.loads(line)
        # the contract's keys first, then the additive ones (coverage; ocr when OCR read the report)
        assert list(obj)[:5] == ["agency", "year", "template", "cells", "findings"]
        assert set(list(obj)[5:]) <= {"coverage", "ocr"}
        assert obj["coverage"]["template_cells"] >= obj["coverage"]["cells_read"]
        assert all(set(f) == {"rule", "severity", "where", "message"} for f in obj["findings"])
    assert json.loads(lines[0])["cells"]["disclosure.fees.amount"] == 602.5492


def test_bad_file_among_good_ones(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7 not really")
    proc = nianbao("parse", "--json", str(FIX / "seeds/004_5508c84fc82701dc.txt"), str(bad))
    assert proc.returncode == 1
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stderr.count("\n") == 1 and "broken.pdf" in proc.stderr and "Traceback" not in proc.stderr


def test_readable_summary():
    proc = nianbao("parse", str(FIX / "seeds/000_13629bb28de84385.txt"))
    assert proc.returncode == 0
    out = proc.stdout
    assert "凤泉区城乡建设和城市管理局 · 2024 年 · 2021 格式" in out
    assert "三、收到和处理政府信息公开申请情况" in out and "602.5492" in out
    assert "narrative.requests_new" in out
    assert "部分读取：模板 175 个单元格中读到 156 个\n" in out  # 19 rows print no 其他 column
    assert "\x1b[" not in out  # no colour codes when not on a terminal


def test_missing_file():
    proc = nianbao("parse", "/nonexistent/report.pdf")
    assert proc.returncode == 1 and "cannot read file" in proc.stderr
