"""Scrapy's downloader with the per-host limit and delay kept whatever the load.

Two changes to Scrapy 2.19's ``Downloader``:

* Scrapy 2.15+ starts each download as an asyncio task and counts it as
  transferring only once the task runs; with ``DOWNLOAD_DELAY = 0`` the slot's
  queue loop sees a free slot for every queued request and starts them all at
  once (with a delay it starts one and waits). Counting a request as
  transferring the moment it leaves the queue keeps ``CONCURRENT_REQUESTS_PER_DOMAIN``
  whatever the delay.
* Scrapy times a host's delay from when a request leaves the slot's queue
  (``slot.lastseen`` is set at dequeue). A request that reaches the host late
  (a connection slow to set up, a process paused on a loaded machine) is
  followed by the next one less than the delay after the host saw it. Here the
  delay also counts from when the previous request to the host *finished*
  (its response or failure arrived): the host received that request before
  answering it, and the next one leaves at least the delay after the answer,
  so the host's gap between two requests is never below the delay.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.core.downloader.handlers import DownloadHandlers
from scrapy.http import Response


class _StampFinished:
    """Scrapy's download handlers, telling ``finished`` of every request that ends.

    ``Downloader._download`` awaits the handlers, then (in its ``finally``) frees the
    transfer slot and looks at the slot's queue again: the stamp comes first.
    """

    def __init__(self, handlers: DownloadHandlers, finished: Callable[[Request], None]):
        self._handlers = handlers
        self._finished = finished

    async def download_request_async(self, request: Request) -> Response:
        try:
            return await self._handlers.download_request_async(request)
        finally:
            self._finished(request)

    def __getattr__(self, name: str):
        return getattr(self._handlers, name)


class PerHostDownloader(Downloader):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.handlers = _StampFinished(self.handlers, self._finished)

    def _finished(self, request: Request) -> None:
        slot = self.slots.get(request.meta.get(self.DOWNLOAD_SLOT))
        if slot is not None:
            slot.lastseen = max(slot.lastseen, monotonic())

    def _wait_for_download(self, slot: Slot, request, queue_dfd):
        # called, not awaited, inside the queue loop: the coroutine body runs later
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)
