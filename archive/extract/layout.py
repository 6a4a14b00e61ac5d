"""Lines of cells rebuilt from positioned glyphs: the one geometry builder.

A PDF text layer (and, later, any source that gives text with boxes) is a
set of glyphs ``(left, right, bottom, top, char)`` in page coordinates (y
grows upwards). Glyphs are grouped into lines by their vertical centre and
split into cells where the horizontal gap is wide (a table column): the
table structure comes from geometry, not from ruling lines. Each cell keeps
its horizontal extent (``Line.spans``) so the parser can place a value
under the header column it was printed in, even when cells around it are
blank.
"""

from __future__ import annotations

from statistics import median

from .document import Line

Glyph = tuple[float, float, float, float, str]  # left, right, bottom, top, char


def glyph_lines(glyphs: list[Glyph], page: int | None = None, space: int = 0) -> list[Line]:
    """The page's lines, top to bottom, each a hard line of cells with their x-extents."""
    if not glyphs:
        return []
    heights = [max(t - b, 0.5) for _, _, b, t, _ in glyphs]
    typical = median(heights)
    # Sweep glyphs from the top of the page down; a glyph joins the current line
    # while its vertical centre stays within half a glyph height of the line's.
    order = sorted(range(len(glyphs)), key=lambda i: -(glyphs[i][2] + glyphs[i][3]) / 2)
    rows: list[list[int]] = []
    centre = None
    for i in order:
        cy = (glyphs[i][2] + glyphs[i][3]) / 2
        if centre is None or abs(cy - centre) > typical * 0.45:
            rows.append([i])
            centre = cy
        else:
            rows[-1].append(i)
    return [_line(glyphs, heights, idx, page, space) for idx in rows]


def _line(glyphs: list[Glyph], heights: list[float], idx: list[int], page: int | None, space: int) -> Line:
    idx.sort(key=lambda i: glyphs[i][0])
    h = median(heights[i] for i in idx)
    cells: list[str] = []
    spans: list[tuple[float, float]] = []
    text: list[str] = []
    start = prev_right = None
    for i in idx:
        left, right, _, _, ch = glyphs[i]
        if prev_right is not None:
            gap = left - prev_right
            if gap > max(1.5 * h, 6.0):  # a column gap: the cell ends here
                cells.append("".join(text).strip())
                spans.append((start, prev_right))
                text, start = [], None
            elif gap > 0.3 * h:
                text.append(" ")
        if start is None:
            start = left
        text.append(ch)
        prev_right = max(right, prev_right if prev_right is not None else right)
    cells.append("".join(text).strip())
    spans.append((start, prev_right))
    return Line(cells, hard=True, page=page, spans=spans, space=space)
