"""One report, many renderings: the matrix behind the rendering-invariance tests.

A report's cells must not depend on how its tables were turned into text. For
every real document and seed with hand-checked gold, :func:`model` rebuilds the
report as printed — its own prose (title, introduction) and the three tables
of the national template as grids with merged cells, holding the gold values
(blank where gold is null, rows the document does not show left out) — and
:data:`RENDERINGS` turns it into the forms reports reach us in: our own
writers (HTML page, Word, Excel, PDF), the text forms search indexes and
copy-paste produce (pipe rows with and without outer bars, one cell per line,
tabs, markdown, rows spread over lines, wrapped labels, traditional
characters), and the dumps of real converters run on the HTML (html2text,
markdownify, pandoc, w3m, lynx, BeautifulSoup, LibreOffice).

``python tests/renderings.py`` prints the matrix (document × rendering).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from archive.extract import extract  # noqa: E402
from archive.normalize import fmt_number  # noqa: E402
from archive.tables import split_regions  # noqa: E402
from archive.template import APPEALS, APPLICANT_COLUMNS, DISCLOSURE, REQUESTS  # noqa: E402
from crawler.mock.documents import Block, Cell, docx, html_body, pdf, place, xlsx  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
_SUB_GROUPS = ("（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理")
_G3 = "三、本年度办理结果"


@dataclass
class Model:
    """A report as printed: prose before the tables, the tables, prose after."""

    name: str
    gold: dict
    before: list[str]
    tables: list[tuple[str, list[list[Cell]]]] = field(default_factory=list)
    after: list[str] = field(default_factory=list)

    def blocks(self) -> list[Block]:
        out = [Block("p", text=t) for t in self.before]
        for heading, rows in self.tables:
            if heading:
                out.append(Block("p", text=heading))
            out.append(Block("table", rows=rows))
        out += [Block("p", text=t) for t in self.after]
        return out


# ---------------------------------------------------------------------------
# The national template as printed, filled with a report's cells
# ---------------------------------------------------------------------------


def _text(value) -> str:
    return "" if value is None else fmt_number(value)


def _values(cells: dict, prefix: str, columns: tuple[str, ...]) -> list[Cell]:
    """A row's value cells; cells the report does not show at the end of a row are not printed."""
    keys = [f"{prefix}.{c}" for c in columns]
    while keys and keys[-1] not in cells:
        keys.pop()
    return [Cell(_text(cells.get(k))) for k in keys]


def _disclosure(cells: dict, template: str) -> list[list[Cell]]:
    layout = "2019" if template in ("2019", "mixed") else "2021"
    rows: list[list[Cell]] = []
    for group in DISCLOSURE.groups:
        members = [r for r in DISCLOSURE.rows if r.group == group and layout in r.templates]
        members = [r for r in members if any(k.startswith(f"disclosure.{r.key}.") for k in cells)]
        if not members:
            continue
        rows.append([Cell(group, colspan=4)])
        columns = members[0].column_keys(layout, DISCLOSURE)
        header = [Cell("信息内容")]
        for i, key in enumerate(columns):
            column = DISCLOSURE.column(key)
            label = next((v for v in column.labels if "采购" in v), column.label) if group.endswith("（九）项") else column.label
            header.append(Cell(label, colspan=4 - len(columns) if i == len(columns) - 1 else 1))
        rows.append(header)
        for row in members:
            values = _values(cells, f"disclosure.{row.key}", row.column_keys(layout, DISCLOSURE))
            if values:
                values[-1].colspan = 4 - len(values)
            rows.append([Cell(row.label), *values])
    return rows


