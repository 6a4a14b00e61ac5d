"""What every extractor produces: the document as lines of cells, in reading order."""

from __future__ import annotations

from dataclasses import dataclass, field

# Digits printed raised or lowered (HTML <sup>/<sub>, Word's superscript runs) are footnote
# marks, not digits of the number beside them (12<sup>1</sup> is 12 with note 1): they are
# kept as super- and subscript characters, which the value reader drops beside a number.
RAISED = {"sup": str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"), "sub": str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")}


@dataclass(slots=True)
class Line:
    """One line of the document.

    ``cells`` holds the line's cells in order. ``hard`` says the cells really
    form one table row (an HTML ``<tr>``, a Word row, a tab-separated or
    markdown row, a PDF text line); a soft line is one paragraph or one cell
    printed on its own line, whose row is only known from its neighbours.
    ``filler`` marks a line that only separates rows (``||``, ``|||``).
    ``spans`` gives each cell's horizontal extent (left, right) when the
    source has geometry (a PDF text layer, OCR boxes, a table grid's columns,
    aligned text), else None; extents are comparable between lines of the same
    ``space`` (a PDF, one HTML or Word table, one block of aligned text).
    ``monospace`` says the spans are columns of plain text, where words one space
    apart are one run: a dump that pads its columns leaves two spaces or more
    between them, and one that runs them together (lynx) does not keep its
    cells under their header either.
    ``grid`` says the cells are delimited explicitly (a table's own cells in HTML,
    Word, Excel or a box-drawn table; pipes; tabs): an empty cell there is a
    printed blank cell, not a cell the rendering lost. ``scores`` gives each
    cell's OCR recognition score (0–1, its weakest character's) when the line
    was read by OCR, else None.
    """

    cells: list[str]
    hard: bool = False
    filler: bool = False
    page: int | None = None
    spans: list[tuple[float, float]] | None = None
    space: int | None = None
    grid: bool = False
    monospace: bool = False
    scores: list[float] | None = None

    @property
    def text(self) -> str:
        cells = self.cells
        return cells[0] if len(cells) == 1 else " ".join(filter(None, cells))


@dataclass
class OcrInfo:
    """What OCR did for one document: the pages (or images, numbered from 1) it read,
    the pages it left unread because of the per-document page limit, and why it
    could not run at all (``unavailable``), if so; ``errors`` names pictures that
    could not be decoded."""

    pages: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    unavailable: str | None = None
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0  # CPU seconds spent recognising (0 for pages from the cache)
    cached: int = 0  # pages whose result came from the cache


@dataclass
class Document:
    lines: list[Line]
    format: str  # "html", "pdf", "docx", "text", ...
    title: str | None = None  # the page's own title (HTML <title>, ArticleTitle meta)
    meta: dict[str, str] = field(default_factory=dict)
    pages: int | None = None
    has_text_layer: bool = True
    ocr: OcrInfo | None = None  # set when some page or image had no text layer
    # what was not read, and why (a bound was reached): each one becomes a
    # ``document.truncated`` finding, so a cut document never reads as a whole one
    cuts: list[str] = field(default_factory=list)
    # where a text with no line break at its end stopped: inside a line ("line") or inside
    # its last word ("word"); None for a text ending with a line break and every other
    # format (a search index's excerpt is cut anywhere, see archive.cut_off)
    cut_mid: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)
