"""Seeds parse to exactly their gold; the real documents are scored and must stay above target."""

from __future__ import annotations

import pytest
from conftest import gold_pairs

from archive.parse import parse_file

SEEDS = gold_pairs("seeds")
REALDOCS = gold_pairs("realdocs")


def _same(a, b) -> bool:
    return a == b and (a is None) == (b is None) and isinstance(a, bool) == isinstance(b, bool)


@pytest.mark.parametrize("doc,gold", SEEDS, ids=[d.name for d, _ in SEEDS])
def test_seed_matches_gold(doc, gold):
    report = parse_file(doc)
    assert report.agency == gold["agency"]
    assert report.year == gold["year"]
    assert report.template == gold["template"]
    wrong = {
        k: (v, report.cells.get(k, "ABSENT")) for k, v in gold["cells"].items() if not _same(report.cells.get(k, "ABSENT"), v)
    }
    assert wrong == {}
    # Nothing invented: every cell the parser reports is one the document shows.
    assert set(report.cells) <= set(gold["cells"])


def test_seed_consistency_matches_gold_flag():
    for doc, gold in SEEDS:
        errors = [f for f in parse_file(doc).findings if f.rule == "requests.balance"]
        if gold["consistent"] is True:
            assert errors == [], doc.name


def test_realdocs_accuracy(capsys):
    cells = cells_ok = docs = agency_ok = agency_n = year_ok = year_n = 0
    lines = []
    for doc, gold in REALDOCS:
        report = parse_file(doc)
        docs += 1
        ok = sum(_same(report.cells.get(k, "ABSENT"), v) for k, v in gold["cells"].items())
        cells += len(gold["cells"])
        cells_ok += ok
        invented = set(report.cells) - set(gold["cells"])
        lines.append(f"{doc.name}: {ok}/{len(gold['cells'])} cells, {len(invented)} extra")
        if "agency" in gold:
            agency_n += 1
            agency_ok += report.agency == gold["agency"] or report.agency in gold.get("agency_aliases", [])
        if "year" in gold:
            year_n += 1
            year_ok += report.year == gold["year"]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
        print(
            f"realdocs: {docs} documents; cells {cells_ok}/{cells} = {cells_ok / cells:.2%}; "
            f"agency {agency_ok}/{agency_n}; year {year_ok}/{year_n}"
        )
    assert cells_ok / cells >= 0.99
    assert agency_ok == agency_n
    assert year_ok == year_n


@pytest.mark.parametrize("doc,gold", REALDOCS, ids=[d.name for d, _ in REALDOCS])
def test_realdoc_template(doc, gold):
    if "template" in gold:
        assert parse_file(doc).template == gold["template"]
