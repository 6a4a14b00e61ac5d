"""Fuzz the extractors and the parser: mutate real reports (PDF, HTML, DOCX, text) at
random for a while; any exception other than a documented ``NianbaoError`` is a
crash, saved to ``--out`` for a regression test.

    python bench/fuzz.py [--seconds 60] [--seed 1] [--out fuzz-crashes/]

Prints inputs tried, inputs/s, documented errors vs reports, crashes and the
slowest input. The suite runs the same property with hypothesis
(tests/test_hostile_documents.py); this runs it for longer.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.errors import NianbaoError  # noqa: E402
from archive.parse import parse_bytes  # noqa: E402
from crawler.mock.documents import to_docx  # noqa: E402

REAL = ROOT / "tests" / "fixtures" / "realdocs"


def samples() -> dict[str, bytes]:
    return {
        "r.html": (REAL / "03-shanghai-govoffice-2019.html").read_bytes(),
        "r.pdf": (REAL / "02-hongze-gov-2024.pdf").read_bytes(),
        "r.docx": to_docx((REAL / "04-dawuli-town-2020-excerpt.txt").read_text(encoding="utf-8")),
        "r.txt": (REAL / "05-niuhua-town-2021-excerpt.txt").read_bytes(),
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("fuzz-crashes"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = samples()
    tried = errors = reports = 0
    crashes: list[Path] = []
    slowest = (0.0, "")
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        name = rng.choice(sorted(base))
        data = mutate(base[name], rng)
        began = time.monotonic()
        try:
            parse_bytes(data, name)
            reports += 1
        except NianbaoError:
            errors += 1
        except Exception:
            args.out.mkdir(parents=True, exist_ok=True)
            path = args.out / f"crash-{len(crashes)}-{name}"
            path.write_bytes(data)
            path.with_suffix(path.suffix + ".txt").write_text(traceback.format_exc(), encoding="utf-8")
            crashes.append(path)
        took = time.monotonic() - began
        slowest = max(slowest, (took, name))
        tried += 1
    elapsed = time.monotonic() - started
    print(f"inputs tried     {tried} in {elapsed:.0f} s ({tried / elapsed:.1f}/s)")
    print(f"parsed           {reports}")
    print(f"documented error {errors}")
    print(f"crashes          {len(crashes)}" + (f"  → {args.out}/" if crashes else ""))
    print(f"slowest input    {slowest[0] * 1000:.0f} ms ({slowest[1]})")
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
