"""The crawler's parts on their own: config validation, selection, attribution, family detection, WAF pages."""

from __future__ import annotations

import textwrap

import pytest

from archive.errors import ConfigError
from crawler.attribution import AgencyIndex
from crawler.blocking import classify
from crawler.config import load_config
from crawler.families import detect
from crawler.middlewares import retry_after_seconds
from crawler.page import Page, iso_date
from crawler.selection import judge

GOOD = """\
contact: "ops <ops@example.org>"
crawl: {delay: 0.5, max_download_mb: 50}
portals:
  - {id: xx-gknb, start_urls: ["https://www.xx.gov.cn/zfxxgk/zfxxgknb/"], family: trs, owner: xx}
agencies:
  - {id: xx, name: 某某县人民政府, level: government, region: "430000"}
  - {id: xx-zjj, name: 某某县住房和城乡建设局, level: department, region: "430000", parent: xx, aliases: [县住建局]}
"""
WITH_SECTIONS = (
    GOOD
    + """\
deadlines:
  grace_days: 7
  rules:
    - {date: "02-20", level: township, region: "4312", from_year: 2021}
alerts:
  email: {host: smtp.x.gov.cn, from: a@x.gov.cn, to: [b@x.gov.cn], username_env: SMTP_USER, password_env: SMTP_PASS}
  webhooks:
    - {kind: dingtalk, url_env: DING_URL, secret_env: DING_SECRET}
schedule:
  timezone: Asia/Shanghai
  jobs:
    - {id: sweep, cron: "0 3 1 2,4 *"}
    - {id: weekly, cron: "0 3 * 2-4 mon"}
"""
)


def _load(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_config(path)


def test_repository_config_is_valid():
    config = load_config("config.yaml")
    assert config.portals and config.agencies and config.contact


def test_good_config(tmp_path):
    config = _load(tmp_path, GOOD)
    assert config.crawl.delay == 0.5 and config.crawl.max_download_mb == 50
    assert config.portals["xx-gknb"].hosts == ("www.xx.gov.cn",)


@pytest.mark.parametrize(
    "old, new, line, reason",
    [
        ("family: trs", "family: trz", 4, "unknown family 'trz'"),
        ('region: "430000", parent', 'region: "43", parent', 7, "not a 行政区划代码"),
        ("parent: xx,", "parent: yy,", 7, "no agency with id 'yy'"),
        ("owner: xx}", "owner: nobody}", 4, "no agency with id 'nobody'"),
        ('["https://www.xx.gov.cn/zfxxgk/zfxxgknb/"]', '["ftp://x"]', 4, "not an http(s) URL"),
        ("level: department", "level: bureau", 7, "unknown level 'bureau'"),
        ("delay: 0.5", "delay: -1", 2, "expected a number"),
        ("  - {id: xx, name", "  - {id: xx, nmae", 6, "unknown key"),
        ("- {id: xx-zjj", "- {id: xx", 7, "duplicate agency id"),
        ("family: trs,", "family: trs: x,", 4, "not valid YAML"),
        ('date: "02-20"', 'date: "02-30"', 11, "not a month-day"),
        ("level: township, region", "level: village, region", 11, "unknown level"),
        ('region: "4312"', 'region: "43x"', 11, "prefix"),
        ("password_env: SMTP_PASS", "password_env: hunter2-secret", 13, "not an environment variable name"),
        ("url_env: DING_URL, ", "", 15, "exactly one of url or url_env"),
        ("kind: dingtalk", "kind: slack", 15, "unknown 'slack'"),
        ("Asia/Shanghai", "Asia/Beijing", 17, "unknown time zone"),
        ('"0 3 * 2-4 mon"', '"0 3 * 2-4 1"', 20, "names (mon … sun)"),
        ('"0 3 * 2-4 mon"', '"0 3 * 2-4"', 20, "expected 5 fields"),
        ('"0 3 1 2,4 *"', '"0 25 1 2,4 *"', 19, "hour"),
        ("{id: weekly,", "{id: sweep,", 20, "duplicate job id"),
    ],
)
def test_config_errors_name_line_and_reason(tmp_path, old, new, line, reason):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, WITH_SECTIONS.replace(old, new, 1))
    message = str(err.value)
    assert f"config.yaml:{line}:" in message and reason in message


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "title, kind, year",
    [
        ("某某县住房和城乡建设局2024年政府信息公开工作年度报告", "report", 2024),
        ("某某镇二〇二三年度政府信息公开工作年度报告", "report", 2023),
        ("2024年政府信息公开工作年度报告（上海市浦东新区应急管理局）", "report", 2024),
        ("红旗区2018年度政府信息与政务公开工作报告", "report", 2018),
        ("某某县人民政府办公室关于印发某某县2024年度政府信息公开工作年度报告的通知", "report", 2024),
        ("关于做好2024年政府信息公开工作年度报告编制发布工作的通知", "other", None),
        ("《某某县2024年政府信息公开工作年度报告》解读", "other", None),
        ("图解：某某县2024年政府信息公开工作年度报告", "other", None),
        ("某某县2025年政务公开工作要点", "other", None),
        ("某某县住房和城乡建设局2024年度政…", "maybe", None),
        ("某某县住房和城乡建设局二〇二四年政…", "maybe", None),
        ("西山221县住房和城乡建设局2023…", "maybe", None),  # cut inside the year (found at 400 portals)
        ("某某县住房和城乡建设局关于…", "maybe", None),
        ("关于做好2023年政府信息公开工作年…", "other", None),
        # every title form the parser reads is a report in a list too (a list item not taken
        # is a report never fetched, and its body told it has not published)
        ("洪泽区财政局关于2024年政府信息公开工作的年度报告", "report", 2024),
        ("洪泽区财政局政府信息公开工作年度报告（2024年度）", "report", 2024),
        ("洪泽区财政局2024年度政府信息公开工作情况的报告", "report", 2024),
        ("洪泽区财政局政府信息公开2024年度报告", "report", 2024),
        ("洪泽区财政局2024政府信息公开工作年度报告", "report", 2024),
        ("【洪泽区财政局】2024年政府信息公开工作年度报告", "report", 2024),
        ("关于2024年度政府信息公开工作年度报告的审核意见", "other", None),
        ("洪泽区财政局2024政府信息公开工作要点", "other", None),
    ],
)
def test_selection(title, kind, year):
    verdict = judge(title)
    assert verdict.kind == kind and verdict.year == year


