"""Scrapy settings for the nianbao crawler: polite by default.

Politeness figures (delay, concurrency, sizes) come from the ``crawl:``
section of config.yaml (see ``crawler.config.CrawlSettings``); the values here
are the ones used when no config says otherwise.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

BOT_NAME = "nianbao"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

try:
    _VERSION = version("nianbao")
except PackageNotFoundError:  # running from a checkout that is not installed
    _VERSION = "dev"
# HTTP header values are ASCII (RFC 9110 §5.5): the Chinese name in pinyin
USER_AGENT_BASE = f"nianbao/{_VERSION} (+https://github.com/nianbao/nianbao; zhengfu xinxi gongkai nianbao guidang)"
USER_AGENT = USER_AGENT_BASE

ROBOTSTXT_OBEY = True
COOKIES_ENABLED = True  # portals set session cookies; WAF challenges are never answered
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.5
DOWNLOAD_DELAY_JITTER = 0  # an honest crawler keeps a steady pace; nothing to disguise
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.5
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Scrapy starts CONCURRENT_ITEMS asyncio tasks for every callback's output (default 100);
# our pipeline is synchronous and a callback yields a handful of items, so 100 tasks
# per response were the crawl's largest CPU cost
CONCURRENT_ITEMS = 8
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 100 * 1024 * 1024
DOWNLOAD_WARNSIZE = 20 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False  # WAF stubs and soft-404 pages use refresh; a report page never needs it
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
NIANBAO_BACKOFF_BASE = 2.0
NIANBAO_BACKOFF_MAX = 60.0
NIANBAO_RETRY_AFTER_MAX = 300.0
HTTPERROR_ALLOW_ALL = False

DNS_RESOLVER = "crawler.addresses.GuardedResolver"  # internal addresses refused after resolution
NIANBAO_ALLOW_NETWORKS: list[str] = []  # …except these (crawl.allow_networks: the demo's loopback)
TELNETCONSOLE_ENABLED = False  # no listening console on a crawl host
# Scrapy 2.19's remote control: an HTTP endpoint that runs code sent to it, and token
# files in the home directory. A crawl host listens on nothing.
REMOTE_CONTROL_ENABLED = False
DOWNLOADER = "crawler.downloader.PerHostDownloader"  # one request per host even at DOWNLOAD_DELAY = 0

# Every middleware wraps every callback output in another async generator; the
# ones this crawler has no use for (no depth limit, no HTTP auth, no meta-copy
# debugging) are switched off.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "crawler.middlewares.PortalScopeMiddleware": 60,
    "crawler.addresses.AddressGuardMiddleware": 70,
    "crawler.middlewares.RedirectValidatorsMiddleware": 80,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 100}
EXTENSIONS = {"crawler.progress.CrawlProgress": 500}
NIANBAO_PROGRESS = False  # progress bars (terminal) or periodic lines: `nianbao crawl` / `nianbao run` turn it on
NIANBAO_PARSE_WORKERS = 0  # processes parsing reports at the end of a crawl; 0: one per core but one

NIANBAO_CONFIG = "config.yaml"
NIANBAO_DATA_DIR = "data"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# Scrapy's warning about a generator callback that returns a value parses the callback's
# source again for every response (its cache keys are the bound methods, made anew for
# each request): 2.8–4.3 ms per response here. tests/test_crawler_units.py makes the same
# check on every callback once.
WARN_ON_GENERATOR_RETURN_VALUE = False
