"""Datasette for the archive: Chinese titles, column descriptions (units in
them), facets, sorts, label columns, and saved queries for what users ask.

Everything that names a table's columns reads ``archive.template``; the
saved queries read the columns the schema keeps for them (``reports.region``,
``reports.level``, key figures) so each stays an index lookup at national
scale (``bench/archive.py`` times them).
"""

from __future__ import annotations

from .deadlines import Deadlines
from .template import RULES, TABLES

# The statutory deadlines (archive.deadlines; local rules from config.yaml apply in
# `nianbao check`, which Datasette's static metadata does not read).
DEADLINE_SQL = Deadlines().sql("r.year", "r.level", "r.region")
EARLIEST = Deadlines().earliest()  # lets the 迟报 query skip, by index, what cannot be late

QUERIES: dict[str, dict] = {
    "missing": {
        "title": "缺报：某年度未找到年报的机关",
        "description": "登记在册的机关中，在归档里找不到该年度年报的（可按行政区划代码前缀筛选，如 4107）。",
        "sql": """select a.id as 机关代码, a.name as 机关, a.level as 层级, a.region as 行政区划
from agencies a
where (a.retired is null or a.retired > cast(:year as integer) || '-12-31') and a.region >= :region and a.region < :region || ';'
  and not exists (select 1 from reports r where r.agency_key = a.id and r.year = cast(:year as integer))
order by a.region, a.level, a.name""",
        "params": ["year", "region"],
    },
    "late": {
        "title": "迟报：发布日期晚于法定期限的年报",
        "description": "部门 1 月 31 日、本级政府 3 月 31 日（2018 年度及以前一律 3 月 31 日）；期限当日发布为按时。",
        "sql": f"""select r.id as 报告, r.agency_name as 机关, r.level as 层级, r.region as 行政区划, r.year as 年度,
  r.published as 发布日期, {DEADLINE_SQL} as 期限,
  cast(julianday(r.published) - julianday({DEADLINE_SQL}) as integer) as 逾期天数,
  r.url as 原文
from reports r
where r.is_current = 1 and r.year = cast(:year as integer) and coalesce(r.region, '') >= :region
  and coalesce(r.region, '') < :region || ';'
  and r.published > (cast(:year as integer) + 1) || '-{EARLIEST}' and r.published > {DEADLINE_SQL}
order by 逾期天数 desc""",
        "params": ["year", "region"],
    },
    "inconsistent": {
        "title": "勾稽不符：核查规则未通过的年报",
        "description": "本年度现行版本中有“错误”级核查结果的年报；可按规则筛选（留空为全部）。",
        "sql": """select r.id as 报告, r.agency_name as 机关, r.region as 行政区划, r.year as 年度, f.rule as 规则,
  f.cell as 位置, f.message as 说明, r.url as 原文
from findings f join reports r on r.id = f.report_id
where f.year = cast(:year as integer) and f.severity = 'error' and r.is_current = 1
  and (:rule = '' or f.rule = :rule) and coalesce(r.region, '') >= :region and coalesce(r.region, '') < :region || ';'
order by r.region, r.agency_name, f.rule""",
        "params": ["year", "rule", "region"],
    },
    "completion": {
        "title": "按地区的年报完成率",
        "description": "各县级行政区划（代码前 6 位）登记机关中已找到该年度年报的比例。",
        "sql": """with expected as (
  select substr(a.region, 1, 6) as region, count(*) as n from agencies a
  where (a.retired is null or a.retired > cast(:year as integer) || '-12-31')
    and substr(a.region, 1, 6) >= :region and substr(a.region, 1, 6) < :region || ';' group by 1),
reported as (
  select substr(r.region, 1, 6) as region, count(*) as n from reports r
  where r.year = cast(:year as integer) and r.is_current = 1 and r.agency_id is not null
    and substr(r.region, 1, 6) >= :region and substr(r.region, 1, 6) < :region || ';' group by 1)
select e.region as 行政区划, e.n as 应报机关, coalesce(p.n, 0) as 已报,
  round(100.0 * coalesce(p.n, 0) / e.n, 1) as 完成率
from expected e left join reported p on p.region = e.region
order by 完成率, 行政区划""",
        "params": ["year", "region"],
    },
    "agency_history": {
        "title": "某机关历年年报",
        "description": "一个机关（代码，或名称中的文字；未登记机关用全称）各年度的年报、版本和主要数字。",
        "sql": """select r.year as 年度, r.version as 版本, r.is_current as 现行, r.agency_name as 机关,
  r.published as 发布日期, r.template as 格式, r.new_requests as 新收申请, r.carried_over as 上年结转,
  r.handled as 办结, r.carried_forward as 结转下年, r.reviews as 行政复议, r.suits as 行政诉讼,
  r.errors as 错误, r.url as 原文, r.id as 报告
from reports r
where r.agency_key in (select id from agencies where id = :agency or name like '%' || :agency || '%'
                       union select 'name:' || :agency)
order by r.year desc, r.version desc
limit 200""",
        "params": ["agency"],
    },
    "jumps": {
        "title": "同比异常：新收申请数大幅变化",
        "description": "本年度与上年度相比，新收政府信息公开申请数变化超过 :factor 倍（且至少一年不少于 :minimum 件）。",
        "sql": """select cur.agency_name as 机关, cur.region as 行政区划, cur.prev_new_requests as 上年新收,
  cur.new_requests as 本年新收, round(cur.jump, 1) as 倍数, cur.id as 本年报告,
  (select p.id from reports p where p.agency_key = cur.agency_key and p.year = cur.year - 1 and p.is_current = 1)
    as 上年报告
from reports cur
where cur.year = cast(:year as integer) and cur.is_current = 1 and cur.jump >= cast(:factor as real)
  and coalesce(cur.region, '') >= :region and coalesce(cur.region, '') < :region || ';'
  and max(cur.new_requests, cur.prev_new_requests) >= cast(:minimum as integer)
order by cur.jump desc limit 500""",
        "params": ["year", "region", "factor", "minimum"],
    },
}


