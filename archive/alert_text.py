"""The words of an alert: one finding per line, the summary, and the details packed
into numbered parts at line boundaries, each under a size limit measured the
way the receiving robot measures it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from .compliance import KIND_NAMES, KINDS
from .names import LEVEL_NAMES  # noqa: F401  (alert_email and alerts import it from here)
from .regions import label
from .report_urls import CAPTURE_PATH

NEWS = (("new", "新发现"), ("changed", "有变化"), ("resolved", "已解决"))
_MARKDOWN_SPECIALS = str.maketrans({"*": "＊", "[": "［", "]": "］", "<": "＜", ">": "＞", "`": "｀", "#": "＃"})


def place(region: str | None) -> str:
    """How a region is shown in alerts (the one place: region names are wired in here)."""
    return label(region)


@dataclass(frozen=True)
class Style:
    markdown: bool

    def safe(self, text: str) -> str:
        """Text from the archive (names, details) as one line that cannot carry markup or links."""
        text = " ".join(str(text).split())
        return text.translate(_MARKDOWN_SPECIALS) if self.markdown else text

    def heading(self, text: str) -> str:
        return f"### {text}" if self.markdown else text

    def bold(self, text: str) -> str:
        return f"**{text}**" if self.markdown else f"【{text}】"

    def link(self, label: str, url: str) -> str:
        if not self.markdown:
            return f"{label}：{url}"
        return f"[{label}]({url.replace(' ', '%20').replace('(', '%28').replace(')', '%29')})"


def counts_text(counter: Counter) -> str:
    return "，".join(f"{KIND_NAMES[k]} {counter[k]}" for k in KINDS if counter[k])


def evidence_label(evidence: str) -> str:
    """What an evidence link opens: the archive's copy (withdrawn reports) or the portal's page."""
    return "存档副本" if CAPTURE_PATH in evidence else "原文"


def finding_line(row: dict, style: Style) -> str:
    flag = "" if row.get("confidence", "high") == "high" else f"（可信度 {row['confidence']}）"
    evidence = " " + style.link(evidence_label(row["evidence"]), row["evidence"]) if row.get("evidence") else ""
    return (
        f"- {place(row['region'])} · {KIND_NAMES[row['kind']]} · {style.safe(row['agency_name'] or row['agency_key'])}"
        f"（{row['year']}）：{style.safe(row['detail'])}{flag}{evidence}"
    )


@dataclass(frozen=True)
class Line:
    text: str
    section: str  # the news group's title, repeated (续) at the top of a part that continues it
    row: dict


def detail_lines(rows: list[dict], style: Style) -> list[Line]:
    """One line per finding: new, then changed, then resolved; each in the order ``nianbao check`` prints."""
    order = {news: i for i, (news, _) in enumerate(NEWS)}
    titles = dict(NEWS)
    ordered = sorted(rows, key=lambda r: (order[r["news"]], r["region"] or "", KINDS.index(r["kind"]), r["agency_name"] or ""))
    return [Line(finding_line(r, style), titles[r["news"]], r) for r in ordered]


def with_headings(lines: list[Line], style: Style) -> list[str]:
    """The lines of one message, each news group under its title."""
    out, section = [], None
    for line in lines:
        if line.section != section:
            out.append(style.bold(line.section))
            section = line.section
        out.append(line.text)
    return out


Measure = Callable[[str, list[dict]], int]  # (text, findings carried) → bytes as the receiver counts them


def _fit(text: str, budget: int, cost: Callable[[str], int]) -> str:
    """The longest prefix of a line (cut at a character, marked …) whose cost is within budget."""
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if cost(text[:mid] + "…") <= budget:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "…"


def pack(
    header: Callable[[int, int], str], lines: list[Line], style: Style, measure: Measure, limit: int
) -> list[tuple[str, list[dict]]]:
    """Details as numbered parts ``(text, rows)``: whole lines, each part within ``limit``.

    The header of every part is measured at its widest (part 99999 of 99999) so the
    real numbers, written last, always fit; every part is measured again as sent.
    """
    widest = header(99999, 99999)
    base = measure(widest, [])

    def cost(text: str, row: dict | None = None) -> int:
        # what one more line adds; +1 for the separator between findings in a JSON list
        return measure(widest + "\n" + text, [row] if row else []) - base + (1 if row else 0)

    packed: list[tuple[list[str], list[dict]]] = []
    texts: list[str] = []
    rows: list[dict] = []
    size, section = base, None
    for line in lines:
        heading = None if line.section == section else style.bold(line.section)
        if rows and size + cost(line.text, line.row) + (cost(heading) if heading else 0) > limit:
            packed.append((texts, rows))
            texts, rows, size = [], [], base
            heading = style.bold(f"{line.section}（续）" if line.section == section else line.section)
        heading_cost = cost(heading) if heading else 0
        text = line.text
        if size + heading_cost + cost(text, line.row) > limit:  # one finding longer than a whole message: cut
            row_cost = cost(text, line.row) - cost(text)
            text = _fit(text, limit - size - heading_cost - row_cost, cost)
        if heading:
            texts.append(heading)
        texts.append(text)
        rows.append(line.row)
        size += heading_cost + cost(text, line.row)
        section = line.section
    if rows:
        packed.append((texts, rows))
    parts = []
    for number, (texts, rows) in enumerate(packed, 1):
        text = header(number, len(packed)) + "\n" + "\n".join(texts)
        if measure(text, rows) > limit:
            raise RuntimeError(f"part {number} measures {measure(text, rows)} bytes, over {limit}")  # a bug, never sent
        parts.append((text, rows))
    return parts


@dataclass(frozen=True)
class Scope:
    """What a channel receives, in words, and where its archive pages are."""

    label: str  # e.g. "4107、4312 · 政府、部门" or "全部"
    links: tuple[tuple[str, str], ...]  # (label, URL) of the archive's front page per region and year


def _region_lines(totals: dict[str, Counter], digits: int, limit_lines: int | None) -> list[str]:
    grouped: dict[str, Counter] = {}
    for region, counter in totals.items():
        key = region[:digits] if region and digits else region
        grouped.setdefault(key, Counter()).update(counter)
    keys = sorted(grouped, key=lambda k: k or "")
    shown = keys if limit_lines is None else keys[:limit_lines]
    lines = [f"- {place(k)}：{counts_text(grouped[k])}" for k in shown]
    if len(shown) < len(keys):
        rest = Counter()
        for k in keys[len(shown) :]:
            rest.update(grouped[k])
        lines.append(f"- ……另有 {len(keys) - len(shown)} 个地区：{counts_text(rest)}")
    return lines


def summary_text(
    years: list[int],
    scope: Scope,
    news: Counter,
    totals: dict[str, Counter],
    parts: int,
    style: Style,
    fits: Callable[[str], bool],
    per_run: int | None = None,
) -> str:
    """The first message: what is new, the open findings in the channel's scope by kind and by
    region (the counts ``nianbao check`` gives), and links to the archive. Regions are rolled up
    (county → city → province, then the rest summed) until the message fits."""
    year_text = "、".join(str(y) for y in years) + " 年度" if years else ""
    all_kinds = Counter()
    for counter in totals.values():
        all_kinds.update(counter)
    told = "，".join(f"{title} {news[n]} 条" for n, title in NEWS if news[n]) or "没有新内容"
    head = [
        style.heading(f"年报核查提醒 · {year_text} · {scope.label}"),
        f"- 本次提醒：{told}" + (f"；详情 {parts} 条消息随后发送" if parts else ""),
        f"- 当前问题（共 {sum(all_kinds.values())} 条）：{counts_text(all_kinds) or '无'}",
    ]
    if per_run and parts >= per_run:  # the summary is one of the run's messages too
        head.append(f"- 每次运行最多发送 {per_run} 条消息，其余详情在以后的运行中继续发送")
    links = [style.link(label, url) for label, url in scope.links]
    for digits, limit_lines in ((6, None), (4, None), (2, None), (2, 20), (2, 5), (2, 0)):
        body = [style.bold("按地区")] + _region_lines(totals, digits, limit_lines) if totals else []
        text = "\n".join(head + body + links)
        if fits(text):
            return text
    raise RuntimeError("the summary does not fit in one message even without regions")  # a bug, never sent
