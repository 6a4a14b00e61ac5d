"""An alert as email: an HTML body with a table grouped by region and kind, a
plain-text alternative, and the findings as a CSV attachment (UTF-8 with a BOM,
so spreadsheet programs read the Chinese). A digest too large for one message
is split into numbered messages, each within the size limit."""

from __future__ import annotations

import csv
import html
import io
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from itertools import groupby

from .alert_text import LEVEL_NAMES, NEWS, Style, detail_lines, evidence_label, place, with_headings
from .compliance import KIND_NAMES, KINDS

PLAIN = Style(markdown=False)
_NEWS = dict(NEWS)
CSV_COLUMNS = (
    ("变化", lambda r: _NEWS[r["news"]]),
    ("类别", lambda r: KIND_NAMES[r["kind"]]),
    ("年度", lambda r: r["year"]),
    ("行政区划", lambda r: place(r["region"])),
    ("层级", lambda r: LEVEL_NAMES.get(r["level"] or "", r["level"] or "")),
    ("机关", lambda r: r["agency_name"] or r["agency_key"]),
    ("期限", lambda r: r["due"]),
    ("情况", lambda r: r["detail"]),
    ("可信度", lambda r: r["confidence"]),
    ("证据", lambda r: r["evidence"] or ""),
    ("标识", lambda r: r["key"]),
)
_ORDER = lambda r: (r["region"] or "", KINDS.index(r["kind"]), r["agency_name"] or "")


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for row in sorted(rows, key=_ORDER):
        writer.writerow([get(row) for _, get in CSV_COLUMNS])
    return "\ufeff" + out.getvalue()


def _table(rows: list[dict]) -> str:
    e = html.escape
    out = [
        '<table border="1" cellspacing="0" cellpadding="4" style="border-collapse:collapse">',
        "<tr><th>机关</th><th>年度</th><th>层级</th><th>变化</th><th>情况</th><th>可信度</th><th>证据</th></tr>",
    ]
    for region, in_region in groupby(sorted(rows, key=_ORDER), key=lambda r: r["region"]):
        in_region = list(in_region)
        out.append(f'<tr><th colspan="7" align="left">{e(place(region))}（{len(in_region)} 条）</th></tr>')
        for kind, of_kind in groupby(in_region, key=lambda r: r["kind"]):
            of_kind = list(of_kind)
            out.append(f'<tr><td colspan="7"><b>{e(KIND_NAMES[kind])}（{len(of_kind)}）</b></td></tr>')
            for r in of_kind:
                evidence = f'<a href="{e(r["evidence"])}">{evidence_label(r["evidence"])}</a>' if r["evidence"] else ""
                out.append(
                    f"<tr><td>{e(r['agency_name'] or r['agency_key'])}</td><td>{r['year']}</td>"
                    f"<td>{e(LEVEL_NAMES.get(r['level'] or '', r['level'] or ''))}</td><td>{_NEWS[r['news']]}</td>"
                    f"<td>{e(r['detail'])}</td><td>{e(r['confidence'])}</td><td>{evidence}</td></tr>"
                )
    out.append("</table>")
    return "\n".join(out)


def message(channel, part: dict) -> EmailMessage:
    """One email of a digest. ``part``: subject, number, total, summary (plain text, or empty
    after the first message), rows."""
    numbered = f"（第 {part['number']}/{part['total']} 封）" if part["total"] > 1 else ""
    summary = part["summary"]
    rows = part["rows"]
    msg = EmailMessage()
    msg["Subject"] = part["subject"] + numbered
    msg["From"], msg["To"] = channel.sender, ", ".join(channel.to)
    lines = with_headings(detail_lines(rows, PLAIN), PLAIN)
    head = summary or f"年报核查提醒（续）{numbered}"
    msg.set_content(head + "\n\n" + "\n".join(lines) + "\n\n详细列表见附件 CSV。\n")
    summary_html = "<br>\n".join(html.escape(line) for line in head.splitlines())
    msg.add_alternative(
        f'<html><body><div style="font-family:sans-serif">{summary_html}</div><p></p>{_table(rows)}</body></html>',
        subtype="html",
    )
    name = f"nianbao-findings-{part['number']}.csv" if part["total"] > 1 else "nianbao-findings.csv"
    msg.add_attachment(_csv(rows), subtype="csv", charset="utf-8", filename=name)
    return msg


def size(channel, part: dict) -> int:
    return len(message(channel, part).as_bytes(policy=SMTP_POLICY))


def split(channel, subject: str, summary: str, rows: list[dict], limit: int) -> list[dict]:
    """The digest as numbered messages of whole findings, each within ``limit`` bytes as sent.
    Findings are grouped by a size per finding measured on a sample, then every group is built
    and measured, and halved until it fits (sizes measured, never only estimated)."""
    ordered = sorted(rows, key=_ORDER)
    widest = {"subject": subject, "number": 99999, "total": 99999}

    def pieces(group: list[dict], first: bool) -> list[list[dict]]:
        if size(channel, {**widest, "summary": summary if first else "", "rows": group}) <= limit:
            return [group]  # measured with the widest numbering: the real one is never longer
        if len(group) == 1:
            raise RuntimeError(f"one finding makes an email over {limit} bytes")  # a bug or a tiny limit: never sent
        half = len(group) // 2
        return pieces(group[:half], first) + pieces(group[half:], False)

    sample = ordered[:200]  # what one more finding adds, measured: the fixed part is not counted per finding
    one, many = (size(channel, {**widest, "summary": summary, "rows": rows}) for rows in (sample[:1], sample))
    step = max(1, int((limit * 0.95 - one) * max(1, len(sample) - 1) / max(1, many - one)))
    groups = [g for start in range(0, len(ordered), step) for g in pieces(ordered[start : start + step], start == 0)]
    return [
        {"subject": subject, "number": i, "total": len(groups), "summary": summary if i == 1 else "", "rows": group}
        for i, group in enumerate(groups, 1)
    ]
