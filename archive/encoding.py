"""Decoding bytes from government portals.

Portals serve UTF-8, GBK/GB2312 (decoded as GB18030, their superset) and
sometimes lie about it (a UTF-8 header over GBK bytes, a Tomcat default
``charset=ISO-8859-1`` over GBK). The bytes are trusted over the label:

1. A byte-order mark wins.
2. UTF-8 is self-checking: non-ASCII text that decodes strictly as UTF-8 is
   UTF-8 whatever the label says.
3. A UTF-8 page with a few bad bytes (a title cut mid-character by a
   byte-counting CMS, a raw latin-1 ``©`` in the footer) is still UTF-8: it is
   decoded with replacement characters when its valid CJK-range sequences
   clearly outnumber the invalid ones. GBK bytes read as UTF-8 fail almost
   everywhere and yield next to no valid sequences above U+07FF, so they
   never pass (see ``_RATIO``).
4. Otherwise the declared charset, except that a single-byte charset
   (ISO-8859-1, windows-1252, ...) decodes any bytes without error and so
   proves nothing: when GB18030 reads the same bytes as CJK text, GB18030 wins.
   A UTF-16/32 label over bytes without a single NUL is a lie, too.
5. Otherwise GB18030 with replacement characters.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "gb_2312-80", "euc-cn", "hz-gb-2312"}
_UTF8 = {"utf-8", "utf8"}
# Python codecs that accept bytes but are no web charset: never honour them.
_NOT_CHARSETS = {"idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined", "utf-7"}
# Every non-ASCII character at or above U+0800 (CJK is U+2E80 and up) has
# exactly one byte in E0..FF in its UTF-8 form (U+FFFD too: EF BF BD). An
# invalid UTF-8 sequence holds at most one such byte.
_WIDE_LEADS = bytes(range(0xE0, 0x100))
# A decoding is read as right when its valid characters >= U+0800 number at
# least _RATIO per replacement character. GBK read as UTF-8 gives about 0.05
# per bad sequence on a page (at most 1.0 on a title of two to five
# characters); a UTF-8 list whose titles are all cut mid-character gives 4+.
_RATIO = 2


def _wide(data: bytes) -> int:
    return len(data) - len(data.translate(None, _WIDE_LEADS))


def declared_charset(data: bytes, content_type: str | None = None) -> str | None:
    if content_type:
        m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", content_type, re.I)
        if m:
            return m.group(1).lower()
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii").lower() if m else None


def _lenient_utf8(data: bytes) -> str | None:
    """``data`` as UTF-8 with U+FFFD for its few bad bytes, or None when it is no UTF-8.

    The whole page is weighed, not its first bad stretch: a UTF-8 list under a
    GBK-encoded server-side include still reads as UTF-8 when its own text is
    the larger part."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    # Valid wide characters, counted from the raw bytes: at least _wide(data) - bad.
    wide = _wide(data) - bad
    return text if wide > 0 and wide >= _RATIO * bad else None


def _reads_well(text: str) -> bool:
    """Whether ``text`` (decoded with errors="replace") is mostly wide characters, not U+FFFD."""
    bad = text.count("\ufffd")
    wide = _wide(text.encode("utf-8")) - bad
    return wide > 0 and wide >= _RATIO * bad


def _declared(data: bytes, declared: str) -> tuple[str, str] | None:
    """``data`` decoded as ``declared``, or None when the label cannot be believed."""
    try:
        name = codecs.lookup(declared).name
        if name in _NOT_CHARSETS:
            return None
        text = data.decode(name)
    except (LookupError, ValueError):  # unknown label, or bytes invalid in it (UnicodeError)
        return None
    if len(text) == len(data):
        # One character per byte: a single-byte charset, which decodes any bytes.
        # GB18030 reading them as CJK text is the likelier truth on a Chinese portal.
        gb = data.decode("gb18030", errors="replace")
        if _reads_well(gb):
            return gb, "gb18030"
    elif name.startswith(("utf-16", "utf-32")) and b"\x00" not in data:
        return None  # UTF-16/32 markup is full of NUL bytes
    return text, declared


def decode(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding_used)``."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = _lenient_utf8(data)
    if text is not None:
        return text, "utf-8"
    declared = declared_charset(data, content_type)
    if declared and declared not in _GB_FAMILY and declared not in _UTF8:
        found = _declared(data, declared)
        if found is not None:
            return found
    return data.decode("gb18030", errors="replace"), "gb18030"
