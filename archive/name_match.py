"""Could two printed names be one body? Chinese bodies are named in full or abbreviated by
keeping some of the full name's characters in order: 住建局 for 住房和城乡建设局, 卫健委
for 卫生健康委员会, 市场监管局 for 市场监督管理局, with or without the county before them.
Two names are one body's when the shorter keeps its characters in the longer's order and
both end with the same kind of body (局, 委 for 委员会, 办 for 办公室, 镇 …), so 人民政府
and 人民政府办公室, or 教育局 and 文化和旅游局, are never taken for one."""

from __future__ import annotations

import re

from .normalize import nfkc

_NOISE = re.compile(r"[\s·•()（）【】\[\]〔〕“”\"'、，,。.]")
SHORTEST = 3  # a name of fewer characters names a kind of body, not a body


# full forms of a body's kind and the character an abbreviation keeps of them
_KIND_ENDINGS = (("委员会", "委"), ("办公室", "办"))


def _plain(name: str) -> str:
    name = _NOISE.sub("", nfkc(name))
    for full, short in _KIND_ENDINGS:
        if name.endswith(full):
            return name[: -len(full)] + short
    return name


def _in_order(short: str, long: str) -> bool:
    rest = iter(long)
    return all(ch in rest for ch in short)


def could_be_same(a: str, b: str) -> bool:
    """Whether names ``a`` and ``b`` can be one body's (see the module's docstring)."""
    a, b = _plain(a), _plain(b)
    short, long = sorted((a, b), key=len)
    return len(short) >= SHORTEST and short[-1] == long[-1] and _in_order(short, long)
