"""A parsed report for people: the three tables aligned as printed, findings marked.

Colour is added with click.style; ``click.echo`` drops it when the output is
not a terminal.
"""

from __future__ import annotations

import unicodedata
from fnmatch import fnmatchcase

import click

from .coverage import describe
from .normalize import fmt_number
from .report import Finding, Report
from .template import TABLES, Table

_SEVERITY_STYLE = {"error": ("red", "✗"), "warning": ("yellow", "!"), "info": ("bright_black", "·")}
_LABEL_WIDTH = 24
_CELL_WIDTH = 10


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit(text: str, size: int, align: str = "<") -> str:
    """Pad or cut ``text`` to ``size`` terminal columns (CJK characters are two wide)."""
    out, used = "", 0
    for ch in text:
        w = width(ch)
        if used + w > size:
            out = out[:-1] + "…" if out else "…"
            used = width(out)
            break
        out += ch
        used += w
    pad = " " * max(size - used, 0)
    return out + pad if align == "<" else pad + out


def _fmt(value) -> str:
    if value is None:
        return "—"
    return fmt_number(value)


def _flagged(key: str, findings: list[Finding]) -> str | None:
    worst = None
    for f in findings:
        if f.severity == "info":
            continue
        if fnmatchcase(key, f.where) or key.startswith(f.where + "."):
            if f.severity == "error":
                return "error"
            worst = "warning"
    return worst


def _row_line(table: Table, row, columns, report: Report) -> str:
    parts = [fit(row.label, _LABEL_WIDTH)]
    for c in columns:
        key = f"{table.key}.{row.key}.{c.key}"
        if key not in report.cells:
            parts.append(fit("", _CELL_WIDTH))
            continue
        text = fit(_fmt(report.cells[key]), _CELL_WIDTH, ">")
        flag = _flagged(key, report.findings)
        parts.append(click.style(text, fg=_SEVERITY_STYLE[flag][0], bold=True) if flag else text)
    return parts[0] + " ".join(parts[1:])


def _table_lines(table: Table, report: Report) -> list[str]:
    """The table as printed: one block per sub-table (第二十条 items), each with its header."""
    cells = report.cells
    rows = [r for r in table.rows if any(k.startswith(f"{table.key}.{r.key}.") for k in cells)]
    if not rows:
        return []
    lines = [click.style(table.title, bold=True)]
    blocks: list[tuple[str | None, list]] = []
    for row in rows:
        group = row.group if table.key == "disclosure" else None
        if not blocks or blocks[-1][0] != group:
            blocks.append((group, []))
        blocks[-1][1].append(row)
    for group, block_rows in blocks:
        columns = [c for c in table.columns if any(f"{table.key}.{r.key}.{c.key}" in cells for r in block_rows)]
        head = fit(group or "", _LABEL_WIDTH) + " ".join(fit(c.label, _CELL_WIDTH, ">") for c in columns)
        lines.append(click.style(head, fg="bright_black"))
        lines += [_row_line(table, row, columns, report) for row in block_rows]
    return lines


def render(report: Report, source: str) -> str:
    head = " · ".join(
        [
            report.agency or "（未署名机关）",
            f"{report.year} 年" if report.year else "年份不详",
            f"{report.template} 格式" if report.template else "无标准表格",
            source,
        ]
    )
    out = [click.style(head, bold=True)]
    for table in TABLES:
        lines = _table_lines(table, report)
        if lines:
            out += [""] + lines
    out.append("")
    c = report.coverage
    if c:
        complete = c["complete"]
        sentence = describe(c["template_cells"], c["cells_read"], c["undecided"], c["rows_unattributed"])
        out.append(click.style(sentence, fg="green" if complete else "yellow"))
    if not report.findings:
        out.append(click.style("✓ 所有规则均通过", fg="green"))
    for f in report.findings:
        colour, mark = _SEVERITY_STYLE.get(f.severity, ("white", "?"))
        out.append(click.style(f"{mark} {f.rule}", fg=colour, bold=f.severity == "error") + f"  {f.where}  {f.message}")
    return "\n".join(out)
