"""Which column each printed value belongs to — from where it was printed, never from what it says.

A row's values are placed under its columns by the strongest evidence its
rendering gives, in this order:

1. **Every column filled.** When a row prints exactly as many cells as it has
   columns, they are its columns in printed order.
2. **Geometry.** When cells carry positions (a PDF's glyph boxes, a grid's
   merged-cell columns, aligned text's display columns) and the table's header
   (or its fully printed rows) gives each column's position in the same space,
   a value belongs to the column it was printed under.
3. **Separators.** When the rendering keeps empty cells (``| |``, tabs, a lone
   ``|``, an empty line per cell), the row's cells are read in order from its
   label; where merged-cell padding makes several readings possible, the
   reading the table's unambiguous rows use decides.
4. Otherwise the columns of a row's values cannot be known: the row's cells
   are null and a finding says why. Numbers are never moved to fit.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

Span = tuple[float, float]


@dataclass(slots=True)
class Slot:
    """One printed cell of a row: its text and where it was printed."""

    text: str
    line: int  # index of the line in the document
    cell: int  # index of the cell in the line (-1: split out of a cell)
    span: Span | None = None  # horizontal extent, comparable within one space
    space: int | None = None  # the coordinate space (page, table) the span belongs to
    # how the cell was delimited: "grid" (a table's own cell, between separators), "soft"
    # (a line of its own), "part" (split out of a cell at spaces), "run" (split out of words
    # one space apart in plain text), "free" (placed by geometry)
    origin: str = "free"
    filled: bool = False  # anything printed in it (a number, a placeholder, text): see make_slot()

    @property
    def centre(self) -> float | None:
        return None if self.span is None else (self.span[0] + self.span[1]) / 2


@dataclass
class Placement:
    """Column → slot for the columns a row prints; ``reason`` when its values could not be placed."""

    cells: dict[str, Slot] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # columns the row does not print (after its last cell)
    reason: str | None = None


@dataclass(frozen=True)
class Position:
    """Where a column was printed: its header cell's extent, or where its fully printed
    values sit (their left edges, centres and right edges agree, however they are aligned)."""

    centre: float
    left: float
    right: float
    from_header: bool

    def holds(self, span: Span, tolerance: float) -> bool:
        left, right = span
        centre = (left + right) / 2
        if self.from_header:
            return self.left - tolerance <= centre <= self.right + tolerance
        return min(abs(left - self.left), abs(centre - self.centre), abs(right - self.right)) <= tolerance


@dataclass
class Anchors:
    """Where each column of a table was printed: by the header's labels and by fully printed rows."""

    header: dict[tuple[int, str], Span] = field(default_factory=dict)  # (space, column) → header cell extent
    # (space, the row's columns, column) → extents of the values fully printed rows put there;
    # rows with other columns (a 2019 fee row under decision columns) lay out otherwise
    data: dict[tuple[int, tuple[str, ...], str], list[Span]] = field(default_factory=dict)
    # spaces where a fully printed row's values do not sit under the header printed above them
    # (lynx moves cells left and right): there the header says nothing about positions
    misleading: set[int] = field(default_factory=set)
    # header cells whose extent shows where rows should not be, not where a column is
    # (labels split out of words run together in plain text)
    loose: set[tuple[int, str]] = field(default_factory=set)
    # positions from the data, worked out once per space and columns (rows are learnt first)
    _from_data_memo: dict[tuple[int, tuple[str, ...]], list[Position] | None] = field(default_factory=dict, repr=False)

    def learn(self, columns: tuple[str, ...], slots: list[Slot]) -> None:
        self._from_data_memo.clear()
        for column, slot in zip(columns, slots):
            if slot.span is not None and slot.space is not None:
                self.data.setdefault((slot.space, columns, column), []).append(slot.span)

    def positions(self, space: int, columns: tuple[str, ...]) -> list[Position] | None:
        """Each column's position in ``space``: where fully printed rows put their values, else
        where the header's labels are (a label wider than its values, or aligned otherwise,
        marks its column less exactly); None if unknown."""
        key = (space, columns)
        if key not in self._from_data_memo:
            self._from_data_memo[key] = self._from_data(space, columns)
        for source in (self._from_data_memo[key], self._from_header(space, columns)):
            if source is not None and all(a.centre < b.centre for a, b in zip(source, source[1:])):
                return source
        return None

    def check_header(self, columns: tuple[str, ...], slots: list[Slot]) -> None:
        """Does a fully printed row sit under the header in force above it? If not, no header in
        this space is to be trusted."""
        spaces = {s.space for s in slots if s.span is not None}
        if len(columns) < 2 or len(spaces) != 1 or any(s.span is None for s in slots):
            return  # one column: nothing to line up
        space = spaces.pop()
        if space in self.misleading:
            return
        spans = tuple(self.header.get((space, c)) for c in columns)
        if None in spans:
            return
        bands = _bands(tuple((a + b) / 2 for a, b in spans))
        if bands is None or any(_band(bands, s.centre) != i for i, s in enumerate(slots)):
            self.misleading.add(space)

    def _from_header(self, space: int, columns: tuple[str, ...]) -> list[Position] | None:
        """Column positions from the header's labels, unless fully printed rows contradicted
        them (``check_header``: a renderer that does not keep its columns under its header)."""
        spans = [self.header.get((space, c)) for c in columns]
        if None in spans or space in self.misleading or any((space, c) in self.loose for c in columns):
            return None
        return [Position((a + b) / 2, a, b, True) for a, b in spans]

    def _from_data(self, space: int, columns: tuple[str, ...]) -> list[Position] | None:
        """Column positions from fully printed rows, when those rows agree: each column's
        values sit within half a column of each other (a rendering that does not keep
        columns aligned — rows shifted by omitted merged cells — gives no positions)."""
        seen = [self.data.get((space, columns, c)) for c in columns]
        if any(not s for s in seen):
            return None
        out = [
            Position(
                _median([(a + b) / 2 for a, b in spans]), _median([a for a, _ in spans]), _median([b for _, b in spans]), False
            )
            for spans in seen
        ]
        gaps = [b.centre - a.centre for a, b in zip(out, out[1:])]
        if not gaps or min(gaps) <= 0:
            return None
        if any(max((a + b) / 2 for a, b in spans) - min((a + b) / 2 for a, b in spans) > min(gaps) / 2 for spans in seen):
            return None
        return out


