"""The national annual-report template, declared once.

Everything that knows about the three standard tables reads this module: the
parser (row/column labels and their variants), the consistency rules (which
rows and columns add up to what), the SQLite schema and the Datasette labels.
There is no second copy of the row list anywhere else.

Two national formats exist:

* ``"2019"`` — 国办公开办函〔2019〕60号 《…年度报告格式（试行）》, reports for 2019 and 2020;
* ``"2021"`` — 国办公开办函〔2021〕30号, reports from the 2021 reporting year on.

Keys follow ``../shared/spec/report-schema.md``: ``table.row.column``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Template = Literal["2019", "2021"]
TEMPLATES: tuple[Template, ...] = ("2019", "2021")
BOTH: frozenset[str] = frozenset(TEMPLATES)

Kind = Literal["count", "money", "signed"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    variants: tuple[str, ...] = ()
    kind: Kind = "count"
    unit: str = "件"
    description: str = ""
    group: str | None = None  # the printed header spanning this column and its neighbours

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.variants)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    variants: tuple[str, ...] = ()
    group: str | None = None
    templates: frozenset[str] = BOTH
    # Column keys per template; empty means "the table's columns".
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Rows that stand in for this one in another layout (（六）其他处理 as one row
    # versus its three sub-rows). A report has one or the other, never both.
    alternative_of: tuple[str, ...] = ()

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.variants)

    def column_keys(self, template: str, table: Table) -> tuple[str, ...]:
        if self.columns:
            return self.columns.get(template) or next(iter(self.columns.values()))
        return table.column_keys


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    heading: str
    rows: tuple[Row, ...]
    columns: tuple[Column, ...]
    groups: tuple[str, ...] = ()
    description: str = ""
    # How the form prints it: the header over all data columns, the group a row
    # group is printed inside, and whether rows are printed side by side as
    # column blocks (表四: 行政复议 | 行政诉讼·未经复议直接起诉 | 行政诉讼·复议后起诉).
    column_heading: str | None = None
    group_parents: tuple[tuple[str, str], ...] = ()  # (row group, the group printed around it)
    rows_across: bool = False

    @property
    def column_keys(self) -> tuple[str, ...]:
        return _COLUMN_KEYS[self.key]

    def row(self, key: str) -> Row:
        return _ROWS[self.key][key]

    def column(self, key: str) -> Column:
        return _COLUMNS[self.key][key]


def _index(items):
    return {i.key: i for i in items}


# ---------------------------------------------------------------------------
# 二、主动公开政府信息情况
# ---------------------------------------------------------------------------

_DISCLOSURE_COLUMNS = (
    Column("issued", "本年制发件数", description="本年制发的件数"),
    Column("repealed", "本年废止件数", description="本年废止的件数"),
    Column("in_force", "现行有效件数", description="截至年末现行有效的件数"),
    Column("made", "本年新制作数量", ("本年新制作",), description="本年新制作的数量（2019 格式）"),
    Column("published", "本年新公开数量", ("本年新公开",), description="本年新公开的数量（2019 格式）"),
    Column("public_total", "对外公开总数量", ("对外公开总数",), description="对外公开的总数量（2019 格式）"),
    Column("decisions", "本年处理决定数量", ("处理决定数量",), description="本年作出的处理决定数量"),
    Column("prev_items", "上一年项目数量", ("上一年项目数",), unit="项", description="上一年的项目数量（2019 格式）"),
    Column(
        "change",
        "本年增/减",
        ("本年增减", "本年增\\减"),
        kind="signed",
        unit="项",
        description="本年增加（正）或减少（负）的项目数（2019 格式，可为负数）",
    ),
    Column(
        "amount",
        "本年收费金额（单位：万元）",
        ("本年收费金额", "采购总金额"),
        kind="money",
        unit="万元",
        description="金额，单位万元（以“元”印出的已换算为万元）",
    ),
    Column("projects", "采购项目数量", unit="项", description="政府集中采购项目数量（2019 格式）"),
)

_DOC_COLS = {"2021": ("issued", "repealed", "in_force"), "2019": ("made", "published", "public_total")}
_DECISION_COLS = {"2021": ("decisions",), "2019": ("prev_items", "change", "decisions")}

DISCLOSURE = Table(
    key="disclosure",
    title="二、主动公开政府信息情况",
    heading="主动公开政府信息情况",
    description="条例第二十条第（一）（五）（六）（八）项（2019 格式另有第（九）项）主动公开情况",
    columns=_DISCLOSURE_COLUMNS,
    groups=(
        "第二十条第（一）项",
        "第二十条第（五）项",
        "第二十条第（六）项",
        "第二十条第（八）项",
        "第二十条第（九）项",
        "信息内容",
    ),
    rows=(
        Row("rules", "规章", group="第二十条第（一）项", columns=_DOC_COLS),
        Row("normative_docs", "行政规范性文件", ("规范性文件",), group="第二十条第（一）项", columns=_DOC_COLS),
        Row("licensing", "行政许可", group="第二十条第（五）项", columns=_DECISION_COLS),
        Row(
            "other_services",
            "其他对外管理服务事项",
            group="第二十条第（五）项",
            templates=frozenset({"2019"}),
            columns={"2019": _DECISION_COLS["2019"]},
        ),
        Row("penalty", "行政处罚", group="第二十条第（六）项", columns=_DECISION_COLS),
        Row("coercion", "行政强制", group="第二十条第（六）项", columns=_DECISION_COLS),
        Row(
            "fees", "行政事业性收费", group="第二十条第（八）项", columns={"2021": ("amount",), "2019": ("prev_items", "change")}
        ),
        Row(
            "procurement",
            "政府集中采购",
            group="第二十条第（九）项",
            templates=frozenset({"2019"}),
            columns={"2019": ("projects", "amount")},
        ),
    ),
)

# Header words that tell the two disclosure layouts apart (label text of columns
# and rows that exist in only one template).
DISCLOSURE_MARKERS: dict[str, tuple[str, ...]] = {
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额"),
    "2019": (
        "本年新制作数量",
        "本年新公开数量",
        "对外公开总数量",
        "上一年项目数量",
        "本年增减",
        "采购项目数量",
        "采购总金额",
        "其他对外管理服务事项",
        "政府集中采购",
    ),
}

# ---------------------------------------------------------------------------
# 三、收到和处理政府信息公开申请情况
# ---------------------------------------------------------------------------

APPLICANT_COLUMNS = ("natural_person", "commercial", "research", "social_org", "legal_service", "other_org")

_G3 = "三、本年度办理结果"
_DENY = "（三）不予公开"
_UNABLE = "（四）无法提供"
_REJECT = "（五）不予处理"
_OTHER = "（六）其他处理"

REQUESTS = Table(
    key="requests",
    title="三、收到和处理政府信息公开申请情况",
    heading="收到和处理政府信息公开申请情况",
    description="依申请公开：按申请人类型统计的收到、办理和结转情况（单位：件）",
    columns=(
        Column("natural_person", "自然人", description="申请人为自然人的件数"),
        Column("commercial", "商业企业", description="法人或其他组织：商业企业", group="法人或其他组织"),
        Column("research", "科研机构", description="法人或其他组织：科研机构", group="法人或其他组织"),
        Column("social_org", "社会公益组织", description="法人或其他组织：社会公益组织", group="法人或其他组织"),
        Column("legal_service", "法律服务机构", description="法人或其他组织：法律服务机构", group="法人或其他组织"),
        Column("other_org", "其他", description="法人或其他组织：其他", group="法人或其他组织"),
        Column("total", "总计", ("合计",), description="六类申请人合计"),
    ),
    groups=("申请人情况", "法人或其他组织", _G3, "本年度办理结果", _DENY, _UNABLE, _REJECT),
    column_heading="申请人情况",
    group_parents=((_DENY, _G3), (_UNABLE, _G3), (_REJECT, _G3), (_OTHER, _G3)),
    rows=(
        Row("new", "一、本年新收政府信息公开申请数量"),
        Row("carried_over", "二、上年结转政府信息公开申请数量"),
        Row("granted", "（一）予以公开", group=_G3),
        Row("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", ("部分公开",), group=_G3),
        Row("denied_state_secret", "1.属于国家秘密", group=_DENY),
        Row("denied_law_forbidden", "2.其他法律行政法规禁止公开", ("其他法律行政止公开", "其他法律法规禁止公开"), group=_DENY),
        Row("denied_three_safety", "3.危及“三安全一稳定”", group=_DENY),
        Row("denied_third_party", "4.保护第三方合法权益", group=_DENY),
        Row("denied_internal", "5.属于三类内部事务信息", group=_DENY),
        Row("denied_process", "6.属于四类过程性信息", group=_DENY),
        Row("denied_enforcement_file", "7.属于行政执法案卷", group=_DENY),
        Row("denied_query", "8.属于行政查询事项", group=_DENY),
        Row("unable_not_held", "1.本机关不掌握相关政府信息", group=_UNABLE),
        Row("unable_need_creation", "2.没有现成信息需要另行制作", group=_UNABLE),
        Row("unable_unclear", "3.补正后申请内容仍不明确", group=_UNABLE),
        Row("rejected_petition", "1.信访举报投诉类申请", group=_REJECT),
        Row("rejected_duplicate", "2.重复申请", group=_REJECT),
        Row("rejected_publication", "3.要求提供公开出版物", group=_REJECT),
        Row("rejected_mass", "4.无正当理由大量反复申请", group=_REJECT),
        Row("rejected_confirm", "5.要求行政机关确认或重新出具已获取信息", group=_REJECT),
        Row("other", "（六）其他处理", group=_G3, alternative_of=("other_no_correction", "other_no_fee", "other_other")),
        Row(
            "other_no_correction",
            "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
            group=_OTHER,
            templates=frozenset({"2021"}),
            alternative_of=("other",),
        ),
        Row(
            "other_no_fee",
            "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            group=_OTHER,
            templates=frozenset({"2021"}),
            alternative_of=("other",),
        ),
        Row("other_other", "3.其他", group=_OTHER, templates=frozenset({"2021"}), alternative_of=("other",)),
        Row("total_handled", "（七）总计", ("（七）合计",), group=_G3),
        Row("carried_forward", "四、结转下年度继续办理"),
    ),
)

OUTCOME_ROWS = tuple(r.key for r in REQUESTS.rows if r.group is not None and r.key != "total_handled")

# ---------------------------------------------------------------------------
# 四、政府信息公开行政复议、行政诉讼情况
# ---------------------------------------------------------------------------

APPEALS = Table(
    key="appeals",
    title="四、政府信息公开行政复议、行政诉讼情况",
    heading="政府信息公开行政复议、行政诉讼情况",
    description="因政府信息公开引起的行政复议和行政诉讼（单位：件）",
    columns=(
        Column("upheld", "结果维持", description="结果维持"),
        Column("corrected", "结果纠正", description="结果纠正"),
        Column("other", "其他结果", description="其他结果"),
        Column("pending", "尚未审结", description="尚未审结"),
        Column("total", "总计", ("合计",), description="合计"),
    ),
    groups=("行政复议", "行政诉讼", "未经复议直接起诉", "复议后起诉"),
    rows_across=True,
    rows=(
        Row("review", "行政复议"),
        Row("suit_direct", "行政诉讼·未经复议直接起诉", ("未经复议直接起诉",)),
        Row("suit_after_review", "行政诉讼·复议后起诉", ("复议后起诉",)),
    ),
)

TABLES: tuple[Table, ...] = (DISCLOSURE, REQUESTS, APPEALS)
TABLES_BY_KEY = _index(TABLES)
_ROWS = {t.key: _index(t.rows) for t in TABLES}
_COLUMNS = {t.key: _index(t.columns) for t in TABLES}
_COLUMN_KEYS = {t.key: tuple(c.key for c in t.columns) for t in TABLES}
# Every possible cell key (both templates), in printed order, with its three parts.
CELL_PARTS = {f"{t.key}.{r.key}.{c.key}": (t.key, r.key, c.key) for t in TABLES for r in t.rows for c in t.columns}
# Printed order of every possible cell key, for sorting output.
CELL_ORDER = {key: i for i, key in enumerate(CELL_PARTS)}


# ---------------------------------------------------------------------------
# Consistency rules (勾稽关系 and the rest), declared as data.
# ---------------------------------------------------------------------------

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class SumRule:
    """``sum(left) == sum(right)``, checked per column or per row of one table.

    ``axis="column"``: for each column, the rows in ``left`` add up to the rows in
    ``right``. ``axis="row"``: for each row, the columns in ``left`` add up to the
    columns in ``right``.
    """

    id: str
    table: str
    axis: Literal["column", "row"]
    left: tuple[str, ...]
    right: tuple[str, ...]
    description: str
    severity: Severity = "error"


SUM_RULES: tuple[SumRule, ...] = (
    SumRule(
        "requests.balance",
        "requests",
        "column",
        ("new", "carried_over"),
        ("total_handled", "carried_forward"),
        "勾稽关系：第一项加第二项之和等于第三项（七）总计加第四项之和（每一列）",
    ),
    SumRule("requests.row_total", "requests", "row", ("total",), APPLICANT_COLUMNS, "总计列等于六类申请人之和（每一行）"),
    SumRule(
        "requests.outcome_sum",
        "requests",
        "column",
        ("total_handled",),
        OUTCOME_ROWS,
        "（七）总计等于（一）至（六）各项办理结果之和（每一列）",
    ),
    SumRule(
        "appeals.group_total",
        "appeals",
        "row",
        ("total",),
        ("upheld", "corrected", "other", "pending"),
        "总计等于结果维持、结果纠正、其他结果、尚未审结之和（行政复议和两类行政诉讼）",
    ),
)


@dataclass(frozen=True)
class RuleInfo:
    id: str
    severity: Severity
    description: str


# Every rule id the checker can emit, with what it means: the one list the
# findings table, Datasette and the docs read.
RULES: tuple[RuleInfo, ...] = (
    *(RuleInfo(r.id, r.severity, r.description) for r in SUM_RULES),
    RuleInfo("check.incomplete", "info", "某条规则未能核对：含空白单元格（空白不按 0 计），或表中有数值未能对应到行或列"),
    RuleInfo("values.nonneg", "error", "件数和金额不得为负数（只有 2019 格式的“本年增/减”可为负）"),
    RuleInfo("row.short", "warning", "该行印出的数值少于表格列数，缺失的单元格不计"),
    RuleInfo("row.unattributed", "warning", "表格中有一组数值无法对应到任何行"),
    RuleInfo("row.unplaced", "warning", "该行数值所在的列无法确定（如空白单元格未保留），相关单元格记为空，不作猜测"),
    RuleInfo("cell.unreadable", "warning", "单元格印在数值的位置，却不是可读的数值（如“12(1)”）：记为空，不作猜测"),
    RuleInfo("row.cut_off", "warning", "文本在表格中途结束（如搜索摘录）：未印全的最后一行不计，可能被截断的末尾数值不计"),
    RuleInfo("table.blank", "warning", "表格存在但全部单元格为空"),
    RuleInfo("table.missing", "warning", "报告有该部分标题但没有可读的表格（可能为图片或附件）"),
    # what the prose says is no table that does not add up: real reports count 收到 and 受理
    # differently, or state a figure the table corrects (02-hongze: 17 in the text, 95 in 表三)
    RuleInfo("narrative.requests_new", "warning", "正文所述收到申请数与表三“本年新收”总数不符"),
    RuleInfo("narrative.requests_granted", "warning", "正文所述予以公开数与表三不符"),
    RuleInfo("narrative.requests_carried_over", "warning", "正文所述上年结转数与表三不符"),
    RuleInfo("narrative.requests_carried_forward", "warning", "正文所述结转下年度数与表三不符"),
    RuleInfo("narrative.review_total", "warning", "正文所述行政复议件数与表四不符"),
    RuleInfo("narrative.suit_total", "warning", "正文所述行政诉讼件数与表四不符"),
    RuleInfo("document.no_text", "warning", "文件没有文字层（扫描件），也未能由 OCR 识别"),
    RuleInfo("ocr.read", "info", "部分或全部页面为扫描图像，文字和数字由 OCR 识别，引用前请对照原件"),
    RuleInfo("ocr.check_cells", "warning", "OCR 识别的表格未通过勾稽核对：可能是识别错误而非报告本身有误，请对照原件核对单元格"),
    RuleInfo("ocr.low_score", "warning", "该单元格的 OCR 识别置信度低，请对照原件核对"),
    RuleInfo("ocr.page_limit", "warning", "扫描页数超过每份文件的 OCR 页数上限，其余页面未识别"),
    RuleInfo("ocr.image_unreadable", "warning", "文件中的图片无法解码，未能识别"),
    RuleInfo("document.truncated", "warning", "文件超出读取上限（页数、字符、行数或嵌套层数），只读取了一部分"),
)
RULES_BY_ID = {r.id: r for r in RULES}
