"""The agency tree: how deep each agency sits, computed without recursion (a registry's
parent chain may be thousands long, by mistake or on purpose)."""

from __future__ import annotations


def tree_depths(parents: dict[str, str | None]) -> dict[str, int]:
    """Each id's number of ancestors, without recursion (a chain may be thousands long);
    a parent outside ``parents`` counts as a root's. Raises ``ValueError`` naming an
    id on a cycle."""
    depth: dict[str, int] = {}
    for start in parents:
        chain: list[str] = []
        on_chain: set[str] = set()
        current = start
        while current in parents and current not in depth:
            if current in on_chain:
                raise ValueError(current)
            chain.append(current)
            on_chain.add(current)
            current = parents[current]
        base = depth.get(current, -1) if current in parents else -1
        for offset, agency_id in enumerate(reversed(chain), 1):
            depth[agency_id] = base + offset
    return depth
