"""Every input format real portals use, and the ways real files go wrong."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.errors import ExtractError, NianbaoError
from archive.extract.text import _bars_after_text, _double_spaced, _separated, _special, _tokens, text_lines, width
from archive.parse import parse_bytes, parse_file
from crawler.mock.documents import to_docx, to_html_body, to_pdf

FIX = Path(__file__).parent / "fixtures"
SEED_004 = (FIX / "seeds/004_5508c84fc82701dc.txt").read_text("utf-8")
GOLD_004 = parse_file(FIX / "seeds/004_5508c84fc82701dc.txt").cells
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")


def html_page(body: str, charset: str = "utf-8", title: str = "凤泉区人民政府2021年政府信息公开工作年度报告") -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title></head>'
        f'<body><table class="layout"><tr><td><div class="TRS_Editor">{body}</div></td></tr></table></body></html>'
    )


def test_html_inline_tables_in_layout_table():
    page = html_page(f"<p>凤泉区人民政府 2021 年政府信息公开工作年度报告</p>{to_html_body(SEED_004)}")
    report = parse_bytes(page.encode("utf-8"), "r.html")
    assert report.cells == GOLD_004
    assert report.agency == "凤泉区人民政府" and report.year == 2021


@pytest.mark.parametrize("declared", ["gb2312", "utf-8", None])
def test_html_gbk_bytes_declared_or_mislabelled(declared):
    page = html_page(to_html_body(SEED_004), charset=declared or "x")
    if declared is None:
        page = page.replace('<meta charset="x">', "")
    report = parse_bytes(page.encode("gbk"), "r.html", content_type=f"text/html; charset={declared or ''}")
    assert report.cells == GOLD_004
    assert report.year == 2021


def test_html_utf8_bytes_labelled_gbk():
    page = html_page(to_html_body(SEED_004), charset="gbk")
    report = parse_bytes(page.encode("utf-8"), "r.html", content_type="text/html; charset=GBK")
    assert report.cells == GOLD_004


def test_html_rowspan_colspan_nbsp_nested_tags_signed_units():
    """A 2019-format table as CMS editors write it (Shanghai-style)."""
    rows = [
        '<tr><td colspan="4"><p align="center"><span>第二十条第（五）项</span></p></td></tr>',
        "<tr><td>信息内容</td><td>上一年<br/>项目数量</td><td>本年增/减</td><td>处理决定数量</td></tr>",
        "<tr><td><p><b>行政许可</b></p></td><td>1,036</td><td>+19</td><td>1,055件</td></tr>",
        "<tr><td>其他对外管理服务事项</td><td>&nbsp;</td><td>－8</td><td>—</td></tr>",
        "<tr><td>其他主动公开文件</td><td>5</td><td>1</td><td>6</td></tr>",  # a provincial extra row
        '<tr><td colspan="4">第二十条第（九）项</td></tr>',
        "<tr><td>信息内容</td><td>采购项目数量</td><td colspan=2>采购总金额</td></tr>",
        "<tr><td>政府集中采购</td><td>6</td><td colspan=2>251000元</td></tr>",
    ]
    requests = [
        '<tr><td colspan="3" rowspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td><td colspan="7">申请人情况</td></tr>',
        '<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>',
        "<tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>",
        '<tr><td colspan="3">一、本年新收政府信息公开申请数量</td><td>821</td><td>35</td><td>&nbsp;</td><td>/</td><td>2</td><td>1</td><td>859</td></tr>',
        '<tr><td rowspan="20">三、本年度办理结果</td><td colspan="2">（一）予以公开</td><td>258</td><td>12</td><td></td><td></td><td>1</td><td>1</td><td>272</td></tr>',
        '<tr><td colspan="2">（六）其他处理</td><td>3</td><td></td><td></td><td></td><td></td><td></td><td>3</td></tr>',
    ]
    page = html_page(
        "<p>2019年上海市人民政府办公厅政府信息公开工作年度报告</p><p>二、主动公开政府信息情况</p>"
        f"<table>{''.join(rows)}</table><p>三、收到和处理政府信息公开申请情况</p><table>{''.join(requests)}</table>",
        title="x",
    )
    report = parse_bytes(page.encode(), "r.html")
    c = report.cells
    assert (c["disclosure.licensing.prev_items"], c["disclosure.licensing.change"], c["disclosure.licensing.decisions"]) == (
        1036,
        19,
        1055,
    )
    assert (
        c["disclosure.other_services.prev_items"],
        c["disclosure.other_services.change"],
        c["disclosure.other_services.decisions"],
    ) == (None, -8, None)
    assert c["disclosure.procurement.projects"] == 6 and c["disclosure.procurement.amount"] == pytest.approx(25.1)
    assert [
        c[f"requests.new.{k}"]
        for k in ("natural_person", "commercial", "research", "social_org", "legal_service", "other_org", "total")
    ] == [821, 35, None, None, 2, 1, 859]
    assert c["requests.other.natural_person"] == 3 and "requests.other_other.natural_person" not in c
    assert not any("其他主动公开文件" in k for k in c) and len([k for k in c if k.startswith("disclosure.")]) == 8
    assert report.template == "2019" and report.agency == "上海市人民政府办公厅" and report.year == 2019


def test_template_from_labels_not_year_and_mixed():
    old_columns = (
        SEED_004.replace("本年制发件数\t本年废止件数\t现行有效件数", "本年新制作数量\t本年新公开数量\t对外公开总数量")
        .replace("本年处理决定数量", "上一年项目数量\t本年增/减\t处理决定数量")
        .replace("行政许可\t6467", "行政许可\t1\t+2\t6467")
    )
    report = parse_bytes(old_columns.encode(), "r.txt")
    assert report.template == "mixed"  # 2019 table 二, 2021 （六） sub-rows in table 三
    assert report.cells["disclosure.rules.made"] == 0 and report.cells["disclosure.licensing.change"] == 2


def test_docx_tables():
    report = parse_bytes(to_docx(SEED_004), "r.docx")
    assert report.cells == GOLD_004 and report.agency == "凤泉区人民政府"


def test_docx_sniffed_without_extension():
    assert parse_bytes(to_docx(SEED_004), "downfile.jsp").cells == GOLD_004


@needs_soffice
@pytest.mark.parametrize("name", ["report.doc", "report.wps"])
def test_doc_and_wps_through_libreoffice(name):
    report = parse_bytes((FIX / "seed004.doc").read_bytes(), name)
    assert report.cells == GOLD_004 and report.year == 2021


def test_doc_without_libreoffice_says_so(tmp_path):
    doc = tmp_path / "r.doc"
    doc.write_bytes((FIX / "seed004.doc").read_bytes())
    proc = subprocess.run(
        [sys.executable, "-c", "from scheduler import cli; cli()", "parse", str(doc)],
        capture_output=True,
        text=True,
        env={"PATH": "/nonexistent"},
        cwd=Path(__file__).parent.parent,
    )
    assert proc.returncode == 1
    assert "LibreOffice" in proc.stderr and "not installed" in proc.stderr and "Traceback" not in proc.stderr


def test_pdf_tables_broken_across_pages():
    report = parse_file(FIX / "realdocs/01-huaian-gov-2024.pdf")
    assert report.cells["requests.unable_need_creation.natural_person"] == 11  # its group label starts on the page before
    assert report.cells["disclosure.fees.amount"] == pytest.approx(96171.6)


@pytest.mark.parametrize(
    "name,message",
    [
        ("encrypted.pdf", "encrypted PDF"),
        ("truncated.pdf", "corrupt"),
    ],
)
def test_bad_pdfs(name, message):
    with pytest.raises(ExtractError, match=message):
        parse_file(FIX / name)


@pytest.mark.parametrize(
    "data,name,message",
    [
        (b"", "a.pdf", "empty"),
        (b"   \n", "a.txt", "empty"),
        (b"PK\x03\x04broken", "a.docx", "corrupt Office"),
        (b"\x00\x01\x02\x03" * 100, "a.bin", "unsupported"),
    ],
)
def test_unreadable_inputs(data, name, message):
    with pytest.raises(ExtractError, match=message):
        parse_bytes(data, name)


def test_docx_entity_expansion_refused():
    docx = to_docx("x")
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 1)
            dst.writestr(item, data)
    with pytest.raises(ExtractError, match="entity"):
        parse_bytes(buf.getvalue(), "r.docx")


def test_not_an_annual_report_is_a_normal_result():
    report = parse_bytes(
        "<html><body><h1>关于开展安全生产检查的通知</h1><p>各单位：请于3月1日前……</p></body></html>".encode(), "n.html"
    )
    assert (report.template, report.cells, report.agency) == (None, {}, None)
    assert report.findings == []


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: t,  # tab rows
        lambda t: "\n".join(l.lstrip("\t") for l in t.splitlines()),  # rows that lost their leading tabs
        lambda t: "\n".join("| " + " | ".join(l.split("\t")) + " |" if "\t" in l else l for l in t.splitlines()),  # markdown
        lambda t: "\n".join(c + " |" for l in t.splitlines() for c in (l.split("\t") if "\t" in l else [l])),  # one cell per line
    ],
)
def test_text_layouts(variant):
    report = parse_bytes(variant(SEED_004).encode(), "r.txt")
    got = dict(report.cells.items())
    assert got == GOLD_004


@given(st.text(alphabet="|| \t\n\u3000\u00a0a中", max_size=40))
@settings(max_examples=500, deadline=None)
def test_bars_after_text_counted_as_the_pattern_says(sample):
    """The pipe style's count of bars after a cell's text (read off the stretches between
    bars) is what the regular expressions defining it find."""
    hugging, detached = re.compile(r"[^|\s]\|"), re.compile(r"[^|\s] +\|")
    assert _bars_after_text(sample) == (len(hugging.findall(sample)), len(detached.findall(sample)))


def test_bars_after_text_tells_hugging_from_detached():
    assert _bars_after_text("a| b| c|") == (3, 0)
    assert _bars_after_text("| a | b |\n| 1 | |") == (0, 3)


@given(st.text(alphabet=" \t\u3000\u00a0|-=│─a中", max_size=12))
@settings(max_examples=500, deadline=None)
def test_special_lines_as_defined(raw):
    """A line that may be more than one cell: a separator, a rule or box character, two
    spaces or an ideographic space inside it, or white space only."""
    inner = raw.strip()
    marks = ("|", "--", "==", "│", "─", "┃", "║", "━", "═", "  ", "\u3000")
    assert _special(raw) == ("\t" in raw or any(m in inner for m in marks) or (not inner and raw != inner))


_WORDS = st.sampled_from(["规章", "行政许可", "12", "0", "3.5", "a", "（一）", "本年新收", "-", "\u00a0"])
_GAPS = st.sampled_from([" ", "  ", "   ", "\u3000", "\u3000\u3000", " \u3000", "\u3000 ", "\t"])


@given(st.lists(st.tuples(_GAPS, _WORDS), min_size=1, max_size=8), st.sampled_from(["", " ", "\u3000"]))
@settings(max_examples=400, deadline=None)
def test_aligned_tokens_keep_their_display_columns(parts, lead):
    """Runs split at two spaces or more, at a tab or at any ideographic space (a gap two
    columns wide), never at one space; each run starts at the display column where it was
    printed, whatever ideographic spaces came before it."""
    line = lead + "".join(gap + word for gap, word in parts)[1:]
    expected, column, start, run = [], 0, None, ""
    for k, ch in enumerate(line):
        gap = ch in " \t\u3000" and (ch != " " or line[k + 1 : k + 2] in (" ", "\t", "\u3000", "") or not run)
        if gap and run:
            expected.append((start, run))
            run, start = "", None
        elif not gap:
            if start is None:
                start = column
            run += ch
        column += width(ch)
    if run:
        expected.append((start, run))
    if "\t" in line:
        return  # tabs separate cells before columns are read; _tokens is never given them
    got = [(a, b, text) for a, b, text in _tokens(line)]
    assert [a for a, _, _ in got] == [a for a, _ in expected]
    assert [b - a for a, b, _ in got] == [sum(map(width, run)) for _, run in expected]


_LAYOUT = st.sampled_from(
    ["规章", "行政许可", "12", "0", " ", "  ", "\u3000", "\t", "|", "||", "--", "─", "│", "\u00a0", "#", ":"]
)


@given(st.lists(st.lists(_LAYOUT, max_size=8).map("".join), max_size=30).map("\n".join))
@settings(max_examples=400, deadline=None)
def test_any_text_layout_reads_without_crashing(text):
    """Whatever mixes of separators, rules, full-width and non-breaking spaces a text dump
    holds, it becomes lines of cells, and parsing it either reads or says why not."""
    for line in text_lines(text):
        assert all(isinstance(cell, str) for cell in line.cells)
        assert line.spans is None or len(line.spans) == len(line.cells)
    try:
        parse_bytes(text.encode(), "r.txt")
    except NianbaoError:
        pass


def test_columns_aligned_with_ideographic_spaces():
    head = "二、主动公开政府信息情况\n信息内容  本年制发件数  本年废止件数  现行有效件数\n"
    for row in ("规章\u30001  2  3", "规章\u3000\u30001\u3000\u30002\u3000\u30003", "规章    1  2  3"):
        cells = parse_bytes((head + row + "\n").encode(), "r.txt").cells
        assert [cells[f"disclosure.rules.{c}"] for c in ("issued", "repealed", "in_force")] == [1, 2, 3], row


@given(st.lists(st.sampled_from(["", " ", "\u3000", "\t", "规章", "12", "行政许可 |"]), max_size=40))
@settings(max_examples=500, deadline=None)
def test_double_spaced_as_defined(lines):
    """Cells one blank line apart: at least nine cells, and at least 70 % of the gaps between
    consecutive cells hold a blank line (however the decision is reached quickly)."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    spaced = sum(1 for a, b in zip(content, content[1:]) if b - a > 1)
    assert _double_spaced(lines) == (len(content) >= 9 and spaced >= 0.7 * (len(content) - 1))


