"""Per-host leases in Redis: at most one job crawls a host at any moment, on any machine.

A job takes a lease on every host of its portals, all or none at once (so two
jobs waiting for overlapping hosts never deadlock), renews them while it runs
and, when it ends, leaves each lease to expire one crawl delay later: the job's
crawl is over by then (every answer in, or its connection closed), so the next
job's first request to a host comes at least the delay after this job's last
answer, as within a job (``crawler.downloader`` counts the delay from answers).
A job killed with its machine stops renewing; its leases expire after ``ttl``
(longer than the delay), and only then can a retry take the hosts. A job that
finds a lease of its own gone (Redis unreachable for longer than ``ttl``) stops
at once rather than crawl beside another.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable

from redis import Redis

PREFIX = "nianbao:host:"
LEASE_LOST = 70  # exit status of a job whose lease was lost

log = logging.getLogger(__name__)

# KEYS: the hosts' lease keys; ARGV: token, ttl in ms. All or none.
_ACQUIRE = """
for i, key in ipairs(KEYS) do
  if redis.call('exists', key) == 1 then return 0 end
end
for i, key in ipairs(KEYS) do
  redis.call('set', key, ARGV[1], 'px', ARGV[2])
end
return 1
"""
# KEYS: lease keys; ARGV: token, ttl in ms. Returns how many are still ours (renewed).
_RENEW = """
local held = 0
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then
    redis.call('pexpire', key, ARGV[2])
    held = held + 1
  end
end
return held
"""


class HostLeases:
    def __init__(self, redis: Redis, hosts: list[str], delay: float, ttl: float = 15.0):
        self.redis = redis
        self.keys = [PREFIX + h for h in sorted(set(hosts))]
        self.delay = delay
        self.ttl = max(ttl, 3 * delay)
        self.token = uuid.uuid4().hex
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def try_acquire(self) -> bool:
        return bool(self._acquire(keys=self.keys, args=[self.token, int(self.ttl * 1000)]))

    def acquire(self, on_wait: Callable[[], None] | None = None, poll: float = 1.0) -> None:
        """Wait until every host is free, take them all, and keep them renewed."""
        while not self.try_acquire():
            if on_wait is not None:
                on_wait()
            time.sleep(poll)
        self._thread = threading.Thread(target=self._keep, name="nianbao-leases", daemon=True)
        self._thread.start()

    def _keep(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                held = self._renew(keys=self.keys, args=[self.token, int(self.ttl * 1000)])
            except Exception as e:  # Redis away for a moment: the lease still has time
                log.warning("host leases not renewed: %s", e)
                continue
            if held < len(self.keys) and not self._stop.is_set():
                log.error("host leases lost (%d of %d held): stopping this job", held, len(self.keys))
                os._exit(LEASE_LOST)

    def release(self) -> None:
        """Stop renewing; each lease expires one delay from now (the last answer came before)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._renew(keys=self.keys, args=[self.token, max(1, int(self.delay * 1000))])

    def __enter__(self) -> HostLeases:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
