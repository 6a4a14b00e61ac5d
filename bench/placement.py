"""Soak of the placement property (issues 12 and 18): change one printed number — or blank
one cell — of every real document and seed, re-render the report, parse it: exactly that
cell must change, to exactly that value. The suite runs 200 examples per document in its
own format (tests/test_placement.py); this runs as many as you ask, in the document's own
format and in the renderings of the spread, with fresh random examples each run.

    python bench/placement.py [--examples 2000] [--spread 200] [--seed N]

Prints, per document and rendering, the examples run and the verdict (the falsifying
edit when one fails), then the totals. Exit status 1 when any example failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from renderings import available, own_rendering  # noqa: E402
from test_placement import BY_NAME, DOCS, SPREAD, _check_edit, edits  # noqa: E402


def soak(index: int, rendering: str, examples: int, fixed: int | None, allow_blank: bool) -> tuple[int, str | None]:
    """Examples run and the first failure (None: all passed)."""
    _, gold = DOCS[index]
    ran = [0]
    last: list = [None]

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(edits(gold, allow_blank=allow_blank))
    def prop(edit):
        ran[0] += 1
        last[0] = edit
        _check_edit(index, rendering, *edit)

    if fixed is not None:
        prop = seed(fixed)(prop)
    try:
        prop()
    except AssertionError as e:
        return ran[0], f"{edit_text(last[0])}: {(str(e).splitlines() or ['a number in a wrong cell'])[0]}"
    return ran[0], None


def edit_text(edit: tuple[str, object] | None) -> str:
    return "" if edit is None else f"{edit[0]} → {edit[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per document in its own format")
    parser.add_argument("--spread", type=int, default=200, help="examples per document in each other rendering")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run (default: fresh examples)")
    args = parser.parse_args()
    total = failed = 0
    start = time.perf_counter()
    print(f"{'document':44} {'rendering':12} {'examples':>8}  verdict")
    for index, (path, _) in enumerate(DOCS):
        own = own_rendering(path).name
        plan = [(own, args.examples, False)] + [(r, args.spread, True) for r in SPREAD if r != own]
        for rendering, examples, allow_blank in plan:
            if not available(BY_NAME[rendering]):
                print(f"{path.name:44} {rendering:12} {'-':>8}  skipped: {BY_NAME[rendering].needs} not installed")
                continue
            ran, failure = soak(index, rendering, examples, args.seed, allow_blank)
            total += ran
            failed += failure is not None
            print(f"{path.name:44} {rendering:12} {ran:8d}  {'ok' if failure is None else 'FAILED: ' + failure}", flush=True)
    elapsed = time.perf_counter() - start
    print(f"\n{total} examples, {failed} document × rendering pairs failed, {elapsed:.0f} s ({total / elapsed:.1f} examples/s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