def test_attribution(tmp_path):
    config = _load(tmp_path, GOOD)
    index, portal = AgencyIndex(config.agencies), config.portals["xx-gknb"]
    assert index.attribute("县住建局", [], portal).agency_id == "xx-zjj"
    assert index.attribute("某某县住房和城乡建设局", [], portal).source == "title"
    by_meta = index.attribute(None, ["某某县人民政府办公室", "某某县住房和城乡建设局"], portal)
    assert (by_meta.agency_id, by_meta.source) == ("xx-zjj", "metadata")
    assert index.attribute(None, [], portal).source == "owner"
    unknown = index.attribute("某某县教育局", [], portal)
    assert unknown.agency_id is None and unknown.agency_name == "某某县教育局"


@pytest.mark.parametrize(
    "snippet, family",
    [
        ('<script>var countPage = 3;createPageHTML(countPage, 0, "index", "html");</script>', "trs"),
        ("<script>window._CONFIG = { SID: '175' };</script>", "gkmlpt"),
        ('<script type="text/xml"><datastore><recordset></recordset></datastore></script>', "hanweb"),
        ("<a onclick=\"_simple_list_gotopage_fun(3,'u5_goto',2)\">跳转</a>", "vsb"),
        ('<a href="https://x.gov.cn/xxgk/content/post_123456.html">x</a>', "gdpost"),
        ('<a href="/qy/gknb/202502/a651e50c070e4d478ca8d226956a034b.shtml">x</a>', "shtml_uuid"),
        ('<a href="list-2.html">下一页</a>', "nextlink"),
    ],
)
def test_detect_family(snippet, family):
    assert detect(Page("http://x.gov.cn/list.html", 200, f"<html><body>{snippet}</body></html>".encode())) == family


def test_waf_pages():
    jsl = b"<html><script>document.cookie='__jsl_clearance=1';location.href=location.pathname</script></html>"
    assert classify(521, jsl, "__jsluid_h=abc") == "waf:jiasule"
    assert classify(412, b"<script>$_ts=window['$_ts'];</script>", "FSSBBIl1UgzbN7N80S=x") == "waf:ruishu"
    assert classify(200, jsl, "") == "waf:jiasule"
    assert classify(200, b"<html><body><p>" + "政府信息公开".encode() * 500 + b"</p></body></html>", "") is None
    assert classify(404, b"<html>not found</html>", "") is None
    assert classify(403, b"<html>403 Forbidden</html>", "") is None


