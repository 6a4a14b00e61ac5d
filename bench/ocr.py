"""OCR acceptance: every real PDF and HTML report of tests/fixtures/realdocs rendered
to images (no text layer) and parsed; cells compared with the hand-checked gold.
Then the table pages again, damaged as scans are: a few degrees of skew, blur,
JPEG artefacts, speckle, a red seal over the table, and all of them at once.

    python bench/ocr.py [--variants all|none|rot3,seal,...] [--docs 01,02]

HTML is rendered by headless Chromium (--print-to-pdf, A4) when it is installed.
Prints, per document and variant: cells right / gold cells, cells wrong (a value
read other than printed, or a cell the document does not have), cells missing,
and OCR CPU seconds per page; and, for comparison, what the parser reads from the
same rendered PDF's text layer (its limits are not OCR's: an HTML table printed
with blank cells loses their columns either way).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.extract import extract  # noqa: E402
from archive.parse import parse_document  # noqa: E402
from archive.tables import split_regions  # noqa: E402
from crawler.mock.scans import Damage, damage, image_pdf, page_images  # noqa: E402

REAL = ROOT / "tests" / "fixtures" / "realdocs"
VARIANTS = {
    "rot3": Damage(rotate=3, name="rot3"),
    "rot-2": Damage(rotate=-2, name="rot-2"),
    "blur": Damage(blur=1.0, name="blur"),
    "jpeg30": Damage(jpeg=30, name="jpeg30"),
    "noise": Damage(noise=0.002, name="noise"),
    "seal": Damage(seal=True, name="seal"),
    "all": Damage(rotate=-2, blur=0.8, jpeg=50, noise=0.001, seal=True, name="all"),
}


def html_to_pdf(html: Path) -> bytes | None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "page.pdf"
        subprocess.run(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-pdf-header-footer",
                f"--print-to-pdf={out}",
                html.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        return out.read_bytes() if out.exists() else None


def documents(only: set[str] | None) -> list[tuple[str, bytes, dict]]:
    """(name, PDF with a text layer, gold cells) for every real PDF and HTML report."""
    out = []
    for gold_path in sorted(REAL.glob("*.gold.json")):
        stem = gold_path.name[: -len(".gold.json")]
        if only and stem[:2] not in only:
            continue
        gold = json.loads(gold_path.read_text("utf-8"))["cells"]
        if (REAL / f"{stem}.pdf").exists():
            out.append((stem, (REAL / f"{stem}.pdf").read_bytes(), gold))
        elif (REAL / f"{stem}.html").exists():
            pdf = html_to_pdf(REAL / f"{stem}.html")
            if pdf is None:
                print(f"{stem}: skipped (no Chromium to render the HTML)")
                continue
            out.append((stem, pdf, gold))
    return out


def table_pages(pdf: bytes) -> list[int]:
    """0-based pages holding lines of the three tables (read from the text layer)."""
    doc = extract(pdf, "x.pdf")
    pages = {doc.lines[i].page for lines in split_regions(doc.lines).values() for i, _ in lines}
    return sorted(p - 1 for p in pages if p)


def compare(cells: dict, gold: dict) -> tuple[int, int, int]:
    """Cells right, wrong (or invented), missing."""
    right = sum(k in cells and cells[k] == v and (cells[k] is None) == (v is None) for k, v in gold.items())
    wrong = sum(k in cells and cells[k] != v for k, v in gold.items()) + len(set(cells) - set(gold))
    return right, wrong, sum(k not in cells for k in gold)


def score(images, gold: dict) -> tuple[int, int, int, float]:
    started = time.process_time()
    cells = parse_document(extract(image_pdf(images), "scan.pdf")).cells
    return (*compare(cells, gold), (time.process_time() - started) / len(images))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="all", help="comma-separated damage variants, 'all' or 'none'")
    ap.add_argument("--docs", default="", help="comma-separated document numbers (default: every PDF and HTML)")
    args = ap.parse_args()
    chosen = list(VARIANTS) if args.variants == "all" else [] if args.variants == "none" else args.variants.split(",")
    docs = documents(set(args.docs.split(",")) if args.docs else None)
    print(f"{'document':34s} {'variant':8s} {'pages':>5s} {'right':>9s} {'wrong':>5s} {'missing':>7s} {'CPU s/page':>10s}")
    totals = {}
    for name, pdf, gold in docs:
        right, wrong, missing = compare(parse_document(extract(pdf, "x.pdf")).cells, gold)
        print(f"{name:34s} {'text':8s} {'':5s} {right:4d}/{len(gold):<4d} {wrong:5d} {missing:7d}  (the PDF's text layer)")
        images = page_images(pdf)
        rows = [("clean", images)]
        tables = [images[i] for i in table_pages(pdf)]
        rows += [(v, [damage(im, VARIANTS[v], seed=k) for k, im in enumerate(tables)]) for v in chosen]
        for variant, pages in rows:
            right, wrong, missing, per_page = score(pages, gold)
            t = totals.setdefault(variant, [0, 0, 0])
            t[0] += right
            t[1] += wrong
            t[2] += len(gold)
            print(
                f"{name:34s} {variant:8s} {len(pages):5d} {right:4d}/{len(gold):<4d} {wrong:5d} {missing:7d} {per_page:10.1f}",
                flush=True,
            )
    for variant, (right, wrong, n) in totals.items():
        print(f"{'all documents':34s} {variant:8s} {'':5s} {right:4d}/{n:<4d} {wrong:5d}  ({right / n:.1%} right)")


if __name__ == "__main__":
    main()