def _table_columns(table) -> dict[str, str]:
    columns = {
        "report_id": "年报（版本）编号",
        "row": "行（报告模板中的行键）",
        "label": "行名称（按国家模板）",
        "blanks": "印出但为空的列（“/”“—”“无”等），空值表示“有此格无数字”",
        "ocr": "由 OCR 从扫描件识别的列及其识别置信度（JSON，0–1）；空值表示不是 OCR 识别的",
    }
    for c in table.columns:
        columns[c.key] = f"{c.label}（{c.description}；单位：{c.unit}）"
    return columns


def metadata(blob_url: str = "/-/capture/") -> dict:
    tables = {
        "reports": {
            "title": "年报（每个版本一行）",
            "description": "每个机关每个年度的年报；同一机关同一年度内容改变后重新发布为新版本，is_current=1 为现行版本。",
            "sort_desc": "year",
            "label_column": "title",
            "facets": ["year", "template", "parse_status", "level", "is_current"],
            "columns": {
                "agency_key": "机关键：配置中的机关代码，未登记的为“name:机关名称”",
                "agency_id": "机关代码（配置）",
                "agency_name": "机关名称",
                "year": "报告年度（统计年度，不是发布年度）",
                "version": "版本号（从 1 起）",
                "is_current": "是否现行版本（1 是）",
                "title": "标题",
                "url": "原文地址（门户上的页面）",
                "published": "发布日期（页面元数据或发布时间；不取自网址）",
                "published_source": "发布日期来源：meta 元数据 / page 页面 / list 列表 / written 成文日期",
                "first_seen": "首次抓到该版本的时间（UTC）",
                "last_seen": "最近一次抓到的时间（UTC）",
                "template": "表格格式：2021 或 2019（试行）",
                "parse_status": "解析结果：ok / no_tables / no_text / failed",
                "parse_error": "解析失败的原因",
                "source_sha256": "数字所取自的原始文件（SHA-256，可下载存档副本）",
                "content_hash": "内容指纹（单元格）",
                "supersedes_id": "本版本取代的上一版本",
                "changed_cells": "与上一版本相比改变的单元格（JSON）",
                "region": "行政区划代码",
                "level": "机关层级",
                "new_requests": "本年新收申请总数（件）",
                "carried_over": "上年结转申请数（件）",
                "handled": "（七）总计：本年办结数（件）",
                "carried_forward": "结转下年度继续办理（件）",
                "reviews": "行政复议总计（件）",
                "suits": "行政诉讼总计（件，两类合计）",
                "errors": "错误级核查结果数",
                "warnings": "警告级核查结果数",
                "ocr_pages": "由 OCR 识别的扫描页（JSON，页码或图片序号）；空值表示没有扫描页",
            },
        },
        "agencies": {
            "title": "机关名录",
            "description": "配置中登记、应当发布年报的机关。",
            "label_column": "name",
            "facets": ["level"],
            "sort": "region",
            "columns": {
                "id": "机关代码",
                "name": "全称",
                "level": "层级：government 政府 / department 部门 / township 乡镇街道",
                "region": "行政区划代码（6 或 12 位）",
                "parent_id": "上级机关",
                "aliases": "别名（JSON）",
                "retired": "撤销或合并日期（之后不再要求发布）",
            },
        },
        "findings": {
            "title": "核查结果",
            "description": "每份年报的勾稽关系等核查结果。",
            "facets": ["rule", "severity", "year"],
            "sort_desc": "year",
            "columns": {
                "rule": "规则（见 rules 表）",
                "severity": "级别：error / warning / info",
                "cell": "涉及的单元格",
                "message": "说明（列出数字）",
            },
        },
        "rules": {"title": "核查规则", "label_column": "description"},
        "captures": {
            "title": "原始抓取（证据）",
            "description": "每一次抓取的响应：地址、时间、状态、响应头和内容哈希。",
            "facets": ["role", "status", "portal"],
            "sort_desc": "fetched_at",
            "columns": {
                "url": "最终地址",
                "requested_url": "请求的地址（重定向前）",
                "fetched_at": "抓取时间（UTC）",
                "sha256": "内容 SHA-256（存档副本）",
                "headers": "响应头（JSON）",
                "referer": "来源页面",
            },
        },
        "documents": {
            "title": "文件（按内容去重）",
            "facets": ["kind"],
            "columns": {"sha256": "内容 SHA-256", "size": "字节数", "kind": "类型"},
        },
        "sightings": {
            "title": "年报发现记录",
            "description": "每次抓取在门户上看到的每份年报（未解析前的原始记录）。",
            "facets": ["portal", "year", "attribution"],
            "label_column": "title",
        },
        "report_sources": {
            "title": "年报来源",
            "description": "同一年报的页面、附件、压缩包内文件；used=1 为取数来源。",
            "facets": ["role", "kind", "used"],
        },
        "problems": {
            "title": "抓取问题",
            "facets": ["kind", "portal"],
            "sort_desc": "at",
            "columns": {"kind": "blocked 防火墙拦截（未破解）/ robots_disallowed / http_error / unreachable / …"},
        },
        "crawl_runs": {"title": "抓取批次", "sort_desc": "started_at"},
        "list_walks": {
            "title": "列表覆盖情况",
            "description": "每次抓取对每个年报列表读了多少：页数、条目、是否完整读取；"
            "未完整读取的列表，其机关记为门户无法访问而非缺报。",
            "facets": ["seen", "warning", "portal"],
            "sort_desc": "id",
        },
        "labels": {"title": "表格标签（国家模板）", "facets": ["table_name", "template"]},
        "report_text": {"title": "年报全文", "fts_table": "report_text_fts", "fts_pk": "report_id"},
        "alerts_sent": {"title": "已发送提醒"},
        "alert_digests": {"title": "提醒批次", "description": "每个渠道每次计划发送的提醒：摘要一条，详情分若干部分。"},
        "alert_parts": {
            "title": "提醒消息",
            "description": "每条消息的发送状态：pending 待发送（被拒绝的下次重发）、sent 已送达、superseded 内容已过时未发送。",
            "facets": ["channel", "status", "role"],
        },
        "alert_part_findings": {"title": "提醒消息所含问题"},
        "apscheduler_jobs": {"hidden": True},  # nianbao schedule's job store (pickled state)
    }
    for table in TABLES:
        tables[table.key] = {
            "title": table.title,
            "description": table.description,
            "facets": ["row"],
            "label_column": "label",
            "columns": _table_columns(table),
        }
    tables["cells"] = {
        "title": "全部单元格（长表）",
        "description": "三张表的每个单元格一行：表、行、列、数值；ocr_score 为 OCR 识别置信度（非扫描件为空）。",
        "facets": ["table_name", "column"],
    }
    return {
        "title": "年报归档 nianbao",
        "description": "政府信息公开工作年度报告的归档、解析与核查。规则：" + "；".join(r.id for r in RULES),
        "license": "数据来自各政府门户公开发布的年报",
        "databases": {
            "archive": {
                "title": "年报归档",
                "tables": tables,
                "queries": {name: {k: v for k, v in q.items() if k != "params"} for name, q in QUERIES.items()},
            }
        },
        "plugins": {"nianbao": {"blob_url": blob_url}},
    }
