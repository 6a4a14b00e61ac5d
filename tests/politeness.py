"""The per-host politeness the crawler promises, read from the mock server's request log."""

from __future__ import annotations

from collections import defaultdict

# Scrapy waits on time.monotonic(), the mock stamps its log with time.time(): the two may
# run at rates differing by NTP's slew (≤ 0.5 ms a second) and time.time() is rounded;
# a few milliseconds cover that. Nothing of a loaded machine is excused: a paused crawler
# or a slow connection only lengthens a gap (see crawler/downloader.py).
CLOCKS = 0.005


def assert_polite(log: list[tuple], delay: float) -> None:
    """No host was asked while it was answering another request, nor sooner than the delay
    after it was last asked, whichever process asked.

    The crawler counts the delay from when a host's previous answer arrived, so the gap the
    host sees between two requests (received, received) is at least the delay.
    """
    assert max(r[7] for r in log) == 0  # never two requests at once on a host
    by_host = defaultdict(list)
    for ip, _method, _uri, _status, at, *_ in log:
        by_host[ip].append(at)
    assert any(len(times) > 1 for times in by_host.values())
    for ip, times in by_host.items():
        times.sort()
        gaps = [b - a for a, b in zip(times, times[1:])]
        short = [round(g, 3) for g in gaps if g < delay - CLOCKS]
        assert not short, f"{ip} asked again within the delay of {delay} s: gaps {short} of {len(gaps)}"