def _requests(
    cells: dict, organisations: tuple[str, ...] = APPLICANT_COLUMNS[1:], order: tuple[str, ...] | None = None
) -> list[list[Cell]]:
    """The requests table; ``organisations``: the order its header prints the columns under
    法人或其他组织 in (a province's own order); ``order``: every column's, 自然人 and 总计
    included (总计 first, 自然人 after the organisations), the organisations kept together."""
    has_total = any(k.startswith("requests.") and k.endswith(".total") for k in cells)
    order = order or ("natural_person", *organisations, "total")
    columns = tuple(c for c in order if c != "total" or has_total)
    present = [r for r in REQUESTS.rows if any(k.startswith(f"requests.{r.key}.") for k in cells)]
    second: list[Cell] = []
    for c in columns:
        if c in APPLICANT_COLUMNS[1:]:
            if not any(cell.text == "法人或其他组织" for cell in second):
                second.append(Cell("法人或其他组织", colspan=5))
        else:
            second.append(Cell(REQUESTS.column(c).label, rowspan=2))
    rows: list[list[Cell]] = [
        [Cell(NOTE, colspan=3, rowspan=3), Cell("申请人情况", colspan=len(columns))],
        second,
        [Cell(REQUESTS.column(c).label) for c in columns if c in APPLICANT_COLUMNS[1:]],
    ]
    outcome = [r for r in present if r.group is not None]
    for row in present:
        values = _values(cells, f"requests.{row.key}", columns)
        if row.group is None:
            rows.append([Cell(row.label, colspan=3), *values])
            continue
        lead: list[Cell] = []
        if row is outcome[0]:
            lead.append(Cell(_G3, rowspan=len(outcome)))
        if row.group in _SUB_GROUPS:
            group_rows = [r for r in outcome if r.group == row.group]
            if row is group_rows[0]:
                lead.append(Cell(row.group, rowspan=len(group_rows)))
            rows.append([*lead, Cell(row.label), *values])
        else:
            rows.append([*lead, Cell(row.label, colspan=2), *values])
    return rows


def _appeals(cells: dict) -> list[list[Cell]]:
    labels = [c.label for c in APPEALS.columns]
    values = [Cell(_text(cells.get(f"appeals.{r.key}.{c.key}"))) for r in APPEALS.rows for c in APPEALS.columns]
    return [
        [Cell("行政复议", colspan=5), Cell("行政诉讼", colspan=10)],
        [*(Cell(label, rowspan=2) for label in labels), Cell("未经复议直接起诉", colspan=5), Cell("复议后起诉", colspan=5)],
        [Cell(label) for label in labels * 2],
        values,
    ]


def template_tables(cells: dict, template: str) -> list[tuple[str, list[list[Cell]]]]:
    """The three tables of the national template as printed, holding ``cells``."""
    out = []
    for table, build in ((DISCLOSURE, lambda c: _disclosure(c, template)), (REQUESTS, _requests), (APPEALS, _appeals)):
        mine = {k: v for k, v in cells.items() if k.startswith(table.key + ".")}
        if mine:
            out.append((table.title, build(mine)))
    return out


def _prose(path: Path) -> tuple[list[str], list[str]]:
    """The document's own lines before its first table and after its last one."""
    doc = extract(path.read_bytes(), path.name)
    regions = split_regions(doc.lines)
    used = sorted(i for lines in regions.values() for i, _ in lines)
    if not used:
        return [line.text for line in doc.lines], []
    texts = [line.text for line in doc.lines]
    first, last = used[0], used[-1]
    return [t for t in texts[:first] if t.strip()], [t for t in texts[last + 1 :] if t.strip()]


def model(path: Path, gold: dict) -> Model:
    before, after = _prose(path)
    tables = template_tables(gold["cells"], gold.get("template") or "2021")
    return Model(path.name, gold, before, tables, after)


def with_cell(m: Model, key: str, value) -> Model:
    """The same report with one cell printed differently."""
    gold = {**m.gold, "cells": {**m.gold["cells"], key: value}}
    return replace(m, gold=gold, tables=template_tables(gold["cells"], gold.get("template") or "2021"))


def with_organisations(m: Model, order: tuple[str, ...]) -> Model:
    """The same report with the columns under 法人或其他组织 printed in another order."""
    tables = [(h, _requests(m.gold["cells"], order) if h.startswith(REQUESTS.title) else rows) for h, rows in m.tables]
    return replace(m, tables=tables)


def with_column_order(m: Model, order: tuple[str, ...]) -> Model:
    """The same report with the requests table's columns printed in ``order`` (every column)."""
    tables = [(h, _requests(m.gold["cells"], order=order) if h.startswith(REQUESTS.title) else rows) for h, rows in m.tables]
    return replace(m, tables=tables)


