"""How to keep raw captures for a national archive: measured, not guessed.

    python bench/storage.py [--captures 4000]

A national archive holds ≈1.5 million reports; each has a report page
(HTML, ~40 KB, compresses well), most have an attachment (PDF/DOCX, a few
hundred KB, already compressed), and every run adds list pages (HTML). The
captures here follow that mix, with bytes taken from the bundled mock
documents so compressibility is real. Three layouts are compared:

* ``files``      — loose files ``blobs/ab/<sha256>`` beside the database;
* ``files+gzip`` — the same, text kinds (HTML/JSON/XML) gzip-compressed
                   (``blobs/ab/<sha256>.gz``; readable with ``zcat``);
* ``sqlite``     — blobs in one SQLite table, text kinds zlib-compressed.

Printed per layout: write rate, random-read rate, bytes on disk (allocated
blocks, so small-file overhead counts), files created, and the size
extrapolated to 1.5 million reports.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.mock.corpus import base_texts
from crawler.mock.documents import to_docx, to_html_body

REPORTS_NATIONAL = 1_500_000
# real report PDFs (240 and 413 KB): the mock's text-only PDFs are far smaller than portals' PDFs
REAL_PDFS = sorted((Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "realdocs").glob("*.pdf"))


def sample_captures(n: int) -> list[tuple[str, bytes]]:
    """(kind, bytes) in the national mix: per report 1 page, 0.7 attachment, 0.4 list page."""
    rng = random.Random(7)
    texts = [b.body for b in base_texts().values()]
    out: list[tuple[str, bytes]] = []
    while len(out) < n:
        text = rng.choice(texts).replace("2024", str(rng.randint(2008, 2025)))
        salt = f"<!-- {rng.random()} -->"
        page = (
            f"<html><head><meta charset='utf-8'></head><body>{'<div class=nav>导航</div>' * 200}"
            f"{to_html_body(text)}{salt}</body></html>"
        )
        out.append(("html", page.encode()))
        if rng.random() < 0.7:
            if rng.random() < 0.75:  # distinct bytes per report, real PDF size and compressibility
                out.append(("pdf", rng.choice(REAL_PDFS).read_bytes() + f"%{salt}\n".encode()))
            else:
                out.append(("docx", to_docx(text + salt)))
        if rng.random() < 0.4:
            items = "".join(
                f"<li><a href='/t{rng.random()}.html'>某某县{i}2024年政府信息公开工作年度报告</a>"
                f"<span>2025-01-{i % 28 + 1:02d}</span></li>"
                for i in range(20)
            )
            out.append(("html", f"<html><body>{'<div>栏目</div>' * 300}<ul>{items}</ul></body></html>".encode()))
    return out[:n]


def allocated(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.stat(os.path.join(root, name)).st_blocks * 512
    return total


class Files:
    def __init__(self, root: Path, compress: bool):
        self.root, self.compress, self.dirs = root, compress, set()

    def put(self, kind: str, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        packed = self.compress and kind == "html"
        path = self.root / sha[:2] / (sha + (".gz" if packed else ""))
        if path.parent not in self.dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.dirs.add(path.parent)
        tmp = path.with_name(".tmp-" + path.name)
        tmp.write_bytes(gzip.compress(data, 6, mtime=0) if packed else data)
        os.replace(tmp, path)
        return sha + (".gz" if packed else "")

    def get(self, key: str) -> bytes:
        data = (self.root / key[:2] / key).read_bytes()
        return gzip.decompress(data) if key.endswith(".gz") else data


class SQLiteBlobs:
    def __init__(self, root: Path):
        root.mkdir(parents=True)
        self.db = sqlite3.connect(root / "blobs.db")
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")
        self.db.execute("create table blobs (sha256 text primary key, z integer, data blob)")

    def put(self, kind: str, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        packed = kind == "html"
        with self.db:
            self.db.execute(
                "insert or ignore into blobs values (?, ?, ?)", (sha, packed, zlib.compress(data, 6) if packed else data)
            )
        return sha

    def get(self, key: str) -> bytes:
        z, data = self.db.execute("select z, data from blobs where sha256 = ?", (key,)).fetchone()
        return zlib.decompress(data) if z else data


def measure(name: str, store, root: Path, captures: list[tuple[str, bytes]]) -> None:
    started = time.perf_counter()
    keys = [store.put(kind, data) for kind, data in captures]
    if isinstance(store, SQLiteBlobs):
        store.db.execute("pragma wal_checkpoint(truncate)")
    write_s = time.perf_counter() - started
    os.sync()
    order = random.Random(1).sample(keys, len(keys))
    started = time.perf_counter()
    for key in order:
        store.get(key)
    read_s = time.perf_counter() - started
    size = allocated(root)
    files = sum(len(f) for _, _, f in os.walk(root))
    raw = sum(len(d) for _, d in captures)
    per_report = size / (len(captures) / 2.1)  # 2.1 captures per report in the mix
    print(
        f"{name:<11} write {len(captures) / write_s:7.0f}/s  read {len(keys) / read_s:7.0f}/s  "
        f"disk {size / 1e6:7.1f} MB ({size / raw:4.0%} of raw)  files {files:6d}  "
        f"→ 1.5 M reports ≈ {per_report * REPORTS_NATIONAL / 1e12:5.2f} TB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--captures", type=int, default=4000)
    args = parser.parse_args()
    captures = sample_captures(args.captures)
    raw = sum(len(d) for _, d in captures)
    html = sum(len(d) for k, d in captures if k == "html")
    print(f"{len(captures)} captures, {raw / 1e6:.1f} MB raw ({html / raw:.0%} HTML by bytes)")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        tmp = Path(tmp)
        for name, make in (
            ("files", lambda r: Files(r, False)),
            ("files+gzip", lambda r: Files(r, True)),
            ("sqlite", SQLiteBlobs),
        ):
            root = tmp / name
            measure(name, make(root), root, captures)
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
