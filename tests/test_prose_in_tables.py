"""A sentence printed between a table's heading and the table names a row and a count
(本年度办结申请12件，结转下年度继续办理17件。): it is prose, no label. Before, it was taken
for the row it names, the header above the table was lost with it, and every column of
表三 moved one place (a 总计 column guessed from the row's width)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from renderings import RENDERINGS, available, differences, fixtures, model, wrong_numbers

from archive.parse import parse_bytes

FORMS = [r for r in RENDERINGS if r.name in ("html", "docx", "pdf", "tabs", "index-rows", "markdown", "index-cells")]
ROW_FORMS = {"html", "docx", "tabs", "index-rows", "markdown"}
SENTENCES = {
    "requests": (
        "本年度办结申请{a}件，结转下年度继续办理{b}件。",
        "其中予以公开{a}件，部分公开{b}件。",
        "本年新收政府信息公开申请{a}件，上年结转政府信息公开申请{b}件",
        "不予公开{a}件，其中属于国家秘密{b}件。",
    ),
    "disclosure": ("本年制发规章{a}件，行政规范性文件{b}件。", "行政许可{a}件，行政处罚{b}件"),
    "appeals": ("本年度发生行政复议{a}件，行政诉讼{b}件。", "行政复议结果维持{a}件，结果纠正{b}件。"),
}


def _errors(report) -> set[tuple[str, str]]:
    return {(f.rule, f.where) for f in report.findings if f.severity == "error"}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.integers(0, len(fixtures()) - 1),
    form=st.sampled_from(FORMS),
    table=st.sampled_from(sorted(SENTENCES)),
    pick=st.integers(0, 3),
    a=st.integers(0, 300),
    b=st.integers(0, 300),
)
def test_a_sentence_naming_a_row_before_its_table_is_no_label(doc, form, table, pick, a, b):
    if not available(form):
        return
    path, gold = fixtures()[doc]
    m = model(path, gold)
    at = next((i for i, (heading, _) in enumerate(m.tables) if heading.startswith(_title(table))), None)
    if at is None:
        return
    sentence = SENTENCES[table][pick % len(SENTENCES[table])].format(a=a, b=b)
    before = parse_bytes(form.render(m), form.filename)
    tables = list(m.tables)
    heading, rows = tables[at]
    tables[at] = (f"{heading}\n{sentence}", rows)
    report = parse_bytes(form.render(replace(m, tables=tables)), form.filename)
    assert wrong_numbers(differences(report, gold, form.keeps_absent)) == {}, (path.name, form.name, sentence)
    assert _errors(report) <= _errors(before), (path.name, form.name, sentence)
    if form.name in ROW_FORMS:
        assert report.cells == before.cells, (path.name, form.name, sentence)


def _title(table: str) -> str:
    from archive.template import TABLES_BY_KEY

    return TABLES_BY_KEY[table].title