def with_headings(m: Model, style: str) -> Model:
    """The same report with its table headings left out ("none") or printed as the first
    row of each table ("row"), as some portals do."""
    if style == "none":
        return replace(m, tables=[("", rows) for _, rows in m.tables])
    _, width = place(m.tables[0][1]) if m.tables else (None, 0)
    tables = []
    for heading, rows in m.tables:
        _, width = place(rows)
        tables.append(("", [[Cell(heading, colspan=width)], *rows]))
    return replace(m, tables=tables)


def run_together(m: Model, table_key: str, label: str, drop: int, keep_grid: bool) -> Model:
    """The same report with one row's numbers printed in its label's cell, one of them
    left out and their cells emptied (``keep_grid``) or not printed (``规章 5 7 |  |  |``,
    as a portal's editor pastes them): which column each number belongs to is lost."""
    tables = []
    for heading, rows in m.tables:
        out = []
        for row in rows:
            at = next((i for i, c in enumerate(row) if c.text == label), None)
            if at is None or not heading.startswith(_TITLES[table_key]):
                out.append(row)
                continue
            texts = [c.text for c in row[at + 1 :] if c.text]
            del texts[drop]
            lead = [*row[:at], replace(row[at], text=" ".join([label, *texts]))]
            out.append(lead + ([replace(c, text="") for c in row[at + 1 :]] if keep_grid else []))
        tables.append((heading, out))
    return replace(m, tables=tables)


_TITLES = {"disclosure": DISCLOSURE.title, "requests": REQUESTS.title, "appeals": APPEALS.title}


def blank(m: Model) -> Model:
    """The same report with every table cell printed blank."""
    gold = {**m.gold, "cells": dict.fromkeys(m.gold["cells"])}
    return replace(m, gold=gold, tables=template_tables(gold["cells"], gold.get("template") or "2021"))


@cache
def fixtures() -> list[tuple[Path, dict]]:
    out = []
    for folder in ("seeds", "realdocs"):
        for gold in sorted((FIXTURES / folder).glob("*.gold.json")):
            stem = gold.name[: -len(".gold.json")]
            doc = next(p for p in gold.parent.glob(stem + ".*") if not p.name.endswith(".gold.json"))
            out.append((doc, json.loads(gold.read_text("utf-8"))))
    return out


# ---------------------------------------------------------------------------
# Text forms of a grid
# ---------------------------------------------------------------------------


def _spread(rows: list[list[Cell]]) -> list[list[str]]:
    """Rows as converters that draw the grid write them: a merged cell keeps its columns
    (an empty cell for every further column it covers, and under a rowspan)."""
    placed, width = place(rows)
    grid = [[""] * width for _ in rows]
    for p in placed:
        grid[p.row][p.col] = p.cell.text
    return grid


def _printed(rows: list[list[Cell]]) -> list[tuple[list[str], int]]:
    """Rows as search indexes write them: each printed cell once (blank ones empty), and the
    columns merged cells cover as padding at the row's end."""
    placed, width = place(rows)
    out: list[list[str]] = [[] for _ in rows]
    for p in placed:
        out[p.row].append(p.cell.text)
    return [(r, width - len(r)) for r in out]


def _text_form(m: Model, table_lines: Callable[[list[list[Cell]]], list[str]]) -> str:
    lines = list(m.before)
    for heading, rows in m.tables:
        if heading:
            lines.append(heading)
        lines += table_lines(rows)
    return "\n".join(lines + m.after) + "\n"


def _index_rows(rows):  # 规章 | 0 | 0 | 0 |    (a bar after every cell, padding at the end)
    return [" | ".join(r) + " | " + "|" * pad for r, pad in _printed(rows)]


def _index_cells(rows):  # one cell per line, "|" for an empty cell, "||" padding
    out = []
    for r, pad in _printed(rows):
        out += [f"{c} |" if c else "|" for c in r]
        if pad:
            out.append("|" * pad)
    return out


