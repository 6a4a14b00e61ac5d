"""Pacing messages under a robot's rate limit (at most N messages in any S seconds).

The clock is injectable: tests share a simulated clock with their strict test
robots, so pacing is exercised for minutes of simulated time without waiting.
Times are recorded when a robot's answer arrives (never before the robot saw the
message), so pacing from them keeps the robot's own count under the limit
however long the network took.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Protocol

MARGIN = 0.5  # seconds added to each wait: a robot counting in coarser steps than we do


class Clock(Protocol):
    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Pacer:
    """Waits before each message until every window has room for it."""

    def __init__(self, windows: tuple[tuple[int, float], ...], clock: Clock, history: Iterable[float] = ()):
        self.windows = windows
        self.clock = clock
        longest = max((s for _, s in windows), default=0.0)
        now = clock.time()
        # times after now (the clock was set back since) are dropped: a wait never exceeds one window
        self.history = sorted(t for t in history if now - longest < t <= now)
        self.waited = 0.0

    def wait(self) -> None:
        now = self.clock.time()
        ready = now
        for count, seconds in self.windows:
            recent = [t for t in self.history if t > now - seconds]
            if len(recent) >= count:
                ready = max(ready, recent[-count] + seconds + MARGIN)
        if ready > now:
            self.clock.sleep(ready - now)
            self.waited += ready - now

    def sleep(self, seconds: float) -> None:
        """A backoff wait after the robot said "too fast"."""
        self.clock.sleep(seconds)
        self.waited += seconds

    def record(self) -> float:
        """A message reached the robot (accepted or not: it counts either way); returns the time."""
        at = self.clock.time()
        self.history.append(at)
        return at
