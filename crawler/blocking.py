"""Recognise WAF challenge pages, which are recorded as ``blocked`` and never solved.

Signatures (portal-patterns.md §13): 知道创宇加速乐 answers 521 (sometimes 512)
with a tiny ``document.cookie=…;location.href=…`` script and ``__jsluid``
cookies; 瑞数 answers 412 with obfuscated script and cookies ending ``80S`` /
``80T``; 网站卫士 sets ``wzws_id``; generic gateways answer 403/405/422/521 or
even 200 with a script-only body under a couple of kilobytes.
"""

from __future__ import annotations

import re

_SCRIPT_ONLY = re.compile(rb"<script", re.I)
_COOKIE_SCRIPT = re.compile(rb"document\.cookie|location\.(?:href|replace|reload)|eval\(|\$_ts|window\.onload", re.I)
_VENDORS = (
    ("jiasule", re.compile(r"__jsluid|__jsl_clearance", re.I)),
    ("ruishu", re.compile(r"\b\w+80[ST]=|\$_ts", re.I)),
    ("wzws", re.compile(r"wzws", re.I)),
)
SMALL_BODY = 2048
CHALLENGE_STATUSES = {403, 405, 412, 422, 512, 521}


def classify(status: int, body: bytes, set_cookie: str = "") -> str | None:
    """``"waf:<vendor>"`` when the response is a challenge, else None."""
    small = len(body) <= SMALL_BODY
    if not small and status not in CHALLENGE_STATUSES:
        return None
    scripted = bool(_COOKIE_SCRIPT.search(body[: SMALL_BODY * 4])) and bool(_SCRIPT_ONLY.search(body[: SMALL_BODY * 4]))
    if status in (412, 521, 512) or (status in CHALLENGE_STATUSES and small) or (status == 200 and small and scripted):
        if status == 200 and not scripted:
            return None
        if status in (403, 405, 422) and not scripted and not set_cookie:
            return None
        evidence = set_cookie + body[: SMALL_BODY * 4].decode("latin-1")
        for vendor, pattern in _VENDORS:
            if pattern.search(evidence):
                return f"waf:{vendor}"
        return "waf:gateway"
    return None
