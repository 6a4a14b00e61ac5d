"""Numbers the report's prose states, to check against its own tables.

Seed 000 is the canonical case: the text says 收到政府信息公开申请 0 件 while
table 三 shows 3 new requests. Only the common, unambiguous phrasings are
read; a fact the text does not state is simply not checked.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from .normalize import fmt_number, nfkc
from .report import Finding
from .template import APPLICANT_COLUMNS, RULES_BY_ID

_GAP = r"[^，,。；;：:0-9（）()]{0,%d}?"
# a count starts where a run of digits starts (a search from inside a long run would
# backtrack through all of it: quadratic) and has at most nine digits
_NUM = r"(?<!\d)(\d{1,9})\s*(?:件|个|条|份|宗|起)"

# fact → patterns; the first group is the number (or the pattern means zero).
_PATTERNS: dict[str, tuple[re.Pattern, ...]] = {
    "requests_new": (re.compile(r"(?:收到|受理|新收|接收|接到)" + _GAP % 16 + r"申请" + _GAP % 8 + _NUM),),
    "requests_carried_over": (re.compile(r"(?:上年度?结转|上年转结|上一年度?结转)" + _GAP % 10 + _NUM),),
    "requests_carried_forward": (
        re.compile(r"(?:结转下一?年度?|转结下一?年度?|转下一?年度?|结转至下一?年度?)" + _GAP % 10 + _NUM),
        re.compile(_NUM + _GAP % 4 + r"(?:顺延|结转|转)(?:到|至)?下一?年度?"),
    ),
    # "予以公开及部分公开258件" counts both rows: read first, as its own fact
    "requests_granted_partial": (
        re.compile(r"予以公开(?:及|和|与|、|并|或)部分公开" + _GAP % 6 + _NUM),
        re.compile(r"予以公开[(（]含部分公开[)）]" + _GAP % 6 + _NUM),
    ),
    "requests_granted": (re.compile(r"予以公开(?!(?:及|和|与|、|并|或)部分公开|[(（]含部分公开)" + _GAP % 6 + _NUM),),
    "review_total": (
        re.compile(r"行政复议" + _GAP % 8 + _NUM),
        re.compile(_NUM + _GAP % 16 + r"行政复议"),
    ),
    "suit_total": (
        re.compile(r"行政诉讼" + _GAP % 8 + _NUM),
        re.compile(_NUM + _GAP % 16 + r"行政诉讼"),
    ),
}
_ZERO = {
    "requests_new": re.compile(r"(?:未|没有|无)(?:收到|受理|接到)(?:任何)?(?:政府信息公开|依申请公开|信息公开)?申请"),
}
# A sentence is only searched for a fact when it holds one of these words.
_TRIGGERS = {
    "requests_new": ("申请",),
    "requests_carried_over": ("结转", "转结"),
    "requests_carried_forward": ("下年", "下一年"),
    "requests_granted_partial": ("部分公开",),
    "requests_granted": ("予以公开",),
    "review_total": ("行政复议",),
    "suit_total": ("行政诉讼",),
}
_TRIGGER_WORDS = {fact: re.compile("|".join(map(re.escape, words))) for fact, words in _TRIGGERS.items()}
_SENTENCE = re.compile(r"[^。；;]+")
# Facts about applications are only read from paragraphs about applications.
_CONTEXT = {
    "requests_new": "申请",
    "requests_carried_over": "申请",
    "requests_carried_forward": "",
    "requests_granted_partial": "申请",
    "requests_granted": "申请",
    "review_total": "",
    "suit_total": "",
}


def narrative_facts(lines: list[str]) -> dict[str, tuple[int, str]]:
    """``{fact: (number, the sentence that states it)}`` for the first statement of each fact.

    Prose lines are joined before splitting into sentences: PDF text wraps
    sentences across lines (``受理政府`` / ``信息公开申请 17 件``).
    """
    text = "".join(nfkc("".join(lines)).split())
    found = list(_SENTENCE.finditer(text))
    sentences = [m.group() for m in found]
    starts = [m.start() for m in found]
    facts: dict[str, tuple[int, str]] = {}
    for fact, patterns in _PATTERNS.items():
        zero = _ZERO.get(fact)
        # the sentences holding a trigger word, in order (a trigger never spans two sentences)
        hits = sorted({bisect_right(starts, m.start()) - 1 for m in _TRIGGER_WORDS[fact].finditer(text)})
        for i in hits:
            sentence = sentences[i]
            context = (sentences[i - 1] if i else "") + sentence
            if _CONTEXT[fact] not in context:
                continue
            if zero is not None and zero.search(sentence):
                facts[fact] = (0, sentence)
                break
            m = next((m for p in patterns if (m := p.search(sentence))), None)
            if m:
                facts[fact] = (int(m.group(1)), sentence)
                break
    return facts


# fact → (rule id, how to read the table's figure, what the table calls it)
_CHECKS = {
    "requests_new": ("narrative.requests_new", ("requests.new",), "表三“本年新收”总计"),
    "requests_carried_over": ("narrative.requests_carried_over", ("requests.carried_over",), "表三“上年结转”总计"),
    "requests_carried_forward": ("narrative.requests_carried_forward", ("requests.carried_forward",), "表三“结转下年度”总计"),
    "requests_granted": ("narrative.requests_granted", ("requests.granted",), "表三“予以公开”总计"),
    "requests_granted_partial": (
        "narrative.requests_granted",
        ("requests.granted", "requests.partial"),
        "表三“予以公开”与“部分公开”总计之和",
    ),
    "review_total": ("narrative.review_total", ("appeals.review",), "表四行政复议总计"),
    "suit_total": ("narrative.suit_total", ("appeals.suit_direct", "appeals.suit_after_review"), "表四行政诉讼总计"),
}


def _row_total(cells, prefix: str) -> int | float | None:
    """A row's 总计 as printed, else the sum of its parts when every part is printed."""
    total = cells.get(f"{prefix}.total")
    if total is not None:
        return total
    if prefix.startswith("requests."):
        parts = [cells.get(f"{prefix}.{c}") for c in APPLICANT_COLUMNS]
    else:
        parts = [cells.get(f"{prefix}.{c}") for c in ("upheld", "corrected", "other", "pending")]
    if all(isinstance(p, (int, float)) for p in parts):
        return sum(parts)
    return None


def check_narrative(facts: dict[str, tuple[int, str]], cells) -> list[Finding]:
    findings = []
    for fact, (stated, sentence) in facts.items():
        rule_id, prefixes, what = _CHECKS[fact]
        totals = [_row_total(cells, p) for p in prefixes]
        if any(t is None for t in totals):
            continue
        table_value = sum(totals)
        accepted = {table_value}
        if fact == "requests_new":
            # "收到申请 N 件" sometimes counts last year's carry-over in.
            carried = _row_total(cells, "requests.carried_over")
            if carried is not None:
                accepted.add(table_value + carried)
        if stated not in accepted:
            rule = RULES_BY_ID[rule_id]
            findings.append(
                Finding(
                    rule_id,
                    rule.severity,
                    f"{prefixes[0]}.total",
                    f"正文称“{sentence[:60]}”（{stated}），但{what}为 {fmt_number(table_value)}",
                )
            )
    return findings