def _blank_lines(rows):  # one cell per line, cells separated by a blank line, one more per empty cell
    out = []
    for r, _ in _printed(rows):
        for c in r:
            out += [c, ""] if c else [""]
    return out


def _text_form_spaced(m: Model) -> str:
    lines = []
    for text in m.before:
        lines += [text, ""]
    for heading, rows in m.tables:
        lines += ([heading, ""] if heading else []) + _blank_lines(rows)
    for text in m.after:
        lines += [text, ""]
    return "\n".join(lines) + "\n"


def _markdown(rows):
    grid = _spread(rows)
    lines = ["| " + " | ".join(r) + " |" for r in grid]
    return [lines[0], "|" + "---|" * len(grid[0]), *lines[1:]]


def _tabs(rows):
    return ["\t".join(r) for r in _spread(rows)]


def _split_rows(rows):  # "| " on a line of its own, then " cell  | " lines
    out = []
    for r, pad in _printed(rows):
        out.append("| ")
        out += [f" {c}  | " for c in r]
        if pad:
            out[-1] += "|" * pad
    return out


def _wrapped_labels(rows):  # long labels wrap onto the next line
    out = []
    for r, pad in _printed(rows):
        cells = list(r)
        if len(cells[0]) > 12 and any(cells[1:]):
            out.append(cells[0][:9])
            cells[0] = cells[0][9:]
        out.append(" | ".join(cells) + " | " + "|" * pad)
    return out


def _traditional(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


# ---------------------------------------------------------------------------
# Converters run on the HTML page
# ---------------------------------------------------------------------------


def html_page(m: Model) -> str:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>政府信息公开</title></head><body>'
        f'<div class="article">{html_body(m.blocks())}</div></body></html>'
    )


def _run(cmd: list[str], data: str, suffix: str = ".html") -> str:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"r{suffix}"
        src.write_text(data, encoding="utf-8")
        proc = subprocess.run([*cmd, str(src)], capture_output=True, timeout=120, check=True)
        return proc.stdout.decode("utf-8")


def _html2text(m: Model) -> str:
    import html2text

    h = html2text.HTML2Text()
    h.body_width = 0
    return h.handle(html_page(m))


def _markdownify(m: Model) -> str:
    import markdownify

    return markdownify.markdownify(html_page(m))


def _soup(m: Model) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html_page(m), "html.parser").get_text("\n")


_CONVERTED: dict[str, str] = {}  # HTML page → LibreOffice's text (one soffice start for many pages)


def libreoffice_batch(models: list[Model]) -> None:
    """Convert many pages in one LibreOffice run (each start costs seconds)."""
    pages = [html_page(m) for m in models if html_page(m) not in _CONVERTED]
    if not pages:
        return
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for i, page in enumerate(pages):
            src = Path(tmp) / f"r{i}.html"
            src.write_text(page, encoding="utf-8")
            names.append(str(src))
        cmd = [
            shutil.which("soffice") or "soffice",
            f"-env:UserInstallation=file://{tmp}/profile",
            "--headless",
            "--convert-to",
            "txt:Text (encoded):UTF8",
            "--outdir",
            tmp,
            *names,
        ]
        subprocess.run(cmd, capture_output=True, timeout=600, check=True)
        for i, page in enumerate(pages):
            _CONVERTED[page] = (Path(tmp) / f"r{i}.txt").read_text("utf-8-sig")


def _libreoffice(m: Model) -> str:
    libreoffice_batch([m])
    return _CONVERTED[html_page(m)]


def _pdftotext(*options: str) -> Callable[[Model], bytes]:
    """Poppler's pdftotext run on the PDF: ``-layout`` keeps columns aligned with spaces;
    without it, text comes in the PDF's reading order, block by block."""

    def render(m: Model) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "r.pdf"
            src.write_bytes(pdf(m.blocks()))
            cmd = ["pdftotext", *options, "-enc", "UTF-8", str(src), "-"]
            return subprocess.run(cmd, capture_output=True, timeout=120, check=True).stdout

    return render


