"""Scrapy's downloader with the per-host limit kept at any download delay.

Scrapy 2.15+ starts each download as an asyncio task and counts it as
transferring only once the task runs; with ``DOWNLOAD_DELAY = 0`` the slot's
queue loop sees a free slot for every queued request and starts them all at
once (with a delay it starts one and waits). Counting a request as
transferring the moment it leaves the queue keeps ``CONCURRENT_REQUESTS_PER_DOMAIN``
whatever the delay.
"""

from __future__ import annotations

from scrapy.core.downloader import Downloader, Slot


class PerHostDownloader(Downloader):
    def _wait_for_download(self, slot: Slot, request, queue_dfd):
        # called, not awaited, inside the queue loop: the coroutine body runs later
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)
