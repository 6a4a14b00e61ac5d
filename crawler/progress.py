"""Scrapy extension: the crawl's progress (requests answered of those known so far,
reports found, problems), on by ``NIANBAO_PROGRESS``."""

from __future__ import annotations

from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive.progress import Progress


def crawl_summary(stats: dict) -> str:
    """The line a crawl's progress ends with (in one process or over several)."""
    return f"{stats.get('downloader/request_count', 0)} 次请求，年报 {stats.get('nianbao/reports', 0)} 份"


class CrawlProgress:
    def __init__(self, crawler):
        self.stats = crawler.stats
        self.progress: Progress | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("NIANBAO_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.update, signal=signals.response_received)
        crawler.signals.connect(ext.update, signal=signals.item_scraped)
        # the crawl is over when the spider goes idle; parsing and storing follow,
        # with their own progress (ArchivePipeline), before spider_closed
        crawler.signals.connect(ext.finish, signal=signals.spider_idle)
        crawler.signals.connect(ext.finish, signal=signals.spider_closed)
        return ext

    def opened(self, spider) -> None:
        self.progress = Progress("抓取", unit=" 个网址")

    def _counts(self) -> tuple[int, int, str]:
        get = self.stats.get_value
        known = get("scheduler/enqueued", 0)
        done = min(get("downloader/response_count", 0), known) if known else get("downloader/response_count", 0)
        return done, known, f"年报 {get('nianbao/reports', 0)}，问题 {get('nianbao/problems', 0)}"

    def update(self, *args, **kwargs) -> None:
        if self.progress is not None:
            done, known, extra = self._counts()
            self.progress.update(done, known, extra)

    def finish(self, *args, **kwargs) -> None:
        if self.progress is not None:
            self.progress.close(crawl_summary(self.stats.get_stats()))
            self.progress = None
