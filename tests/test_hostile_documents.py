"""Hostile and broken documents: the extractors and the parser either read them or
raise one of their documented errors (``NianbaoError``), within bounded work —
property-based tests (hypothesis) over random and mutated real documents, and
the classic attacks: zip bombs, thousands of PDF pages, very deep HTML."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.errors import ExtractError, NianbaoError
from archive.extract.pdf import MAX_PAGES
from archive.parse import parse_bytes
from crawler.mock.documents import to_docx

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = {
    "r.html": (FIXTURES / "realdocs" / "03-shanghai-govoffice-2019.html").read_bytes(),
    "r.pdf": (FIXTURES / "realdocs" / "02-hongze-gov-2024.pdf").read_bytes(),
    "r.docx": to_docx((FIXTURES / "realdocs" / "04-dawuli-town-2020-excerpt.txt").read_text(encoding="utf-8")),
    "r.txt": (FIXTURES / "realdocs" / "05-niuhua-town-2021-excerpt.txt").read_bytes(),
}


def _parse_or_documented_error(data: bytes, name: str) -> None:
    try:
        report = parse_bytes(data, name)
    except NianbaoError:
        return
    assert isinstance(report.cells, dict)
    report.to_contract()  # what `nianbao parse --json` prints must serialise


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), name=st.sampled_from(["x.pdf", "x.html", "x.docx", "x.xlsx", "x.txt", "x"]))
def test_random_bytes(data, name):
    _parse_or_documented_error(data, name)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    sample=st.sampled_from(sorted(SAMPLES)),
    cuts=st.lists(st.tuples(st.floats(0, 1), st.binary(max_size=16)), max_size=6),
    truncate=st.floats(0.05, 1),
)
def test_mutated_real_documents(sample, cuts, truncate):
    data = bytearray(SAMPLES[sample])
    for where, junk in cuts:  # overwrite a few spots with junk
        at = int(where * (len(data) - 1))
        data[at : at + len(junk)] = junk
    _parse_or_documented_error(bytes(data[: max(1, int(len(data) * truncate))]), sample)


def _docx_with(document_xml: bytes, level: int = 9) -> bytes:
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(to_docx("x")), "r") as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst,
    ):
        for item in src.infolist():
            dst.writestr(item.filename, document_xml if item.filename == "word/document.xml" else src.read(item))
    return buf.getvalue()


def test_docx_zip_bomb_is_refused_before_it_is_unpacked():
    bomb = _docx_with(b"<w:document>" + b" " * (300 * 1024 * 1024) + b"</w:document>")
    assert len(bomb) < 1024 * 1024  # 300 MB of XML in well under 1 MB
    with pytest.raises(ExtractError, match="zip bomb"):
        parse_bytes(bomb, "r.docx")


def test_docx_billion_laughs_is_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "lol">'
        + b"".join(b'<!ENTITY %s "%s">' % (chr(98 + i).encode(), (b"&%s;" % chr(97 + i).encode()) * 10) for i in range(9))
        + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">&j;</w:document>'
    )
    with pytest.raises(ExtractError, match="entity"):
        parse_bytes(_docx_with(laughs), "r.docx")


def test_pdf_with_thousands_of_pages_reads_a_bounded_number():
    pdf = pdfium.PdfDocument.new()
    for _ in range(MAX_PAGES * 4):
        pdf.new_page(595, 842)
    buf = io.BytesIO()
    pdf.save(buf)
    from archive.extract import extract

    doc = extract(buf.getvalue(), "big.pdf")
    assert doc.pages == MAX_PAGES * 4 and doc.meta["truncated_pages"] == str(MAX_PAGES * 3)
    _parse_or_documented_error(buf.getvalue(), "big.pdf")


@pytest.mark.parametrize("depth", [5_000, 200_000])
def test_deeply_nested_html(depth):
    html = (
        b"<html><body>"
        + b"<div>" * depth
        + "依申请公开 新收政府信息公开申请数量 3".encode()
        + b"</div>" * depth
        + b"</body></html>"
    )
    _parse_or_documented_error(html, "deep.html")
    tables = (
        b"<html><body>" + b"<table><tr><td>" * (depth // 10) + b"1" + b"</td></tr></table>" * (depth // 10) + b"</body></html>"
    )
    _parse_or_documented_error(tables, "tables.html")


@pytest.mark.parametrize("path", sorted((FIXTURES / "fuzz").glob("crash-*")), ids=lambda p: p.name)
def test_inputs_that_once_crashed_the_parser(path):
    # found by bench/fuzz.py: zipfile's ValueError / NotImplementedError / zlib.error escaped
    with pytest.raises(NianbaoError):
        parse_bytes(path.read_bytes(), "r.docx")