@dataclass
class Offsets:
    """How many empty cells separate a row's label from its first column in this rendering
    (merged label cells spread into empty cells), learnt from rows that allow one reading only."""

    seen: dict[int, Counter] = field(default_factory=dict)  # cells after the label → offsets seen

    def learn(self, k: int, offset: int) -> None:
        self.seen.setdefault(k, Counter())[offset] += 1

    def for_width(self, k: int) -> int | None:
        counts = self.seen.get(k)
        if counts and len(counts) == 1:
            return next(iter(counts))
        return None

    def everywhere(self) -> int | None:
        offsets = {o for c in self.seen.values() for o in c}
        return offsets.pop() if len(offsets) == 1 else None


def make_slot(text: str, line: int, cell: int, span: Span | None = None, space: int | None = None, origin: str = "free") -> Slot:
    return Slot(text, line, cell, span, space, origin, bool(text.strip()))


def windows(slots: list[Slot], n: int) -> list[int]:
    """Offsets at which ``n`` consecutive cells can be the row's columns: every cell outside is empty."""
    k = len(slots)
    if k <= n:
        return [0]
    filled = [i for i, s in enumerate(slots) if s.filled]
    if not filled:
        return list(range(k - n + 1))
    return list(range(max(0, filled[-1] - n + 1), min(filled[0], k - n) + 1))


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


@lru_cache(maxsize=1024)
def _bands(centres: tuple[float, ...]) -> tuple[float, ...] | None:
    """Boundaries between columns centred at ``centres``: half way between neighbours, and half
    the narrowest gap beyond the first and the last."""
    if len(centres) < 2:
        return None
    half = min(b - a for a, b in zip(centres, centres[1:])) / 2
    if half <= 0:
        return None
    return (centres[0] - half, *((a + b) / 2 for a, b in zip(centres, centres[1:])), centres[-1] + half)


def _band(bounds: tuple[float, ...], x: float) -> int | None:
    """The column whose band holds ``x``, or None outside the table."""
    i = bisect_right(bounds, x) - 1
    return i if 0 <= i < len(bounds) - 1 else None


