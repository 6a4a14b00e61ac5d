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

from collections import Counter
from dataclasses import dataclass, field
from statistics import median

Span = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Slot:
    """One printed cell of a row: its text and where it was printed."""

    text: str
    line: int  # index of the line in the document
    cell: int  # index of the cell in the line (-1: split out of a cell)
    span: Span | None = None  # horizontal extent, comparable within one space
    space: int | None = None  # the coordinate space (page, table) the span belongs to

    @property
    def filled(self) -> bool:
        return bool(self.text.strip())

    @property
    def centre(self) -> float | None:
        return None if self.span is None else (self.span[0] + self.span[1]) / 2


@dataclass
class Placement:
    """Column → slot for the columns a row prints; ``reason`` when its values could not be placed."""

    cells: dict[str, Slot] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # columns the row does not print (after its last cell)
    reason: str | None = None


@dataclass
class Anchors:
    """Where each column of a table was printed: by the header's labels and by fully printed rows."""

    header: dict[tuple[int, str], Span] = field(default_factory=dict)  # (space, column) → header cell extent
    data: dict[tuple[int, str], list[float]] = field(default_factory=dict)  # (space, column) → value centres

    def learn(self, columns: tuple[str, ...], slots: list[Slot]) -> None:
        for column, slot in zip(columns, slots):
            if slot.span is not None and slot.space is not None:
                self.data.setdefault((slot.space, column), []).append(slot.centre)

    def centres(self, space: int, columns: tuple[str, ...]) -> list[float] | None:
        """Each column's centre in ``space``, header first, else fully printed rows; None if unknown."""
        for source in (self._header_centres(space, columns), self._data_centres(space, columns)):
            if source is not None and all(a < b for a, b in zip(source, source[1:])):
                return source
        return None

    def _header_centres(self, space: int, columns: tuple[str, ...]) -> list[float] | None:
        spans = [self.header.get((space, c)) for c in columns]
        return None if None in spans else [(a + b) / 2 for a, b in spans]

    def _data_centres(self, space: int, columns: tuple[str, ...]) -> list[float] | None:
        seen = [self.data.get((space, c)) for c in columns]
        return None if any(not s for s in seen) else [median(s) for s in seen]


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


def windows(slots: list[Slot], n: int) -> list[int]:
    """Offsets at which ``n`` consecutive cells can be the row's columns: every cell outside is empty."""
    k = len(slots)
    if k <= n:
        return [0]
    return [o for o in range(k - n + 1) if not any(s.filled for i, s in enumerate(slots) if not o <= i < o + n)]


def by_geometry(
    slots: list[Slot], columns: tuple[str, ...], centres: list[float], label: Slot | None, separated: bool
) -> Placement | None:
    """Each filled slot under the column whose band its centre falls in; None when any
    value falls outside the table's columns, two values share a column, or the label
    itself sits in a value column (the row's cells are not where the header says).
    A column with nothing printed in it is blank; where the rendering keeps empty
    cells, only a column with an empty cell is blank and one with no cell at all is
    not printed."""
    if len(centres) == 1:
        return None
    gaps = [b - a for a, b in zip(centres, centres[1:])]
    half = min(gaps) / 2
    bounds = [centres[0] - half, *((a + b) / 2 for a, b in zip(centres, centres[1:])), centres[-1] + half]

    def band(x: float) -> int | None:
        for i in range(len(columns)):
            if bounds[i] <= x < bounds[i + 1]:
                return i
        return None

    if label is not None and label.centre is not None and band(label.centre) is not None:
        return None
    out: dict[str, Slot] = {}
    for slot in slots:
        if not slot.filled:
            continue
        i = band(slot.centre)
        if i is None or columns[i] in out:
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
        centres = anchors.centres(space, columns)
        if centres is not None:
            placed = by_geometry(slots, columns, centres, label, separated)
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
        # The row ends early. Which of its columns were not printed cannot be known; its
        # cells are its first columns only when that cannot put a number in a wrong cell:
        # every value it prints is the same (a row of zeros that lost a cell).
        lead = offsets.everywhere() or 0
        if lead and all(not s.filled for s in slots[:lead]):
            slots = slots[lead:]
        if len({s.text.strip() for s in slots}) > 1:
            return Placement(reason=f"只印出 {k} 个单元格（应有 {n} 个），无法确定缺少的是哪一列")
        return Placement(dict(zip(columns, slots)), missing=columns[len(slots) :])
    fits = windows(slots, n)
    choice = fits[0] if len(fits) == 1 else None
    if choice is None:
        readings = {tuple(s.text for s in slots[o : o + n]) for o in fits}
        learnt = offsets.for_width(k)
        if len(readings) == 1:
            choice = fits[0]
        elif learnt is not None and learnt in fits:
            choice = learnt
        elif not offsets.seen and 0 in fits:
            choice = 0  # no merged-cell padding anywhere in this table: cells follow the label
        else:
            return Placement(reason="空白单元格与合并单元格的填充无法区分，无法确定各数值所在列")
    return Placement(dict(zip(columns, slots[choice : choice + n])))
