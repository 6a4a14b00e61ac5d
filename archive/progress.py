"""Progress of long runs: a bar redrawn in place on a terminal, a plain timestamped
line now and then otherwise (cron mail and log files get no carriage returns)."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import TextIO


class Progress:
    """``update(done, total)`` as often as convenient; drawing is rate-limited."""

    WIDTH = 28

    def __init__(
        self, label: str, stream: TextIO | None = None, tty: bool | None = None, interval: float | None = None, unit: str = ""
    ):
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = interval if interval is not None else (0.2 if self.tty else 30.0)
        self.started = time.monotonic()
        self._last = float("-inf")
        self._drawn = False

    def update(self, done: int, total: int | None = None, extra: str = "", force: bool = False) -> None:
        moment = time.monotonic()
        if not force and moment - self._last < self.interval:
            return
        self._last = moment
        count = f"{done}/{total}" if total else str(done)
        share = f" {100 * done / total:3.0f}%" if total else ""
        tail = f"{count}{self.unit}{share}" + (f"  {extra}" if extra else "")
        if self.tty:
            filled = int(self.WIDTH * done / total) if total else 0
            bar = "█" * min(filled, self.WIDTH) + "·" * (self.WIDTH - min(filled, self.WIDTH))
            self.stream.write(f"\r\033[K{self.label} [{bar}] {tail}  {moment - self.started:.0f}s")
            self._drawn = True
        else:
            self.stream.write(f"{datetime.now():%Y-%m-%d %H:%M:%S} {self.label}：{tail}\n")
        self.stream.flush()

    def close(self, summary: str) -> None:
        """End the bar (or the series of lines) with one summary line."""
        elapsed = time.monotonic() - self.started
        prefix = "\r\033[K" if self.tty and self._drawn else (f"{datetime.now():%Y-%m-%d %H:%M:%S} " if not self.tty else "")
        self.stream.write(f"{prefix}{self.label}：{summary}（{elapsed:.1f} 秒）\n")
        self.stream.flush()
