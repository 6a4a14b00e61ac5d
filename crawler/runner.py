"""Run the crawl in this process (Scrapy's reactor runs once per process)."""

from __future__ import annotations

from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from .config import load_config
from .spiders.portal import PortalSpider


def crawl(config_path: str | Path, data_dir: str | Path, portals: list[str] | None = None,
          feed: str | Path | None = None, log_level: str = "WARNING", **overrides) -> tuple[dict, Path | None]:
    """Crawl the configured portals into the archive (DATA/archive.db, DATA/blobs); return
    Scrapy's stats and the JSON Lines feed written, if one was asked for (the archive
    holds the same records; a feed costs a JSON encoding of every item)."""
    config = load_config(config_path)            # fails here, cleanly, before Scrapy starts
    for portal_id in portals or []:
        config.portal(portal_id)
    data_dir = Path(data_dir)
    values = {"NIANBAO_CONFIG": str(config_path), "NIANBAO_DATA_DIR": str(data_dir), "LOG_LEVEL": log_level,
              "LOG_INSTALL_ROOT_HANDLER": log_level != "NONE"}
    if feed is not None:
        feed = Path(feed)
        feed.parent.mkdir(parents=True, exist_ok=True)
        values["FEEDS"] = {str(feed): {"format": "jsonlines", "encoding": "utf8", "overwrite": True}}
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update({**values, **overrides}, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PortalSpider)
    process.crawl(crawler, portal=",".join(portals) if portals else None)
    process.start()
    return crawler.stats.get_stats(), feed
