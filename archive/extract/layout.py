"""Lines of cells rebuilt from positioned glyphs: the one geometry builder.

A PDF text layer, and OCR of a scanned page or image (:mod:`.ocr`), is a
set of glyphs ``(left, right, bottom, top, char)`` in page coordinates (y
grows upwards). Glyphs are grouped into lines by their vertical centre and
split into cells where the horizontal gap is wide (a table column): the
table structure comes from geometry, not from ruling lines. Each cell keeps
its horizontal extent (``Line.spans``) so the parser can place a value
under the header column it was printed in, even when cells around it are
blank. OCR glyphs come with a recognition score each; a cell's score is its
weakest glyph's (``Line.scores``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from statistics import median

from .document import RAISED, Line

Glyph = tuple[float, float, float, float, str]  # left, right, bottom, top, char


def glyph_lines(glyphs: list[Glyph], page: int | None = None, scores: list[float] | None = None, space: int = 0) -> list[Line]:
    """The page's lines, top to bottom, each a hard line of cells with their x-extents
    (and, when ``scores`` gives each glyph's recognition score, each cell's lowest)."""
    if not glyphs:
        return []
    heights = [max(t - b, 0.5) for _, _, b, t, _ in glyphs]
    typical = median(heights)
    # Sweep glyphs from the top of the page down; a glyph joins the current line
    # while its vertical centre stays within half a glyph height of the line's
    # (the mean of its glyphs' centres: a row's label and numbers printed in
    # different sizes, or a character of a vertical heading beside it, stay one line).
    centres = [(b + t) / 2 for _, _, b, t, _ in glyphs]
    marks = [i for i, h in enumerate(heights) if h < 0.75 * typical and glyphs[i][4].isdigit()]
    if marks:  # rare: footnote marks beside numbers
        glyphs = _footnote_marks(glyphs, heights, centres, marks)
    order = sorted(range(len(glyphs)), key=centres.__getitem__, reverse=True)  # stable: ties keep their order
    rows: list[list[int]] = []
    centre = total = 0.0
    for i in order:
        cy = centres[i]
        if not rows or abs(cy - centre) > typical * 0.45:
            rows.append([i])
            centre = total = cy
        else:
            rows[-1].append(i)
            total += cy
            centre = total / len(rows[-1])
    return [_line(glyphs, heights, idx, page, scores, space) for idx in rows]


def _footnote_marks(glyphs: list[Glyph], heights: list[float], centres: list[float], marks: list[int]) -> list[Glyph]:
    """Small digits printed just after a full-size glyph and raised above it (12¹): footnote
    marks, kept as superscript characters on their glyph's line (``centres`` is updated), so
    they never join, or stand apart as, a number."""
    glyphs = list(glyphs)
    by_right = sorted(range(len(glyphs)), key=lambda j: glyphs[j][1])
    rights = [glyphs[j][1] for j in by_right]
    reach = 0.3 * max(heights)
    for i in marks:
        left, _, bottom, top, ch = glyphs[i]
        h = heights[i]
        near = by_right[bisect_left(rights, left - reach) : bisect_right(rights, left + reach)]
        beside = [
            j
            for j in near
            if heights[j] > h / 0.75
            and abs(left - glyphs[j][1]) <= 0.3 * heights[j]
            and glyphs[j][2] < top
            and glyphs[j][3] > bottom
        ]
        if not beside:
            continue
        j = min(beside, key=lambda j: abs(left - glyphs[j][1]))
        raised = _raised(ch, bottom, glyphs[j], heights[j])
        if raised != ch:
            glyphs[i] = (left, glyphs[i][1], bottom, top, raised)
            centres[i] = centres[j]
    return glyphs


def _raised(ch: str, bottom: float, neighbour: Glyph, h: float) -> str:
    """A small digit printed clearly above the baseline of the glyph before it is a footnote
    mark (12¹), not a digit of the number: kept as a superscript character (``RAISED``).
    Only raised ones: a digit that merely sits lower than a CJK character's top (OCR's
    tight boxes) is an ordinary digit."""
    return ch.translate(RAISED["sup"]) if bottom > neighbour[2] + 0.3 * h else ch


_MARKS = frozenset("0123456789".translate(RAISED["sup"]))  # what _raised makes of a digit


def _numeric(ch: str) -> bool:
    return ch.isdigit() or ch in ".,%-+－—/"


def _line(
    glyphs: list[Glyph], heights: list[float], idx: list[int], page: int | None, scores: list[float] | None, space: int
) -> Line:
    idx.sort(key=lambda i: glyphs[i][0])
    h = median([heights[i] for i in idx])
    wide, narrow = max(1.5 * h, 6.0), 0.3 * h
    cells: list[str] = []
    spans: list[tuple[float, float]] = []
    cell_scores: list[float] = []
    start, prev_right, _, _, prev_ch = glyphs[idx[0]]
    text = [prev_ch]
    low = min(1.0, scores[idx[0]]) if scores is not None else 1.0
    for i in idx[1:]:
        left, right, _, _, ch = glyphs[i]
        gap = left - prev_right
        # a column gap ends the cell; so does any visible gap between two numbers
        # (digits of one number touch, and narrow number columns sit close together)
        if gap > wide or (gap > narrow and _numeric(ch) and _numeric(prev_ch)):
            cells.append("".join(text).strip())
            spans.append((start, prev_right))
            cell_scores.append(low)
            text, start, low = [ch], left, 1.0
        else:
            if gap > narrow:
                text.append(" ")
            text.append(ch)
        prev_ch = ch
        if scores is not None:
            low = min(low, scores[i])
        if right > prev_right and ch not in _MARKS:  # a footnote mark does not widen its cell
            prev_right = right
    cells.append("".join(text).strip())
    spans.append((start, prev_right))
    cell_scores.append(low)
    return Line(cells, hard=True, page=page, spans=spans, space=space, scores=cell_scores if scores is not None else None)
