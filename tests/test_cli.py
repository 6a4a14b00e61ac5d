"""`nianbao parse` as users and evaluation tools call it."""

from __future__ import annotations

import json
import os
import re
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


# Words that may stay in ASCII letters in the help: the program, formats and file types,
# products and signals by their own names, and the values users type (levels, kinds, defaults).
HELP_WORDS = {"nianbao", "Datasette", "APScheduler", "cron", "SIGTERM", "Ctrl", "kill", "ocr", "data", "host"}
HELP_WORDS |= {"PDF", "HTML", "DOCX", "DOC", "WPS", "XLSX", "JPG", "PNG", "TIFF", "Word", "JSON", "Lines", "OCR", "CPU"}
HELP_WORDS |= {"WARC", "gzip", "csv", "xlsx", "DEBUG", "INFO", "WARNING", "ERROR"}


def test_help_is_chinese():
    """`nianbao --help` and each command's: no English besides names users type or read as names."""
    from archive.compliance import KINDS
    from scheduler import cli

    allowed = HELP_WORDS | set(cli.commands) | set(KINDS)
    for command in ["", *sorted(cli.commands)]:
        proc = nianbao(*command.split(), "--help")
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout
        assert "用法：" in text and "选项：" in text and "显示本帮助并退出。" in text
        if command:  # every command shows how it is called
            text, rest = text.split("示例：\n")
            examples, options = rest.split("\n选项：\n")
            examples = [line.strip() for line in examples.splitlines() if line.strip()]
            assert examples and all(f"{line} ".startswith(f"nianbao {command} ") for line in examples), (command, examples)
            text += options
        text = re.sub(r"`[^`]*`", " ", text)  # commands quoted as code
        words = set()
        for token in re.split(r"[\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef\[\]()]+", text):
            if token in allowed or token.startswith("-") or re.search(r"[/._=:>]", token):
                continue  # option names; paths, file names, URLs, config keys, env vars, ranges
            words |= {w for w in re.findall(r"[A-Za-z]{3,}", token) if w not in allowed}
        assert not words, (command or "nianbao", sorted(words))
    assert "命令：" in nianbao("--help").stdout
