"""Getting one message to its receiver: webhook requests in each robot's own format
(signed where the robot requires it), SMTP sessions, and reading the answer:
accepted, "too fast", "nothing will pass", or this one message refused.

Secrets (robot URLs carry their token; signing secrets, SMTP passwords) are read
from the environment when sending and never appear in an error, a log line or a
traceback: URLs are checked before use, every error text is scrubbed of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import re
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from .alert_limits import FATAL_HTTP, LIMITS, RETRY_HTTP


class AlertError(Exception):
    """A channel cannot be used (its URL, an environment variable, its transport); the
    message names where to look, never a secret."""


class Refusal(Exception):
    """A message was not accepted."""

    def __init__(self, reason: str, retry: bool = False, fatal: bool = False, wait: float | None = None, reached: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry  # too fast or busy: the same message may be sent again after a wait
        self.fatal = fatal  # nothing else will pass this run (bad token, signature, connection)
        self.wait = wait  # the receiver's own Retry-After, if it gave one
        self.reached = reached  # the receiver saw the request (it counts toward its rate limit)
        self.tried: float | None = None  # when it did (set by the sender)


class Secrets:
    """Values that must never be shown, and the scrubbing of any text that might hold them."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add_url(self, url: str) -> None:
        self.values.add(url)
        try:
            parts = urllib.parse.urlsplit(url)
        except ValueError:
            return
        self.values |= {v for _, v in urllib.parse.parse_qsl(parts.query) if len(v) >= 6}
        self.values |= {p for p in parts.path.split("/") if len(p) >= 8}  # tokens in the path (Feishu hooks)
        if parts.password:
            self.values.add(parts.password)

    def add(self, value: str | None) -> None:
        if value:
            self.values.add(value)

    def scrub(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text


def webhook_url_problem(url: str) -> str | None:
    """Why a webhook URL cannot be used (the reason never repeats the URL), or None."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "含有空白或控制字符"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        return "不是格式正确的网址（主机、端口或方括号有误）"
    if not parts.scheme or not parts.netloc:
        return "缺少协议（应以 https:// 开头）"
    if parts.scheme not in ("http", "https"):
        return "协议不是 http 或 https"
    if not parts.hostname:
        return "缺少主机名"
    return None


def is_loopback(host: str) -> bool:
    """A relay on this machine: localhost or a loopback address (names are not resolved)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def secret(env: str | None, secrets: Secrets) -> str | None:
    if not env:
        return None
    value = os.environ.get(env)
    if value is None:
        raise AlertError(f"环境变量 {env} 未设置")
    secrets.add(value)
    return value


def webhook_url(url: str, secrets: Secrets) -> str:
    """The usable URL of a webhook channel (``env:NAME`` read from the environment)."""
    where = "配置中的地址"
    if url.startswith("env:"):
        where = f"环境变量 {url[4:]} 中的地址"
        url = secret(url[4:], secrets) or ""
    secrets.add_url(url)
    problem = webhook_url_problem(url)
    if problem:
        raise AlertError(f"{where}不可用：{problem}")
    return url


def _dingtalk_url(url: str, key: str, now: float) -> str:
    stamp = str(int(now * 1000))
    sign = base64.b64encode(hmac.new(key.encode(), f"{stamp}\n{key}".encode(), hashlib.sha256).digest()).decode()
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode({"timestamp": stamp, "sign": sign})


def _feishu_sign(key: str, now: float) -> dict:
    stamp = str(int(now))
    return {
        "timestamp": stamp,
        "sign": base64.b64encode(hmac.new(f"{stamp}\n{key}".encode(), b"", hashlib.sha256).digest()).decode(),
    }


FINDING_FIELDS = (
    "key",
    "kind",
    "news",
    "agency_key",
    "agency_name",
    "region",
    "level",
    "year",
    "due",
    "detail",
    "confidence",
    "evidence",
)


def request(kind: str, url: str, key: str | None, part: dict, now: float) -> tuple[str, bytes]:
    """(URL, JSON body) of one message in the robot's own format, signed with ``key`` where the
    robot requires it. ``part`` holds ``title``, ``text`` and, for the generic kind, ``rows``."""
    title, text = part["title"], part["text"]
    if kind == "dingtalk":
        body: dict = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
        url = _dingtalk_url(url, key, now) if key else url
    elif kind == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": text}}
    elif kind == "feishu":
        body = {"msg_type": "text", "content": {"text": text}} | (_feishu_sign(key, now) if key else {})
    else:
        body = {
            "type": part["role"],
            "part": part["number"],
            "parts": part["total"],
            "subject": title,
            "text": text,
            "findings": [{k: r.get(k) for k in FINDING_FIELDS} for r in part.get("rows", [])],
        }
    return url, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def measure(kind: str, signed: bool, title: str, text: str, rows: list[dict]) -> int:
    """A message's size as its receiver counts it: the text's UTF-8 bytes (WeCom's 4096) or
    the whole request body (DingTalk's 20000, Feishu's 20 KB), signature fields included."""
    if LIMITS[kind].measured == "content":
        return len(text.encode())
    part = {"title": title, "text": text, "rows": rows, "role": "detail", "number": 99999, "total": 99999}
    return len(request(kind, "http://x/", "k" if signed else None, part, 1_700_000_000)[1])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a robot never redirects: a 3xx is an error, not followed
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
_CODE_FIELDS = {"wecom": "errcode", "dingtalk": "errcode", "feishu": "code"}


def _robot_code(kind: str, answer: bytes) -> tuple[int, str] | None:
    """The robot's own code and message in an answer, or None when it carries none."""
    try:
        data = json.loads(answer)
        return int(data[_CODE_FIELDS[kind]]), str(data.get("errmsg") or data.get("msg") or "")[:300]
    except (ValueError, KeyError, TypeError):
        return None


def _refused_by_robot(kind: str, code: int, message: str, status: str = "") -> Refusal:
    limits = LIMITS[kind]
    return Refusal(f"{status}机器人拒绝（{code}：{message}）", retry=code in limits.retry_codes, fatal=code in limits.fatal_codes)


def post(kind: str, url: str, body: bytes, timeout: float = 30) -> None:
    """Send one request; returns when the receiver accepted it, raises Refusal otherwise. Robots
    answer HTTP 200 whether they accepted the message or not: their code is read, and an answer
    without one is not taken for success."""
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with _OPENER.open(req, timeout=timeout) as response:
            answer = response.read(65536)
    except urllib.error.HTTPError as e:
        said = _robot_code(kind, e.read(65536) if e.fp else b"") if kind in _CODE_FIELDS else None
        if said and said[0]:  # a robot's refusal sent with an HTTP error status: its code decides
            raise _refused_by_robot(kind, *said, status=f"HTTP {e.code}，") from None
        wait = e.headers.get("Retry-After") if e.headers else None
        raise Refusal(
            f"HTTP {e.code}",
            retry=e.code in RETRY_HTTP,
            fatal=e.code in FATAL_HTTP or 300 <= e.code < 400,
            wait=float(wait) if wait and re.fullmatch(r"\d{1,4}", wait) else None,
        ) from None
    except (OSError, ValueError, http.client.HTTPException) as e:  # unreachable, refused, timed out, TLS: nothing will pass now
        reason = getattr(e, "reason", None) or e
        raise Refusal(f"无法连接：{type(reason).__name__}: {reason}", fatal=True, reached=False) from None
    if kind not in _CODE_FIELDS:
        return
    said = _robot_code(kind, answer)
    if said is None:
        raise Refusal(f"机器人的应答无法识别：{answer[:200].decode('utf-8', 'replace')!r}")
    if said[0]:
        raise _refused_by_robot(kind, *said)


class Mailer:
    """One SMTP session for a channel's messages: STARTTLS or SSL (never a fallback to plain
    text); ``none`` only to a relay on this machine."""

    def __init__(self, channel, secrets: Secrets):
        self.channel = channel
        self.secrets = secrets
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        channel = self.channel
        if channel.security == "none" and not is_loopback(channel.host):
            raise AlertError(f"邮件服务器 {channel.host} 不在本机：security: none 会明文发送邮件和密码，只允许本机中继")
        user = secret(channel.username_env, self.secrets)
        password = secret(channel.password_env, self.secrets) if user else None
        context = ssl.create_default_context(cafile=os.environ.get("NIANBAO_SMTP_CAFILE"))
        try:
            if channel.security == "ssl":
                self.smtp = smtplib.SMTP_SSL(channel.host, channel.port, timeout=30, context=context)
            else:
                self.smtp = smtplib.SMTP(channel.host, channel.port, timeout=30)
            if channel.security == "starttls":
                self.smtp.starttls(context=context)
            self.smtp.ehlo_or_helo_if_needed()
            if user:
                self.smtp.login(user, password or "")
        except (OSError, smtplib.SMTPException) as e:
            self.__exit__()
            raise AlertError(self.secrets.scrub(f"邮件服务器 {channel.host}:{channel.port}：{type(e).__name__}: {e}")) from None
        return self

    def send(self, message: EmailMessage) -> None:
        data = message.as_bytes(policy=SMTP_POLICY)
        advertised = (self.smtp.esmtp_features or {}).get("size", "")
        if advertised.isdigit() and 0 < int(advertised) < len(data):
            raise Refusal(f"邮件 {len(data)} 字节，超过服务器上限 {advertised} 字节（请调小 max_bytes）", reached=False)
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as e:
            raise Refusal(f"收件人被拒绝：{', '.join(e.recipients)}") from None
        except smtplib.SMTPResponseException as e:
            raise Refusal(f"服务器拒绝（{e.smtp_code}：{e.smtp_error.decode('utf-8', 'replace')[:200]}）") from None
        except (OSError, smtplib.SMTPException) as e:
            raise Refusal(f"连接中断：{type(e).__name__}: {e}", fatal=True) from None

    def __exit__(self, *exc) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None
