"""The saved queries: what users ask of the archive, in Chinese.

缺报, 迟报, 无法访问, 勾稽不符 and every other finding are read from the stored
findings (``compliance``) and the expected agencies (``roll``) that
``nianbao check`` and ``nianbao run`` write: no query works them out again, so
Datasette, the exports, the alerts and the demo give one answer.

Each query declares its parameters with Chinese labels and defaults (the
latest year checked, all regions); :mod:`archive.web` fills in what a request
leaves out and turns a region name into its code prefix before a query runs.
Every filter is an index lookup at national scale (``bench/archive.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..names import CONFIDENCE_NAMES, KIND_NAMES, LEVEL_NAMES, RULE_NAMES, sql_case
from ..regions import name_sql

PARAM_LABELS = {
    "year": "年度",
    "region": "地区（名称或行政区划代码）",
    "rule": "规则（留空为全部）",
    "kind": "核查类型（留空为全部）",
    "status": "状态（留空为全部；已报 / 未报）",
    "agency": "机关（名称中的文字或机关代码）",
    "factor": "变化倍数不少于",
    "minimum": "两年中较大者不少于（件）",
}
STATIC_DEFAULTS = {"region": "", "rule": "", "kind": "", "status": "", "factor": "3", "minimum": "10"}
REQUIRED = {"agency"}  # no default: the query shows nothing until it is given

LEVEL = sql_case("{t}.level", LEVEL_NAMES)
KIND = sql_case("{t}.kind", KIND_NAMES)


def _in_region(column: str) -> str:
    return f"coalesce({column}, '') >= :region and coalesce({column}, '') < :region || ';'"


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    description: str
    sql: str
    params: tuple[str, ...]
    hide_sql: bool = True
    extra: dict = field(default_factory=dict)

    def metadata(self) -> dict:
        return {
            "title": self.title,
            "description": self.description,
            "sql": self.sql,
            "params": list(self.params),
            "hide_sql": self.hide_sql,
        }


def _open_findings(kind: str, title: str, description: str, columns: str, order: str) -> Query:
    return Query(
        kind,
        title,
        description,
        f"""select c.agency_name as 机关, {LEVEL.format(t="c")} as 层级, c.region as 行政区划, {name_sql("c.region")} as 地区,
  {columns}
from compliance c
where c.year = cast(:year as integer) and c.kind = '{kind}' and c.resolved_at is null and {_in_region("c.region")}
order by {order}""",
        ("year", "region"),
    )


def _open_count(kind: str) -> str:
    """How many of a group's agencies have an open finding of ``kind`` (``r`` is the roll)."""
    return (
        f"sum(exists(select 1 from compliance c where c.agency_key = r.agency_key and c.year = r.year "
        f"and c.kind = '{kind}' and c.resolved_at is null))"
    )


_OPEN_COUNTS = ", ".join(_open_count(k) for k in ("missing", "late", "unreachable", "inconsistent"))


# 同比异常 for one year; the country reads the jump index in order, a region its own reports
# (one query for both: the half whose condition on :region is false reads nothing)
_JUMP = (
    "cur.year = cast(:year as integer) and cur.is_current = 1 and cur.jump >= cast(:factor as real) "
    "and max(cur.new_requests, cur.prev_new_requests) >= cast(:minimum as integer)"
)


def findings_sql(limit: int) -> str:
    """Open findings of a year and region, newest first (the saved query, and the front page's recent ones)."""
    return f"""select substr(c.first_seen, 1, 10) as 首次发现, {KIND.format(t="c")} as 类型, c.agency_name as 机关,
  c.region as 行政区划, {name_sql("c.region")} as 地区, c.detail as 说明, c.report_id as 报告
from compliance c
where c.year = cast(:year as integer) and c.resolved_at is null and {_in_region("c.region")}
  and (:kind = '' or c.kind = :kind or {KIND.format(t="c")} = :kind)
order by c.first_seen desc, c.rowid desc
limit {limit}"""


