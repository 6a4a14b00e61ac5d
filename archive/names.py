"""The Chinese names users read for the archive's enum values (levels, finding kinds,
crawl problems, parse results, severities). Code and the database keep the English
values; every view that shows one to a person goes through these tables."""

from __future__ import annotations

LEVEL_NAMES = {"government": "政府", "department": "部门", "township": "乡镇"}

KIND_NAMES = {
    "missing": "缺报",
    "unreachable": "门户无法访问",
    "unstored": "已抓取未入库",
    "unmatched": "年报名称未对应",
    "withdrawn": "发布后撤下",
    "moved": "网址迁移",
    "late": "迟报",
    "replaced": "期限后修改",
    "unparseable": "无法解析",
    "inconsistent": "勾稽不符",
    "cross_year": "跨年度不衔接",
}

PROBLEM_NAMES = {
    "blocked": "被防火墙拦截（未破解）",
    "robots_disallowed": "robots.txt 禁止抓取",
    "soft_404": "软 404（返回首页）",
    "gone_page": "页面已不存在（提示不存在或跳转到首页）",
    "offsite": "重定向到站外",
    "redirect_loop": "重定向循环",
    "oversize": "附件超过大小上限",
    "http_error": "HTTP 错误",
    "unreachable": "无法连接",
    "timeout": "超时",
    "truncated": "响应不完整",
    "connection_lost": "连接中断",
    "bad_link": "链接无效",
    "list_limit": "列表页数超过上限",
    "fetch_error": "抓取错误",
    "forbidden_address": "解析到内网或本机地址（拒绝访问）",
}

PARSE_STATUS_NAMES = {
    "ok": "已解析",
    "no_tables": "无可读表格",
    "no_text": "扫描件（未能识别）",
    "failed": "无法解析",
    "no_source": "未取得文件",
}

SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}

CONFIDENCE_NAMES = {"high": "高", "medium": "中", "low": "低"}


def sql_case(column: str, names: dict[str, str]) -> str:
    """A SQL expression giving ``column``'s Chinese name (the value itself when unnamed)."""
    whens = " ".join(f"when '{value}' then '{name}'" for value, name in names.items())
    return f"(case {column} {whens} else {column} end)"


# Short names of the consistency rules (archive.template.RULES holds their full descriptions).
RULE_NAMES = {
    "requests.balance": "收转办结不平衡",
    "requests.row_total": "总计列不等于各类申请人之和",
    "requests.outcome_sum": "办理结果合计不符",
    "appeals.group_total": "复议诉讼总计不符",
    "check.incomplete": "因空白未能核对",
    "values.nonneg": "出现负数",
    "row.short": "行内单元格不全",
    "row.unattributed": "数值无法对应到行",
    "row.unplaced": "数值所在列无法确定",
    "cell.unreadable": "数值无法识别",
    "row.cut_off": "文本中途截断",
    "table.blank": "表格全部为空",
    "table.missing": "缺少可读表格",
    "narrative.requests_new": "正文与表三新收申请数不符",
    "narrative.requests_granted": "正文与表三予以公开数不符",
    "narrative.requests_carried_over": "正文与表三上年结转数不符",
    "narrative.requests_carried_forward": "正文与表三结转下年数不符",
    "narrative.review_total": "正文与表四行政复议数不符",
    "narrative.suit_total": "正文与表四行政诉讼数不符",
    "document.no_text": "扫描件无文字层",
}

PUBLISHED_SOURCE_NAMES = {
    "meta": "页面元数据",
    "page": "页面上的发布日期",
    "list": "栏目列表上的日期",
    "written": "成文日期",
}

SOURCE_ROLE_NAMES = {"page": "年报页面", "part": "续页", "attachment": "附件", "zip": "压缩包内文件"}
