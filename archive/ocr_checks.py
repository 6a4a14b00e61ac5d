"""What OCR changes in a report's checks: which cells it read and how surely, and
the rules as a gate.

A number read by OCR may be a recognition error, so a table read by OCR whose
sums do not add up says "OCR, check the cells" (``ocr.check_cells``, a
warning) instead of accusing the office of inconsistent numbers: its error
findings are re-filed under that rule, their message kept. Cells recognised
with a low score are findings of their own (``ocr.low_score``).
"""

from __future__ import annotations

from .extract.document import Document, Line, OcrInfo
from .extract.ocr import LOW_SCORE
from .normalize import fmt_number
from .report import Finding
from .template import RULES_BY_ID

Origins = dict[str, tuple[int, int]]  # cell key → (index of the Line in Document.lines, index of the cell in Line.cells)


def ocr_cell_scores(doc: Document, origins: Origins) -> dict[str, float]:
    """Cell key → recognition score, for every cell whose value OCR read."""
    scores: dict[str, float] = {}
    for key, (line_index, cell_index) in origins.items():
        if 0 <= line_index < len(doc.lines):
            line_scores = doc.lines[line_index].scores
            if line_scores is not None and 0 <= cell_index < len(line_scores):
                scores[key] = round(line_scores[cell_index], 4)
    return scores


def ocr_tables(regions: dict[str, list[tuple[int, Line]]]) -> set[str]:
    """The tables (``disclosure``, ``requests``, ``appeals``) any of whose lines OCR read."""
    return {table for table, lines in regions.items() if any(line.scores is not None for _, line in lines)}


def gate(findings: list[Finding], tables: set[str]) -> list[Finding]:
    """Error findings about a table OCR read become ``ocr.check_cells`` warnings."""
    if not tables:
        return findings
    severity = RULES_BY_ID["ocr.check_cells"].severity
    out = []
    for f in findings:
        if f.severity == "error" and f.where.split(".", 1)[0] in tables:
            f = Finding(
                "ocr.check_cells",
                severity,
                f.where,
                f"OCR 识别的数字未通过核对，可能是识别错误，请对照原件核对单元格（{f.rule}）：{f.message}",
            )
        out.append(f)
    return out


def _numbers(numbers: list[int]) -> str:
    return "、".join(map(str, numbers[:10])) + ("等" if len(numbers) > 10 else "")


def ocr_findings(doc: Document, info: OcrInfo, scores: dict[str, float], cells: dict) -> list[Finding]:
    """What the reader must know about the OCR of this document."""
    unit = "页" if doc.format == "pdf" else "幅图片"
    out: list[Finding] = []
    if info.pages:
        where = f"第 {_numbers(info.pages)} 页" if doc.format == "pdf" else f"{len(info.pages)} 幅图片"
        out.append(
            Finding(
                "ocr.read",
                RULES_BY_ID["ocr.read"].severity,
                "document",
                f"{where}为扫描图像，文字和数字由 OCR 识别，引用前请对照原件",
            )
        )
    if info.skipped:
        out.append(
            Finding(
                "ocr.page_limit",
                RULES_BY_ID["ocr.page_limit"].severity,
                "document",
                f"超过每份文件 OCR {len(info.pages)} {unit}的上限，"
                f"另有 {len(info.skipped)} {unit}扫描件未识别（第 {_numbers(info.skipped)} {unit}）",
            )
        )
    for error in info.errors:
        out.append(
            Finding("ocr.image_unreadable", RULES_BY_ID["ocr.image_unreadable"].severity, "document", f"图片无法读取：{error}")
        )
    for key, score in scores.items():
        if score < LOW_SCORE:
            value = cells.get(key)
            shown = "空白" if value is None else fmt_number(value)
            out.append(
                Finding(
                    "ocr.low_score",
                    RULES_BY_ID["ocr.low_score"].severity,
                    key,
                    f"OCR 识别置信度低（{score:.2f}）：读作 {shown}，请对照原件核对",
                )
            )
    return out