@dataclass(frozen=True)
class Rendering:
    name: str
    render: Callable[[Model], bytes]
    filename: str
    needs: str | None = None  # a program or module the rendering runs
    # The form can print a row with fewer cells than the table has columns (a cell
    # the report does not show); forms that draw the grid print it as a blank.
    keeps_absent: bool = True
    # The form loses where blank cells were (lynx collapses them and does not keep a
    # row's values under their header): a row with blanks can only come out null, never
    # with a number in another cell.
    lossy: bool = False


def _utf8(fn) -> Callable[[Model], bytes]:
    return lambda m: fn(m).encode("utf-8")


def _dump(name: str, cmd: list[str], filename: str, lossy: bool = False) -> Rendering:
    """A converter's text dump of the HTML page (the program is the command's first word)."""
    return Rendering(name, _utf8(lambda m: _run(cmd, html_page(m))), filename, cmd[0], keeps_absent=False, lossy=lossy)


RENDERINGS: tuple[Rendering, ...] = (
    Rendering("html", lambda m: html_page(m).encode("utf-8"), "r.html"),
    Rendering("docx", lambda m: docx(m.blocks()), "r.docx", keeps_absent=False),
    Rendering("xlsx", lambda m: xlsx(m.blocks()), "r.xlsx", keeps_absent=False),
    Rendering("pdf", lambda m: pdf(m.blocks()), "r.pdf", keeps_absent=False),
    Rendering("index-rows", _utf8(lambda m: _text_form(m, _index_rows)), "r.txt", keeps_absent=False),
    Rendering("index-cells", _utf8(lambda m: _text_form(m, _index_cells)), "r.txt", keeps_absent=False),
    # double-spaced one-cell-per-line text says a blank cell only by an extra blank line: a
    # row that lost a cell, or blank cells at the very end of the text, cannot be told apart
    Rendering("double-spaced", _utf8(_text_form_spaced), "r.txt", keeps_absent=False, lossy=True),
    Rendering("markdown", _utf8(lambda m: _text_form(m, _markdown)), "r.md", keeps_absent=False),
    Rendering("tabs", _utf8(lambda m: _text_form(m, _tabs)), "r.txt", keeps_absent=False),
    Rendering("split-rows", _utf8(lambda m: _text_form(m, _split_rows)), "r.txt", keeps_absent=False),
    Rendering("wrapped-labels", _utf8(lambda m: _text_form(m, _wrapped_labels)), "r.txt", keeps_absent=False),
    Rendering("traditional", _utf8(lambda m: _traditional(_text_form(m, _index_rows))), "r.txt", "opencc", keeps_absent=False),
    Rendering("html2text", _utf8(_html2text), "r.md", "html2text"),
    Rendering("markdownify", _utf8(_markdownify), "r.md", "markdownify", keeps_absent=False),
    _dump("pandoc-gfm", ["pandoc", "-f", "html", "-t", "gfm-raw_html"], "r.md"),
    _dump("pandoc-plain", ["pandoc", "-f", "html", "-t", "plain-raw_html"], "r.txt"),
    _dump("w3m", ["w3m", "-dump", "-cols", "220", "-T", "text/html"], "r.txt"),
    _dump("lynx", ["lynx", "-dump", "-width=220", "-display_charset=utf-8", "-assume_charset=utf-8"], "r.txt", lossy=True),
    # one cell per line, where an empty line may be a blank cell or just layout: only a
    # non-breaking space says "blank", so a row short of a cell cannot be placed
    Rendering("soup-get-text", _utf8(_soup), "r.txt", keeps_absent=False, lossy=True),
    Rendering("libreoffice-txt", _utf8(_libreoffice), "r.txt", "soffice", keeps_absent=False, lossy=True),
    # columns aligned with spaces, but only approximately: a wide table drifts from its
    # header, so a row printing fewer cells than its header may not be placeable
    Rendering("pdftotext-layout", _pdftotext("-layout"), "r.txt", "pdftotext", keeps_absent=False, lossy=True),
    # reading order, block by block: a table's cells may come column by column or interleaved
    # with its header, so only cells whose place is certain may be read
    Rendering("pdftotext", _pdftotext(), "r.txt", "pdftotext", keeps_absent=False, lossy=True),
)


