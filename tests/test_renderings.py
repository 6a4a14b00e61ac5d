"""Rendering invariance: a report's cells, agency, year and template do not depend on how
its tables were turned into text (issue 12). The matrix is every seed and real document
× every rendering of tests/renderings.py; lossy renderings (which destroy where blank cells
were) may leave cells null, never put a number in another cell."""

from __future__ import annotations

import os
import shutil

import pytest
from renderings import RENDERINGS, available, differences, fixtures, libreoffice_batch, model, wrong_numbers

from archive.parse import parse_bytes

REQUIRED = os.environ.get("NIANBAO_REQUIRE_CONVERTERS") == "1"


@pytest.fixture(scope="module")
def models():
    out = [(path, gold, model(path, gold)) for path, gold in fixtures()]
    if shutil.which("soffice"):
        libreoffice_batch([m for _, _, m in out])
    return out


@pytest.mark.parametrize("rendering", RENDERINGS, ids=[r.name for r in RENDERINGS])
def test_every_document_reads_the_same_in_this_rendering(rendering, models):
    if not available(rendering):
        if REQUIRED:
            pytest.fail(f"{rendering.needs} is not installed")
        pytest.skip(f"{rendering.needs} is not installed")
    failures = {}
    for path, gold, m in models:
        report = parse_bytes(rendering.render(m), rendering.filename)
        diff = differences(report, gold, rendering.keeps_absent)
        if rendering.lossy:
            diff = wrong_numbers(diff)
        if diff:
            failures[path.name] = dict(list(diff.items())[:5])
    assert failures == {}


def test_at_least_ten_renderings_of_every_document_are_exactly_gold(models, capsys):
    usable = [r for r in RENDERINGS if available(r)]
    lines = []
    for path, gold, m in models:
        exact = [r.name for r in usable if not differences(parse_bytes(r.render(m), r.filename), gold, r.keeps_absent)]
        lines.append(f"{path.name[:34]:34} {len(exact):2}/{len(usable)} renderings identical to gold")
        assert len(exact) >= 10, path.name
    with capsys.disabled():
        print("\n" + "\n".join(lines))
