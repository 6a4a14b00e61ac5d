from __future__ import annotations

import json
from pathlib import Path

import pytest
from servers import hook, robots, smtp  # noqa: F401  (fixtures: real SMTP, webhook and strict robot servers)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def mock():
    """The mock portals of the test world, on loopback, for one test module."""
    from crawler.mock.server import MockServer

    with MockServer("test") as server:
        yield server


def gold_pairs(folder: str) -> list[tuple[Path, dict]]:
    """(document, gold) for every ``*.gold.json`` in a fixtures folder."""
    pairs = []
    for gold in sorted((FIXTURES / folder).glob("*.gold.json")):
        stem = gold.name[: -len(".gold.json")]
        doc = next(p for p in gold.parent.glob(stem + ".*") if not p.name.endswith(".gold.json"))
        pairs.append((doc, json.loads(gold.read_text("utf-8"))))
    return pairs


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
