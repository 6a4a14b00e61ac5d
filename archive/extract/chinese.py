"""Traditional characters read as simplified, with OpenCC (a maintained converter, Apache-2.0).

Mirror sites and some portals re-render pages in 繁體. Labels, titles and agency
names are matched in simplified form, so a document that is written in
traditional characters is converted cell by cell; a simplified document is left
exactly as printed (OpenCC's phrase tables would otherwise touch the odd name).
"""

from __future__ import annotations

import re
from functools import cache

import opencc

from .document import Document

# Share of CJK characters that must change for a document to count as traditional:
# a simplified report changes almost none (a few variant characters at most).
TRADITIONAL_SHARE = 0.01
_CJK = re.compile("[\u4e00-\u9fff]")


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def _convertible() -> re.Pattern:
    """Any character OpenCC converts on its own (CJK blocks, once per process): a text
    holding none is left as it is without running the converter over it."""
    chars = [chr(c) for block in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)) for c in range(*block)]
    converted = _converter().convert("\n".join(chars)).split("\n")
    changed = [c for c, t in zip(chars, converted) if t != c] if len(converted) == len(chars) else chars
    return re.compile("[" + "".join(changed) + "]")


def is_traditional(text: str) -> bool:
    if not _convertible().search(text):
        return False
    converted = _converter().convert(text)
    if converted == text:
        return False
    if len(converted) != len(text):
        return True
    cjk = len(_CJK.findall(text))
    changed = sum(1 for a, b in zip(text, converted) if a != b)
    return cjk > 0 and changed >= max(2, TRADITIONAL_SHARE * cjk)


def simplified(text: str) -> str:
    """A short text (a title in a list) in simplified characters, when it is written in
    traditional ones; as it is otherwise."""
    return _converter().convert(text) if is_traditional(text) else text


SAMPLE_CHARS = 1000  # a document written in traditional characters is so from its first lines


def _sample(doc: Document) -> str:
    """The title and the document's first lines, up to about ``SAMPLE_CHARS`` characters."""
    parts, size = [doc.title or ""], 0
    for line in doc.lines:
        if size >= SAMPLE_CHARS:
            break
        text = line.text
        parts.append(text)
        size += len(text)
    return "\n".join(parts)


def to_simplified(doc: Document) -> Document:
    """The document with traditional characters converted, when it is written in them."""
    if not is_traditional(_sample(doc)):
        return doc
    convert = _converter().convert
    for line in doc.lines:
        line.cells = [convert(c) for c in line.cells]
    doc.title = convert(doc.title) if doc.title else doc.title
    doc.meta = {k: convert(v) for k, v in doc.meta.items()}
    return doc
