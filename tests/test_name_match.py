"""Two printed names of one body: abbreviations keep the full name's characters in order."""

from __future__ import annotations

import pytest

from archive.name_match import could_be_same


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("住建局", "住房和城乡建设局"),
        ("新乡县住建局", "新乡县住房和城乡建设局"),
        ("卫健委", "卫生健康委员会"),
        ("发改委", "发展和改革委员会"),
        ("市场监管局", "市场监督管理局"),
        ("人社局", "人力资源和社会保障局"),
        ("县政府办", "县人民政府办公室"),
        ("城关镇", "青山区城关镇"),
        ("青山区 教育局", "青山区教育局"),
    ],
)
def test_an_abbreviation_can_be_the_full_name(a, b):
    assert could_be_same(a, b) and could_be_same(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("青山区人民政府", "青山区人民政府办公室"),  # the government and its office
        ("青山区教育局", "青山区体育局"),
        ("青山区教育局", "青山区文化旅游广电体育局"),
        ("青山区民政局", "青山区人民政府"),
        ("教育局", "青山区教育委员会"),  # another kind of body
        ("局", "教育局"),  # a kind of body, no body
    ],
)
def test_other_bodies_are_not(a, b):
    assert not could_be_same(a, b) and not could_be_same(b, a)