def by_geometry(
    slots: list[Slot], columns: tuple[str, ...], positions: list[Position], label: Slot | None, separated: bool
) -> Placement | None:
    """Each filled slot under the column whose band its centre falls in, when it also sits
    where that column's cells sit; None when any value falls outside the table's columns or
    away from where its column is printed (a rendering that shifted it), two values share
    a column, or the label itself sits in a value column. A column with nothing printed in
    it is blank; where the rendering keeps empty cells, only a column with an empty cell is
    blank and one with no cell at all is not printed."""
    centres = tuple(p.centre for p in positions)
    bounds = _bands(centres)
    if bounds is None:
        return None
    tolerance = min(b - a for a, b in zip(centres, centres[1:])) / 4

    def band(x: float) -> int | None:
        return _band(bounds, x)

    if label is not None and label.centre is not None and band(label.centre) is not None:
        return None
    out: dict[str, Slot] = {}
    for slot in slots:
        if not slot.filled:
            continue
        i = band(slot.centre)
        if i is None or columns[i] in out or not positions[i].holds(slot.span, tolerance):
            return None
        out[columns[i]] = slot
    blank: dict[str, Slot] = {}
    for slot in slots:
        if not slot.filled and slot.span is not None:
            for i, column in enumerate(columns):
                if column not in out and slot.span[0] <= centres[i] < slot.span[1]:
                    blank.setdefault(column, slot)
    if not separated:
        anywhere = next(s for s in slots if s.filled)
        blank = {c: blank.get(c, Slot("", anywhere.line, -1)) for c in columns if c not in out}
    missing = tuple(c for c in columns if c not in out and c not in blank)
    return Placement({c: out.get(c) or blank[c] for c in columns if c in out or c in blank}, missing)


def learn(slots: list[Slot], columns: tuple[str, ...], anchors: Anchors, offsets: Offsets, separated: bool) -> None:
    """What a row teaches about its table before any row is placed: where a fully printed
    row's columns are, and how far from its label a row that allows one reading starts."""
    filled = [s for s in slots if s.filled]
    if len(filled) == len(columns):
        anchors.learn(columns, filled)
    if separated and len(slots) > len(columns):
        fits = windows(slots, len(columns))
        if len(fits) == 1:
            offsets.learn(len(slots), fits[0])


def place(
    slots: list[Slot],
    columns: tuple[str, ...],
    anchors: Anchors,
    offsets: Offsets,
    label: Slot | None = None,
    separated: bool = True,
) -> Placement:
    """Place one row's value cells (everything printed after its label) under ``columns``.

    ``separated``: the rendering keeps empty cells (separators, grids), so an
    empty slot is a printed blank cell and cell order is position."""
    n = len(columns)
    filled = [s for s in slots if s.filled]
    if not filled:
        # nothing in the row: its printed cells are blank, the rest were not printed
        return Placement(dict(zip(columns, slots)), missing=columns[len(slots) :])
    if len(filled) == n:
        return Placement(dict(zip(columns, filled)))
    space = filled[0].space
    if space is not None and all(s.span is not None and s.space == space for s in filled):
        positions = anchors.positions(space, columns)
        if positions is not None:
            placed = by_geometry(slots, columns, positions, label, separated)
            if placed is not None:
                return placed
    if len(filled) > n:
        return Placement(reason=f"印出 {len(filled)} 个数值，但该行只有 {n} 列")
    if not separated:
        return Placement(reason=f"只印出 {len(filled)} 个数值（应有 {n} 个），空白单元格未保留，无法确定各数值所在列")
    return _by_separators(slots, columns, offsets)


def _by_separators(slots: list[Slot], columns: tuple[str, ...], offsets: Offsets) -> Placement:
    n, k = len(columns), len(slots)
    if k < n:
        # The row ends early: with its separators printed, its cells are its first columns
        # and the ones after its last cell were not printed (the contract's "short row"),
        # unless this rendering puts empty cells between labels and values.
        lead = offsets.everywhere() or 0
        if lead and all(not s.filled for s in slots[:lead]):
            slots = slots[lead:]
        return Placement(dict(zip(columns, slots)), missing=columns[len(slots) :])
    fits = windows(slots, n)
    if not fits:
        return Placement(reason=f"数值分散在 {k} 个单元格中，超出该行的 {n} 列")
    choice = fits[0] if len(fits) == 1 else None
    if choice is None:
        readings = {tuple(s.text for s in slots[o : o + n]) for o in fits}
        learnt = offsets.for_width(k)
        if len(readings) == 1:
            choice = fits[0]
        elif learnt is not None and learnt in fits:
            choice = learnt
        elif offsets.everywhere() in fits:
            choice = offsets.everywhere()  # every unambiguous row of this table starts this far from its label
        elif not offsets.seen and 0 in fits:
            choice = 0  # no merged-cell padding anywhere in this table: cells follow the label
        else:
            return Placement(reason="空白单元格与合并单元格的填充无法区分，无法确定各数值所在列")
    return Placement(dict(zip(columns, slots[choice : choice + n])))