def available(r: Rendering) -> bool:
    if r.needs is None:
        return True
    if shutil.which(r.needs):
        return True
    try:
        __import__(r.needs)
        return True
    except ImportError:
        return False


# ---------------------------------------------------------------------------
# Comparing a parse with gold
# ---------------------------------------------------------------------------


def same(a, b) -> bool:
    return a == b and (a is None) == (b is None) and isinstance(a, bool) == isinstance(b, bool)


def differences(report, gold: dict, keeps_absent: bool = True) -> dict:
    """Every way the parse differs from gold: wrong or missing cells, cells invented,
    agency, year, template. A form that cannot print an absent cell may show it blank."""
    wrong = {}
    for key, value in gold["cells"].items():
        got = report.cells.get(key, "ABSENT")
        if not same(got, value):
            wrong[key] = (value, got)
    for key, got in report.cells.items():
        if key not in gold["cells"] and not (got is None and not keeps_absent):
            wrong[key] = ("ABSENT", got)
    if "agency" in gold and report.agency != gold["agency"] and report.agency not in gold.get("agency_aliases", []):
        wrong["agency"] = (gold["agency"], report.agency)
    for key in ("year", "template"):
        if key in gold and getattr(report, key) != gold[key]:
            wrong[key] = (gold[key], getattr(report, key))
    return wrong


def wrong_numbers(diff: dict) -> dict:
    """The differences that put a number where gold has another number, a blank, or nothing."""
    return {
        k: (want, got)
        for k, (want, got) in diff.items()
        if k not in ("agency", "year", "template") and isinstance(got, (int, float)) and not same(got, want)
    }


def own_rendering(path: Path) -> Rendering:
    """The rendering in the fixture's own format."""
    by_name = {r.name: r for r in RENDERINGS}
    if path.suffix in (".pdf", ".html", ".docx", ".xlsx"):
        return by_name[path.suffix[1:]]
    if path.suffix == ".md":
        return by_name["markdown"]
    text = path.read_text("utf-8")
    if "\t" in text:
        return by_name["tabs"]
    return by_name["index-cells" if "|" in text else "double-spaced"]


def matrix(skip: tuple[str, ...] = ()) -> list[tuple[str, str, int, int, dict]]:
    """(document, rendering, cells right, cells in gold, differences) for every pair."""
    from archive.parse import parse_bytes

    rows = []
    if "libreoffice-txt" not in skip and shutil.which("soffice"):
        libreoffice_batch([model(path, gold) for path, gold in fixtures()])
    for path, gold in fixtures():
        m = model(path, gold)
        for r in RENDERINGS:
            if not available(r) or r.name in skip:
                continue
            report = parse_bytes(r.render(m), r.filename)
            diff = differences(report, gold, r.keeps_absent)
            ok = sum(1 for k in gold["cells"] if k not in diff)
            rows.append((path.name, r.name, ok, len(gold["cells"]), diff))
    return rows


def main() -> None:
    skip = tuple(a[len("--skip=") :] for a in sys.argv if a.startswith("--skip="))
    rows = matrix(skip)
    names = [r.name for r in RENDERINGS if available(r) and r.name not in skip]
    docs = list(dict.fromkeys(d for d, *_ in rows))
    by = {(d, r): (ok, n, diff) for d, r, ok, n, diff in rows}
    print("document".ljust(34) + " ".join(n[:9].rjust(9) for n in names))
    for d in docs:
        cells = []
        for n in names:
            ok, total, diff = by[(d, n)]
            extra = [k for k in diff if k in ("agency", "year", "template")]
            cells.append((("OK" if not diff else f"{ok}/{total}") + ("*" if extra else "")).rjust(9))
        print(d[:33].ljust(34) + " ".join(cells))
    bad = sum(1 for *_, diff in rows if diff)
    print(f"{len(rows)} renderings, {len(rows) - bad} identical to gold (* = agency/year/template differ)")
    if "-v" in sys.argv:
        for d, r, _, _, diff in rows:
            if diff:
                print(d, r, list(diff.items())[:6])


if __name__ == "__main__":
    main()
