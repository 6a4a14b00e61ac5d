"""Finding template rows by their printed labels.

Rows are recognised by label text only, never by position: exact key match
first, then a label contained in the cell (``（四）无法提供 1.本机关不掌握…``),
then a cell that ends with the beginning of a label (wrapped labels:
``5.要求行政机关确认或重新出``, ``（四）无2.没有现成信息需要另``), then a close fuzzy
match (typos such as ``其他法律行政止公开``).
Short labels (``规章``, ``其他``) only match exactly, and a label that is also
a column header (``其他``, ``总计``) only counts as a row when it is numbered
(``3.其他``, ``（七）总计``), so header words are never taken for rows.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from .normalize import _NON_WORD, _NUMBERING, label_key, nfkc
from .template import Row, Table

_PAREN = re.compile(r"[(（][^()（）]{2,}[)）]")
# what no label of the template holds and a sentence of prose about the table does: a full
# stop, or a count in its words (17件, 5 条)
_PROSE = re.compile(r"。|\d\s*(?:件|条|项|个|次|宗|起|人次)")
SHORT = 3  # labels of this many characters or fewer match exactly only
MAX_CELL = 60  # longer cells are prose, not labels
PREFIX_MIN = 5  # a truncated label must keep at least this many characters
FUZZY_MIN = 0.82


@dataclass(frozen=True, slots=True)
class Match:
    row: Row | None  # None: a group/header label of the table
    group: str | None  # the group the label names or belongs to
    score: float


def _number(text: str) -> str | None:
    """The list number a label is printed with (``3`` of ``3.其他``, ``七`` of ``（七）总计``):
    its key lost it."""
    found = _NUMBERING.match("".join(nfkc(text).split()))
    return _NON_WORD.sub("", found.group()) if found else None


def _same_number(text: str, row: Row) -> bool:
    """A short label (其他, 总计) printed with a number names the row only under that row's own
    number: it says nothing else to tell one 其他 from another."""
    printed = _number(text)
    return printed is None or printed in {_number(label) for label in row.labels}


_UNSEEN = object()


class LabelIndex:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.exact: dict[str, list[Row]] = {}
        self.long: list[tuple[str, Row | None, str | None]] = []
        for row in table.rows:
            for label in row.labels:
                key = label_key(label)
                self.exact.setdefault(key, []).append(row)
                if len(key) > SHORT:
                    self.long.append((key, row, row.group))
        self.column_words = {label_key(label) for c in table.columns for label in c.labels}
        # Every beginning (of PREFIX_MIN+ characters) of every long row label, longest label first,
        # so a wrapped label's first line is found with one lookup per start position.
        self.prefixes: dict[str, tuple[Row, str | None]] = {}
        for label, row, group in sorted(self.long, key=lambda t: -len(t[0])):
            if row is not None:
                for n in range(PREFIX_MIN, len(label) + 1):
                    self.prefixes.setdefault(label[:n], (row, group))
        self.fuzzy = [
            (SequenceMatcher(None, b=label, autojunk=False), Counter(label), frozenset(label), label, row, group)
            for label, row, group in self.long
            if row is not None
        ]
        self.groups: dict[str, str] = {}
        for group in table.groups:
            key = label_key(group)
            self.groups[key] = group
            if len(key) > SHORT:
                self.long.append((key, None, group))
        # whether a cell holds any long label at all, in one scan (most cells hold none)
        self._contains_long = re.compile("|".join(re.escape(label) for label, _, _ in self.long))
        # the template's own labels as printed, matched once here: most label cells print one
        # exactly, and then no normalising is needed
        self._printed = {text: self._read(text) for text in (*(l for r in table.rows for l in r.labels), *table.groups)}

    def match(self, text: str) -> Match | None:
        found = self._printed.get(text, _UNSEEN)
        return self._read(text) if found is _UNSEEN else found

    def _read(self, text: str) -> Match | None:
        if _PROSE.search(text):
            return None  # 本年度办结申请12件，结转下年度继续办理17件。 names a row but is no label
        key = label_key(text)
        found = self._match(key, key in self.column_words and _number(text) is None)
        if found is not None and found.row is not None and len(key) <= SHORT and not _same_number(text, found.row):
            return None  # 9.其他 under （三） or （八）其他 is a row of its own, not （六）'s 3.其他
        if found is None and _PAREN.search(text):
            # Provincial guidance inside a label: "规章（设区的市、自治州人民政府应提供相关数据）".
            found = self._match(label_key(_PAREN.sub("", text)), False)
        return found

    @lru_cache(maxsize=4096)  # noqa: B019  (three module-level indexes that live as long as the process)
    def _match(self, key: str, header_word: bool) -> Match | None:
        if not key or len(key) > MAX_CELL:
            return None
        rows = self.exact.get(key)
        if rows and not header_word:
            return Match(rows[0], rows[0].group, 100.0)
        if key in self.groups:
            return Match(None, self.groups[key], 90.0)
        best: Match | None = None
        for label, row, group in self.long if self._contains_long.search(key) else ():
            at = key.find(label)
            if at < 0:
                continue
            if row is not None and key[:at].endswith("其他"):
                return None  # 其他规范性文件, 其他行政许可: a row of its own beside the one it names
            if best is None or (row is not None, len(label)) > (best.row is not None, best.score):
                # a row label inside the cell wins over a group label (rowspan group cell joined to its row)
                best = Match(row, group, float(len(label)))
        # The cell ends with the beginning of a label: "无2.没有现成信息需要另" (wrapped, after a
        # group fragment); it wins over a shorter label the cell contains ("（六）其他处理 2.申请人…").
        for start in range(len(key) - PREFIX_MIN + 1):
            hit = self.prefixes.get(key[start:])
            if hit:
                if best is None or len(key) - start > best.score:
                    best = Match(hit[0], hit[1], len(key) - start - 0.5)
                break
        if best is not None:
            return best
        if header_word or key in self.column_words:
            return None  # a column's own label (本年制发件数 …) is no misspelt row
        if len(key) >= 6:
            counts = None
            for matcher, label_counts, chars, label, row, group in self._fuzzy_near(len(key)):
                least = FUZZY_MIN * (len(key) + len(label))
                # no more characters can match than the key's characters the label has (counted
                # in C), nor than the two have in common (quick_ratio's own bound, from counts
                # made once per label instead of once per comparison)
                if 2 * sum(map(chars.__contains__, key)) < least:
                    continue
                counts = counts or Counter(key)
                common = sum(min(n, label_counts[c]) for c, n in counts.items() if c in label_counts)
                if 2 * common < least:
                    continue
                matcher.set_seq1(key)
                if (
                    matcher.real_quick_ratio() >= FUZZY_MIN
                    and matcher.quick_ratio() >= FUZZY_MIN
                    and matcher.ratio() >= FUZZY_MIN
                ):
                    return Match(row, group, 1.0)
        return None

    @lru_cache(maxsize=128)  # noqa: B019  (as _match: per index, a key length each)
    def _fuzzy_near(self, size: int) -> tuple:
        """The labels a key of ``size`` characters may be a misprint of: lengths close enough."""
        return tuple(f for f in self.fuzzy if abs(len(f[3]) - size) <= max(2, len(f[3]) // 4))
