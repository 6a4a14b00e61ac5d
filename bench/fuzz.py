"""Fuzz the extractors and the parser: mutate real reports (PDF, HTML, DOCX, text) and
the hostile documents of crawler/mock/hostile.py (poison XLSX, glyph bombs, a
decompression bomb, deep HTML, huge lines) at random for a while. Each input is
parsed in a worker process under a budget (archive.isolation: CPU seconds, wall
seconds, address space), as the archive parses them. Any exception other than a
documented ``NianbaoError`` is a crash (exit status 1). An input the budget had to
stop is reported apart: the budget did its job, as the archive relies on it, but
the extractors' own bounds may be able to refuse it earlier (a form drawing itself
through the page's resources, ``hostile.self_drawing_pdf``, is one PDFium recurses
on before any bound can see it). Both are saved to ``--out`` for a regression test.

    python bench/fuzz.py [--seconds 60] [--seed 1] [--workers N] [--cpu-seconds 20] [--memory-mb 1024]

Prints inputs tried, inputs/s, documented errors vs reports, crashes, inputs stopped
by the budget, and the slowest (CPU) and largest (peak memory) inputs against the
budget. The suite runs the same property with hypothesis
(tests/test_hostile_documents.py); this runs it for longer.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.isolation import Budget, Isolated, JobCrashed, default_workers  # noqa: E402
from archive.parse import parse_bytes  # noqa: E402
from crawler.mock import hostile  # noqa: E402
from crawler.mock.documents import to_docx  # noqa: E402

REAL = ROOT / "tests" / "fixtures" / "realdocs"


def samples() -> dict[str, bytes]:
    return {
        "r.html": (REAL / "03-shanghai-govoffice-2019.html").read_bytes(),
        "r.pdf": (REAL / "02-hongze-gov-2024.pdf").read_bytes(),
        "r.docx": to_docx((REAL / "04-dawuli-town-2020-excerpt.txt").read_text(encoding="utf-8")),
        "r.txt": (REAL / "05-niuhua-town-2021-excerpt.txt").read_bytes(),
        "poison.xlsx": hostile.poison_xlsx(),
        "glyphs.pdf": hostile.glyph_bomb_pdf(4, pages=20),
        "inflate.pdf": hostile.deflate_bomb_pdf(80),
        "deep.html": hostile.deep_html(3000),
        "blob.html": hostile.big_text_node_html(1),
        "lines.txt": hostile.long_text(1),
    }


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        at = rng.randrange(max(1, len(out)))
        if op < 0.4:  # overwrite bytes
            out[at : at + 4] = rng.randbytes(rng.randint(1, 4))
        elif op < 0.6:  # delete a span
            del out[at : at + rng.randint(1, 256)]
        elif op < 0.8:  # duplicate a span
            out[at:at] = out[at : at + rng.randint(1, 512)]
        else:  # truncate
            del out[at:]
    return bytes(out)


def _inputs(base: dict[str, bytes], rng: random.Random, until: float) -> Iterator[tuple[tuple[int, str, bytes], object, tuple]]:
    n = 0
    while time.monotonic() < until:
        name = rng.choice(sorted(base))
        data = mutate(base[name], rng)
        yield (n, name, data), parse_bytes, (data, name)
        n += 1


def _save(out: Path, what: str, n: int, name: str, data: bytes, detail: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{what}-{n}-{name}"
    path.write_bytes(data)
    path.with_suffix(path.suffix + ".txt").write_text(detail, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("fuzz-crashes"))
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--cpu-seconds", type=float, default=20)
    parser.add_argument("--wall-seconds", type=float, default=120)
    parser.add_argument("--memory-mb", type=int, default=1024)
    args = parser.parse_args()
    budget = Budget(wall_seconds=args.wall_seconds, cpu_seconds=args.cpu_seconds, memory_mb=args.memory_mb)
    rng = random.Random(args.seed)
    base = samples()
    tried = errors = reports = 0
    crashes: list[Path] = []
    stopped: list[Path] = []
    usages: list[tuple[float, float, float, str]] = []  # cpu s, wall s, peak MB, name
    started = time.monotonic()
    with Isolated(budget, args.workers) as pool:
        for (n, name, data), outcome in pool.run(_inputs(base, rng, started + args.seconds)):
            tried += 1
            if outcome.usage is not None:
                usages.append((outcome.usage.cpu_seconds, outcome.usage.wall_seconds, outcome.usage.peak_mb, name))
            if outcome.limit is not None:
                stopped.append(_save(args.out, "budget", n, name, data, outcome.limit))
            elif isinstance(outcome.error, JobCrashed):
                crashes.append(_save(args.out, "crash", n, name, data, str(outcome.error)))
            elif outcome.error is not None:
                errors += 1
            else:
                reports += 1
    elapsed = time.monotonic() - started
    print(f"inputs tried     {tried} in {elapsed:.0f} s ({tried / elapsed:.1f}/s, {args.workers} workers)")
    print(f"parsed           {reports}")
    print(f"documented error {errors}")
    print(f"crashes          {len(crashes)}" + (f"  → {args.out}/" if crashes else ""))
    print(f"ended by budget  {len(stopped)}" + (f"  → {args.out}/" if stopped else ""))
    print(f"budget per input {budget.cpu_seconds:g} s CPU, {budget.wall_seconds:g} s wall, {budget.memory_mb} MB")
    for label, key, unit in (("slowest", 0, "s CPU"), ("largest", 2, "MB peak")):
        top = sorted(usages, key=lambda u: u[key], reverse=True)[:3]
        print(
            f"{label} inputs   "
            + "; ".join(
                f"{u[key]:.2f} {unit} ({u[3]}, {u[1]:.2f} s wall, {u[2]:.0f} MB)"
                if key == 0
                else f"{u[2]:.0f} {unit} ({u[3]}, {u[0]:.2f} s CPU)"
                for u in top
            )
        )
    if usages:
        worst_cpu = max(u[0] for u in usages)
        worst_mb = max(u[2] for u in usages)
        within = worst_cpu <= budget.cpu_seconds and worst_mb <= budget.memory_mb
        print(
            f"within budget    {'yes' if within else 'NO'} (slowest {worst_cpu:.2f} s CPU, largest {worst_mb:.0f} MB"
            + (f"; {len(stopped)} more ended by the budget" if stopped else "")
            + ")"
        )
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