def test_retry_after_and_dates():
    assert retry_after_seconds(b"7") == 7
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412420) == 60
    assert retry_after_seconds(b"soon") is None
    assert iso_date("发布时间：2025年1月7日 10:00") == "2025-01-07"
    assert iso_date("2025.01.22") == "2025-01-22" and iso_date("第13期") is None


def test_deadlines_and_alerts_sections(tmp_path):
    config = _load(tmp_path, WITH_SECTIONS)
    assert config.deadlines.grace_days == 7
    assert config.deadlines.due(2024, "township", "431201001000").isoformat() == "2025-02-20"
    assert [c.name for c in config.alerts.channels] == ["log", "email", "dingtalk-0"]
    assert config.alerts.channels[1].port == 587 and config.alerts.channels[1].security == "starttls"


def _walked(previous: list[str], seen: list[str]):
    from crawler.coverage import Walk

    walk = Walk("p", "http://x/list/", None, "trs", "t", previous=previous)
    for url in seen:
        walk.kept_entry(url, "某某县财政局2024年政府信息公开工作年度报告", 2026)
    return walk


@pytest.mark.parametrize(
    "seen, gap",
    [
        (["n", "a", "b", "c"], None),  # a new entry pushed d onto the next page
        (["a", "b", "c", "d"], None),  # nothing changed
        (["c", "a", "b", "d"], None),  # an entry moved up the list
        (["a", "c", "d", "e"], "b"),  # b left the list
        (["n", "a", "c", "d"], "b"),  # b left as n arrived: the count alone would not show it
        (["x", "y"], None),  # nothing seen again: this is not the list the last crawl read
    ],
)
def test_a_walk_reads_on_when_its_pages_show_a_gap(seen, gap):
    walk = _walked(["a", "b", "c", "d", "e", "f"], seen)
    assert walk.gap() == gap and walk.may_stop() == (gap is None)
    walk.full_due = True
    assert not walk.may_stop()


@pytest.mark.parametrize(
    "body, final, gone",
    [
        ("<h1>404</h1><p>抱歉，您访问的页面不存在或已被删除</p>", "http://x/a/1.html", "页面不存在"),
        ("<p>Error 404 - Not Found</p>", "http://x/a/1.html", "Error 404"),
        ("<h1>某某县人民政府</h1><p>欢迎访问</p>", "http://x/", "跳转到 http://x/"),
        ("<h1>出错了</h1>", "http://x/404.html", "跳转到 http://x/404.html"),
        ("<h1>某某县人民政府</h1><p>欢迎访问</p>", "http://x/a/1.html", None),  # the home page where the report was
        ("<div id='app'></div><script src='app.js'></script>", "http://x/a/1.html", None),  # a script-built page
        ("<p>共受理申请 404 件</p>", "http://x/a/1.html", None),
        ("<p>新闻</p>", "http://x/a/other.html", None),  # elsewhere, not home or an error page
    ],
)
def test_a_soft_404_counts_as_gone_only_when_it_says_so(body, final, gone):
    from crawler.detail import looks_gone

    page = Page(final, 200, f"<html><head><title>t</title></head><body>{body}</body></html>".encode(), "text/html")
    said = looks_gone(page, "http://x/a/1.html")
    assert (said is None) if gone is None else (gone in said)


def test_a_walk_records_every_entry_in_list_order():
    """Every entry, report or not: a report whose list title is reworded is still on the list."""
    walk = _walked([], ["a"])
    walk.kept_entry("b", "关于做好2024年政府信息公开工作年度报告编制发布工作的通知", 2026)
    walk.kept_entry("a", "某某县财政局2024年政府信息公开工作年度报告", 2026)  # listed twice: its first place
    assert [e["url"] for e in walk.record("t")["entries"]] == ["a", "b"] and walk.record(None)["entries"] == []
    assert (walk.record("t")["items"], walk.record("t")["kept"]) == (2, 1)


def test_no_spider_callback_is_a_generator_that_returns_a_value():
    """What Scrapy's WARN_ON_GENERATOR_RETURN_VALUE checks on every response (turned off for
    its cost), checked here once on every method of the spider."""
    import inspect

    from scrapy.utils.misc import is_generator_with_return_value

    from crawler.spiders.portal import PortalSpider

    generators = [f for _, f in inspect.getmembers(PortalSpider, inspect.isgeneratorfunction)]
    assert len(generators) >= 3  # parse_list, parse_report, parse_source at least
    assert [f.__name__ for f in generators if is_generator_with_return_value(f)] == []


def test_the_return_value_check_can_fail():
    from scrapy.utils.misc import is_generator_with_return_value

    def callback(response):
        yield response
        return 1

    assert is_generator_with_return_value(callback)
