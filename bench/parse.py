"""Parsing speed: reports/s for text, HTML and PDF, ms per PDF page, and the
same PDFs through a pdfplumber table-finding baseline (``page.find_tables()``
on every page) for comparison. One process, one core. Then OCR: CPU seconds per
scanned page and the peak memory of a parse worker process (as ``ingest`` runs
them) reading a scanned report, against one reading a text PDF.

    python bench/parse.py [--seconds 3] [--no-ocr]

Every cache that learns from a document's own text (labels, values, headings, column
bands) is cleared before every report, so figures are for a cold parse of
each document (a long crawl, where labels repeat, is faster).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.labels import LabelIndex  # noqa: E402
from archive.normalize import label_key, parse_value  # noqa: E402
from archive.parse import parse_bytes  # noqa: E402
from archive.placement import _bands  # noqa: E402
from archive.tables import _heading_text  # noqa: E402
from crawler.mock.documents import to_html_body  # noqa: E402

FIX = ROOT / "tests" / "fixtures"


# every cache that learns from a document's own text (labels, values, headings, column
# bands): cleared before each report
COLD = (LabelIndex._match, label_key, parse_value, _heading_text, _bands)


def corpus() -> dict[str, list[tuple[str, bytes]]]:
    seeds = sorted((FIX / "seeds").glob("*.txt"))
    real = FIX / "realdocs"
    text = [(p.name, p.read_bytes()) for p in seeds + sorted(real.glob("*.txt")) + sorted(real.glob("*.md"))]
    html = [(p.name, p.read_bytes()) for p in sorted(real.glob("*.html"))]
    html += [
        (
            p.stem + ".html",
            f"<html><head><meta charset='utf-8'></head><body>{to_html_body(p.read_text('utf-8'))}</body></html>".encode(),
        )
        for p in seeds
    ]
    pdf = [(p.name, p.read_bytes()) for p in sorted(real.glob("*.pdf"))]
    return {"text": text, "html": html, "pdf": pdf}


def rate(docs: list[tuple[str, bytes]], seconds: float) -> tuple[float, int]:
    n, start = 0, time.perf_counter()
    while True:
        for name, data in docs:
            for cache in COLD:
                cache.cache_clear()
            parse_bytes(data, name)
            n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, n


def pdf_pages(docs) -> int:
    import pypdfium2 as pdfium

    return sum(len(pdfium.PdfDocument(data)) for _, data in docs)


def plumber_seconds(docs, rounds: int) -> float:
    import io

    import pdfplumber

    start = time.perf_counter()
    for _ in range(rounds):
        for _, data in docs:
            with pdfplumber.open(io.BytesIO(data)) as pdf:
                for page in pdf.pages:
                    page.find_tables()
    return (time.perf_counter() - start) / rounds


def _worker_parse(data: bytes) -> tuple[int, float, float, int]:
    """In a parse worker: (pages OCR read, OCR CPU seconds, CPU seconds in all, peak RSS in MB)."""
    import resource

    from archive.extract import extract
    from archive.parse import parse_document

    started = time.process_time()
    doc = extract(data, "report.pdf")
    parse_document(doc)
    pages, seconds = (len(doc.ocr.pages), doc.ocr.seconds) if doc.ocr else (0, 0.0)
    return pages, seconds, time.process_time() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def ocr_figures() -> None:
    from concurrent.futures import ProcessPoolExecutor

    from crawler.mock.scans import scanned_report

    text_pdf = (FIX / "realdocs" / "02-hongze-gov-2024.pdf").read_bytes()
    for label, data in (("text PDF", text_pdf), ("scanned PDF", scanned_report())):
        with ProcessPoolExecutor(max_workers=1) as pool:  # a fresh worker each, as ingest forks them
            pages, ocr_s, cpu_s, rss = pool.submit(_worker_parse, data).result()
        per_page = f"OCR {ocr_s / pages:5.1f} CPU-s/page ({pages} pages, {cpu_s:.1f} CPU-s in all)" if pages else ""
        print(f"worker parsing a {label:11s}: peak memory {rss:4d} MB  {per_page}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--no-ocr", action="store_true", help="skip the OCR figures (they take a minute)")
    args = ap.parse_args()
    docs = corpus()
    for kind in ("text", "html"):
        per_s, n = rate(docs[kind], args.seconds)
        print(f"{kind:5s} {len(docs[kind]):3d} documents  {per_s:8.1f} reports/s  ({n} parses)")
    per_s, n = rate(docs["pdf"], args.seconds)
    pages = pdf_pages(docs["pdf"])
    ours = len(docs["pdf"]) / per_s  # seconds for one pass over the PDFs
    print(f"pdf   {len(docs['pdf']):3d} documents  {per_s:8.1f} reports/s  {ours / pages * 1000:6.2f} ms/page  ({pages} pages)")
    base = plumber_seconds(docs["pdf"], rounds=3)
    print(f"pdfplumber find_tables() baseline: {base / pages * 1000:6.2f} ms/page  -> nianbao is {base / ours:.1f}x faster")
    if not args.no_ocr:
        ocr_figures()


if __name__ == "__main__":
    main()