QUERIES: dict[str, Query] = {
    q.name: q
    for q in (
        _open_findings(
            "missing",
            "缺报：期限和宽限期已过、未找到年报的机关",
            "nianbao check 的核查结果：应报机关（名录中的机关和往年发布过年报的机关，撤销合并的除外）在法定或本地期限"
            "加宽限期之后仍未找到该年度年报，且其门户列表已读取。门户被拦截或无法访问的不在此列（见“无法访问”）。",
            f"""c.due as 期限, c.detail as 说明, {sql_case("c.confidence", CONFIDENCE_NAMES)} as 可信度,
  substr(c.first_seen, 1, 10) as 首次发现""",
            "c.region, c.level, c.agency_name",
        ),
        _open_findings(
            "late",
            "迟报：发布日期晚于期限的年报",
            "nianbao check 的核查结果：部门 1 月 31 日、本级政府和乡镇 3 月 31 日（有本地规则的按本地规则）；"
            "期限当日发布为按时。",
            f"""c.due as 期限, c.detail as 说明, {sql_case("c.confidence", CONFIDENCE_NAMES)} as 可信度,
  c.report_id as 报告, c.evidence as 原文""",
            "c.region, c.agency_name",
        ),
        _open_findings(
            "unreachable",
            "无法访问：门户被拦截或无法读取，不计为缺报",
            "nianbao check 的核查结果：列出这些机关年报的门户在最近一次抓取中被防火墙拦截、robots.txt 禁止或无法连接，"
            "或年报已列出但页面无法读取。是否发布无法判断，不计为缺报。",
            "c.due as 期限, c.detail as 说明, c.evidence as 问题网址, substr(c.first_seen, 1, 10) as 首次发现",
            "c.region, c.agency_name",
        ),
        Query(
            "inconsistent",
            "勾稽不符：现行版本未通过核查规则的年报",
            "nianbao check 的核查结果：现行版本中有“错误”级核查结果的年报，每条规则一行。",
            f"""select c.agency_name as 机关, c.region as 行政区划, {name_sql("c.region")} as 地区,
  {sql_case("f.rule", RULE_NAMES)} as 规则, f.message as 说明, c.report_id as 报告, c.evidence as 原文,
  case r.read_fully when 1 then '完整' when 0 then '部分' else '未统计' end as 读取
from compliance c join findings f on f.report_id = c.report_id and f.severity = 'error'
  left join reports r on r.id = c.report_id
where c.year = cast(:year as integer) and c.kind = 'inconsistent' and c.resolved_at is null and {_in_region("c.region")}
  and (:rule = '' or f.rule = :rule or {sql_case("f.rule", RULE_NAMES)} = :rule)
order by c.region, c.agency_name, f.rule""",
            ("year", "region", "rule"),
        ),
        Query(
            "withdrawn",
            "发布后撤下与网址迁移",
            "nianbao check 的核查结果：已发布并已存档的年报，其网址都已失效（从完整读取的列表中消失，或页面返回 404、"
            "410、软 404）为“发布后撤下”，证据为最后一次抓到的日期和存档副本；部分网址失效、仍可在另一网址找到为"
            "“网址迁移”。门户无法访问、列表未完整读取或只读了有新内容的几页时，不作此结论。",
            f"""select {KIND.format(t="c")} as 类型, c.agency_name as 机关, {LEVEL.format(t="c")} as 层级, c.region as 行政区划,
  {name_sql("c.region")} as 地区, c.detail as 说明, {sql_case("c.confidence", CONFIDENCE_NAMES)} as 可信度,
  c.evidence as 证据, c.report_id as 报告, substr(c.first_seen, 1, 10) as 首次发现
from compliance c
where c.year = cast(:year as integer) and c.kind in ('withdrawn', 'moved') and c.resolved_at is null
  and {_in_region("c.region")}
order by c.kind desc, c.region, c.agency_name""",
            ("year", "region"),
        ),
        Query(
            "issues",
            "核查结果：某年度全部未解决的问题",
            "缺报、门户无法访问、发布后撤下、网址迁移、迟报、期限后修改、无法解析、勾稽不符、跨年度不衔接，"
            "按首次发现时间排列（新的在前）。",
            findings_sql(1000),
            ("year", "region", "kind"),
        ),
        Query(
            "expected",
            "应报机关：某年度应当发布年报的全部机关及其状态",
            "nianbao check 核查时的应报机关名录（名录中的机关、往年发布过年报的机关，以及未登记但发布了年报的机关），"
            "每个机关一行：已报、缺报、门户无法访问，或期限未到。",
            f"""select r.agency_name as 机关, {LEVEL.format(t="r")} as 层级, r.region as 行政区划, {name_sql("r.region")} as 地区,
  case when r.report_id is not null then '已报'
    else coalesce((select {KIND.format(t="c")} from compliance c where c.agency_key = r.agency_key and c.year = r.year
                   and c.resolved_at is null and c.kind in ('missing', 'unreachable')), '期限未到') end as 状态,
  (select group_concat({KIND.format(t="c")}, '、') from compliance c where c.agency_key = r.agency_key and c.year = r.year
     and c.resolved_at is null and c.kind not in ('missing', 'unreachable')) as 核查结果,
  r.report_id as 报告
from roll r
where r.year = cast(:year as integer) and r.region >= :region and r.region < :region || ';'
  and (:status = '' or (:status = '已报') = (r.report_id is not null))
order by r.region, r.level, r.agency_name""",
            ("year", "region", "status"),
        ),
        Query(
            "completion",
            "完成率：按下级地区的应报、已报和问题数",
            "全国按省、省按市、市按县（区）、县按乡镇统计：应报机关、已报、缺报、迟报、门户无法访问、勾稽不符和"
            "完成率（已报 ÷ 应报）。",
            f"""with counts as (
  select substr(k.county, 1, length(:region) + 2) as sub, sum(k.expected) as n, sum(k.reported) as reported,
    sum(k.missing) as missing, sum(k.late) as late, sum(k.unreachable) as unreachable, sum(k.inconsistent) as inconsistent
  from roll_counts k
  where length(:region) < 6 and k.year = cast(:year as integer) and k.county >= :region and k.county < :region || ';'
  group by 1
  union all
  select r.region, count(*), count(r.report_id), {_OPEN_COUNTS}
  from roll r
  where length(:region) >= 6 and r.year = cast(:year as integer) and r.region >= :region and r.region < :region || ';'
  group by r.region)
select sub as 行政区划, {name_sql("sub")} as 地区, n as 应报, reported as 已报, missing as 缺报, late as 迟报,
  unreachable as 无法访问, inconsistent as 勾稽不符, round(100.0 * reported / n, 1) as 完成率
from counts
order by 完成率, 行政区划""",
            ("year", "region"),
        ),
        Query(
            "agency_history",
            "某机关历年年报",
            "一个机关（代码，或名称中的文字；未登记机关用全称）各年度的年报、版本和主要数字。",
            """select r.year as 年度, r.version as 版本, case r.is_current when 1 then '现行' else '旧版' end as 现行,
  r.agency_name as 机关, r.published as 发布日期, r.template as 格式, r.new_requests as 新收申请,
  r.carried_over as 上年结转, r.handled as 办结, r.carried_forward as 结转下年, r.reviews as 行政复议,
  r.suits as 行政诉讼, r.errors as 错误, r.url as 原文, r.id as 报告
from reports r
where :agency != '' and r.agency_key in (select id from agencies where id = :agency or name like '%' || :agency || '%'
                       union select 'name:' || :agency)
order by r.year desc, r.version desc
limit 200""",
            ("agency",),
        ),
        Query(
            "jumps",
            "同比异常：新收申请数大幅变化",
            "本年度与上年度相比，新收政府信息公开申请数变化达到设定倍数（且两年中较大者不少于设定件数）。",
            f"""with jumps as (
  select * from (select cur.id from reports cur where :region = '' and {_JUMP} order by cur.jump desc limit 500)
  union all
  select * from (select cur.id from reports cur where cur.region >= :region and cur.region < :region || ';' and :region != ''
                 and {_JUMP} order by cur.jump desc limit 500))
select cur.agency_name as 机关, cur.region as 行政区划, {name_sql("cur.region")} as 地区,
  cur.prev_new_requests as 上年新收, cur.new_requests as 本年新收, round(cur.jump, 1) as 倍数, cur.id as 报告,
  (select p.id from reports p where p.agency_key = cur.agency_key and p.year = cur.year - 1 and p.is_current = 1)
    as 上年报告
from jumps j join reports cur on cur.id = j.id
order by cur.jump desc""",
            ("year", "region", "factor", "minimum"),
        ),
    )
}