def test_separated_rows_are_grid_rows_spanning_their_order():
    line = _separated(["规章", "", "3"], True, 7)
    assert (line.cells, line.hard, line.grid, line.space, line.filler, line.monospace) == (
        ["规章", "", "3"],
        True,
        True,
        7,
        False,
        False,
    )
    assert line.spans == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)] and line.page is None and line.scores is None
    assert _separated(["x"] * 70, False, 1).spans[-1] == (69.0, 70.0)


def test_pdfium_generates_only_white_space():
    """The PDF reader skips white space and no more: every character PDFium generates (not
    in the file: the spaces and line breaks it inserts) must be white space, on the real
    reports' PDFs and a mock portal's."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    from crawler.mock.documents import to_pdf

    datas = [p.read_bytes() for p in sorted((FIX / "realdocs").glob("*.pdf"))] + [to_pdf(SEED_004)]
    generated = 0
    for data in datas:
        pdf = pdfium.PdfDocument(data)
        for page in pdf:
            textpage = page.get_textpage()
            for i in range(pdfium_c.FPDFText_CountChars(textpage.raw)):
                if pdfium_c.FPDFText_IsGenerated(textpage.raw, i) == 1:
                    generated += 1
                    assert pdfium_c.FPDFText_GetUnicode(textpage.raw, i) <= 32
    assert len(datas) >= 3 and generated > 100


def test_scanned_pdf_without_text_layer():
    import io

    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    pdf.new_page(595, 842)
    buf = io.BytesIO()
    pdf.save(buf)
    report = parse_bytes(buf.getvalue(), "scan.pdf")
    assert report.template is None and report.cells == {}
    assert [f.rule for f in report.findings] == ["document.no_text"]


def test_provincial_label_guidance_and_extra_row_with_a_blank_row():
    """Hubei 2020 style: guidance in parentheses inside labels, an extra row, and
    a fees row printed with no cells at all: the extra row's numbers must not be
    given to the empty row."""
    text = "\n".join(
        [
            "二、主动公开政府信息情况",
            "第二十条第(一)项",
            "信息内容\t本年新制作数量\t本年新公开数量\t对外公开总数量",
            "规章（设区的市、自治州人民政府应提供相关数据）\t0\t0\t0",
            "规范性文件\t2\t2\t30",
            "其他主动公开文件\t5\t5\t40",
            "第二十条第(五)项",
            "信息内容\t上一年项目数量\t本年增/减\t处理决定数量（指2020年办件量）",
            "行政许可\t10\t-2\t8",
            "第二十条第(八)项",
            "信息内容\t上一年项目数量\t本年增/减",
            "行政事业性收费",
        ]
    )
    report = parse_bytes(text.encode(), "r.txt")
    c = report.cells
    assert (c["disclosure.rules.made"], c["disclosure.normative_docs.public_total"]) == (0, 30)
    assert c["disclosure.licensing.change"] == -2 and c["disclosure.licensing.decisions"] == 8
    assert not any(k.startswith("disclosure.fees") for k in c)
    assert any(f.rule == "row.unattributed" and "5 5 40" in f.message for f in report.findings)


def _xlsx(rows: list[list[str]], number=None) -> bytes:
    """A minimal real XLSX workbook with one sheet: text as inline strings; with ``number``,
    numbers as numeric cells holding ``number(value)`` (how a spreadsheet stored them)."""
    import io
    import zipfile
    from xml.sax.saxutils import escape

    def col(i):
        return chr(65 + i) if i < 26 else chr(64 + i // 26) + chr(65 + i % 26)

    def cell(ref: str, v: str) -> str:
        if number is not None and re.fullmatch(r"\d+(?:\.\d+)?", v):
            return f'<c r="{ref}"><v>{number(v)}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'

    sheet = "".join(
        f'<row r="{r + 1}">' + "".join(cell(f"{col(i)}{r + 1}", v) for i, v in enumerate(row) if v) + "</row>"
        for r, row in enumerate(rows)
    )
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        zf.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {ns}><sheets/></workbook>')
        zf.writestr(
            "xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><worksheet {ns}><sheetData>{sheet}</sheetData></worksheet>'
        )
    return buf.getvalue()


def test_xlsx_attachment():
    rows = [line.split("\t") if "\t" in line else [line] for line in SEED_004.splitlines() if line.strip()]
    report = parse_bytes(_xlsx(rows), "附件.xlsx")
    assert report.cells == GOLD_004 and report.year == 2021


_STORED = [
    lambda v: v,  # as typed
    lambda v: repr(float(v)),  # 12.0
    lambda v: repr(float(v) + float(v) * 1.5e-16),  # a formula's result: 95.000000000000014
    lambda v: f"{float(v):E}",  # 1.200000E+01
]


@given(st.lists(st.sampled_from(range(len(_STORED))), min_size=1, max_size=8))
@settings(max_examples=60, deadline=None)
def test_xlsx_numeric_cells_read_as_the_spreadsheet_shows_them(forms):
    """Numbers in numeric cells, however the file stores the double (a formula's total keeps
    a binary fraction's noise), read as the sheet shows them: the seed's own cells."""
    rows = [line.split("\t") if "\t" in line else [line] for line in SEED_004.splitlines() if line.strip()]
    k = iter(range(10**6))
    report = parse_bytes(_xlsx(rows, lambda v: _STORED[forms[next(k) % len(forms)]](v)), "附件.xlsx")
    assert report.cells == GOLD_004


@given(st.lists(st.booleans(), min_size=1, max_size=40), st.sampled_from(["①", "⑴", "¹", "※"]))
@settings(max_examples=60, deadline=None)
def test_footnote_marks_on_numbers_change_no_cell(marked, mark):
    """A report whose numbers carry footnote marks (12① — see note ① below the table) reads
    the numbers as printed, each in its own cell; ※ is no mark NFKC turns into a digit."""
    k = iter(range(10**6))

    def cell(m: re.Match) -> str:
        return m.group() + (mark if marked[next(k) % len(marked)] else "")

    text = re.sub(r"(?<=\t)\d+(?=\t|$)", cell, SEED_004, flags=re.M)
    cells = parse_bytes(text.encode(), "r.txt").cells
    if mark == "※":  # a mark that is no digit form: the cell is text, the number not read
        assert all(cells.get(key) in (GOLD_004[key], None) for key in GOLD_004)
    else:
        assert cells == GOLD_004


def _docx_with_marks(text: str, marked, mark: str) -> bytes:
    """SEED text as Word tables, each number followed by a superscript run holding ``mark``
    where ``marked`` says so."""
    import io
    import zipfile

    k = iter(range(10**6))
    raised = f'<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:t>{mark}</w:t></w:r>'

    def number(m: re.Match) -> str:
        return m.group() + (raised if marked[next(k) % len(marked)] else "")

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(to_docx(text))) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = re.sub(r'<w:r><w:t xml:space="preserve">\d+</w:t></w:r>', number, data.decode()).encode()
            dst.writestr(item, data)
    return out.getvalue()


@given(st.lists(st.booleans(), min_size=1, max_size=40), st.sampled_from(["1", "2", "12", "①"]))
@settings(max_examples=40, deadline=None)
def test_raised_footnote_numbers_change_no_cell(marked, mark):
    """12<sup>1</sup> in a page, or a Word run printed superscript after 12, is 12 with
    note 1: never 121."""
    k = iter(range(10**6))

    def sup(m: re.Match) -> str:
        return m.group() + (f"<sup>{mark}</sup>" if marked[next(k) % len(marked)] else "")

    page = re.sub(r"(?<=<td>)\d+(?=</td>)", sup, to_html_body(SEED_004))
    assert parse_bytes(html_page(page).encode(), "r.html").cells == GOLD_004
    assert parse_bytes(_docx_with_marks(SEED_004, marked, mark), "r.docx").cells == GOLD_004


@given(st.lists(st.booleans(), min_size=1, max_size=30), st.sampled_from(["1", "2", "3"]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_pdf_footnote_marks_raised_beside_numbers_change_no_cell(monkeypatch, marked, mark):
    """A PDF prints a footnote mark as a small digit raised after a number (12¹): it is no
    digit of the number, and never a number of its own on the line above."""
    import crawler.mock.documents as documents

    plain = documents._pdf_text
    k = iter(range(10**6))

    def with_marks(x: float, y: float, size: float, text: str) -> str:
        op = plain(x, y, size, text)
        if text.isdigit() and marked[next(k) % len(marked)]:
            op += "\n" + plain(x + documents._text_width(text, size) + 0.3, y + size * 0.45, size * 0.55, mark)
        return op

    with monkeypatch.context() as patch:  # each example draws from the plain writer
        patch.setattr(documents, "_pdf_text", with_marks)
        data = to_pdf(SEED_004)
    assert parse_bytes(data, "r.pdf").cells == GOLD_004
