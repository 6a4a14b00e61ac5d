"""Alerts: one digest per run, each finding told once per channel — again only
when it changes or is resolved.

What was told is recorded in ``alerts_sent`` as (finding key, channel, state)
after the channel accepted the message, so a failed send is retried next run
and a repeated run sends nothing. Channels: email (SMTP with STARTTLS or SSL;
user and password from environment variables), webhooks (generic JSON;
DingTalk, WeCom and Feishu robots, with DingTalk's and Feishu's signing), and
the log. Secrets are read from the environment when sending and never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage

import sqlite_utils

from .compliance import KIND_NAMES, KINDS
from .regions import RegionNames

log = logging.getLogger("nianbao.alerts")


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    security: str = "starttls"  # starttls, ssl or none (none only for a relay on localhost)
    username_env: str | None = None
    password_env: str | None = None
    name: str = "email"


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    kind: str = "generic"  # generic, dingtalk, wecom, feishu
    secret_env: str | None = None  # DingTalk/Feishu signing secret
    name: str = "webhook"


@dataclass(frozen=True)
class LogChannel:
    name: str = "log"


@dataclass
class AlertConfig:
    channels: list = field(default_factory=lambda: [LogChannel()])


def _state(row: dict) -> str:
    return f"resolved:{row['state']}" if row["resolved_at"] else row["state"]


def pending(db: sqlite_utils.Database, channel: str, year: int | None = None) -> list[dict]:
    """Findings this channel has not been told about in their present state. A finding
    resolved before it was ever told is not news."""
    where, params = ("and c.year = ?", [year]) if year is not None else ("", [])
    rows = list(db.query(f"select * from compliance c where 1 {where} order by c.region, c.kind, c.agency_name", params))
    told = {(k, s) for k, s in db.execute("select finding_key, state from alerts_sent where channel = ?", [channel])}
    told_keys = {k for k, _ in told}
    out = []
    for row in rows:
        if (row["key"], _state(row)) in told:
            continue
        if row["resolved_at"] and row["key"] not in told_keys:
            continue
        out.append({**row, "news": "resolved" if row["resolved_at"] else ("changed" if row["key"] in told_keys else "new")})
    return with_region_names(db, out)


def with_region_names(db: sqlite_utils.Database, rows: list[dict]) -> list[dict]:
    """Each row with ``region_name``: its region's full name (河南省新乡市红旗区), "" when unknown."""
    names = RegionNames(db, [r["region"] for r in rows])
    for r in rows:
        r["region_name"] = names.name(r["region"])
    return rows


def digest(rows: list[dict]) -> tuple[str, str]:
    """(subject, text) of one digest."""
    counts = {k: sum(r["kind"] == k and r["news"] != "resolved" for r in rows) for k in KINDS}
    resolved = sum(r["news"] == "resolved" for r in rows)
    parts = [f"{KIND_NAMES[k]} {n}" for k, n in counts.items() if n] + ([f"已解决 {resolved}"] if resolved else [])
    subject = "年报核查提醒：" + "，".join(parts)
    lines = [subject, ""]
    for news, title in (("new", "新发现"), ("changed", "有变化"), ("resolved", "已解决")):
        group = [r for r in rows if r["news"] == news]
        if not group:
            continue
        lines.append(f"【{title}】")
        for r in group:
            lines.append(
                f"- {r['year']} {KIND_NAMES[r['kind']]} · {r['agency_name'] or r['agency_key']}"
                f"（{r.get('region_name') or r['region'] or '无区划'}）：{r['detail']}"
                + (f" {r['evidence']}" if r["evidence"] else "")
            )
        lines.append("")
    return subject, "\n".join(lines).rstrip() + "\n"


def _secret(env: str | None) -> str | None:
    if not env:
        return None
    value = os.environ.get(env)
    if value is None:
        raise AlertError(f"environment variable {env} is not set")
    return value


class AlertError(Exception):
    pass


def send_email(channel: EmailChannel, subject: str, text: str) -> None:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, channel.sender, ", ".join(channel.to)
    message.set_content(text)
    context = ssl.create_default_context(cafile=os.environ.get("NIANBAO_SMTP_CAFILE"))
    try:
        if channel.security == "ssl":
            smtp = smtplib.SMTP_SSL(channel.host, channel.port, timeout=30, context=context)
        else:
            smtp = smtplib.SMTP(channel.host, channel.port, timeout=30)
        with smtp:
            if channel.security == "starttls":
                smtp.starttls(context=context)
            user = _secret(channel.username_env)
            if user:
                smtp.login(user, _secret(channel.password_env) or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as e:
        raise AlertError(f"email via {channel.host}:{channel.port}: {type(e).__name__}: {e}") from None


def webhook_request(
    channel: WebhookChannel, subject: str, text: str, rows: list[dict], now: float | None = None
) -> tuple[str, bytes]:
    """(url, JSON body) in the robot's own format, signed where the robot requires it."""
    url = _secret(channel.url[4:]) if channel.url.startswith("env:") else channel.url
    secret = _secret(channel.secret_env)
    now = time.time() if now is None else now
    if channel.kind == "dingtalk":
        body = {"msgtype": "markdown", "markdown": {"title": subject, "text": text}}
        if secret:
            stamp = str(int(now * 1000))
            sign = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest())
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"timestamp": stamp, "sign": sign.decode()})
    elif channel.kind == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": text}}
    elif channel.kind == "feishu":
        body = {"msg_type": "text", "content": {"text": text}}
        if secret:
            stamp = str(int(now))
            sign = base64.b64encode(hmac.new(f"{stamp}\n{secret}".encode(), b"", hashlib.sha256).digest())
            body.update({"timestamp": stamp, "sign": sign.decode()})
    else:
        body = {
            "subject": subject,
            "text": text,
            "findings": [
                {
                    k: r[k]
                    for k in (
                        "key",
                        "kind",
                        "news",
                        "agency_key",
                        "agency_name",
                        "region",
                        "region_name",
                        "year",
                        "due",
                        "detail",
                        "confidence",
                        "evidence",
                    )
                }
                for r in rows
            ],
        }
    return url, json.dumps(body, ensure_ascii=False).encode()


def send_webhook(channel: WebhookChannel, subject: str, text: str, rows: list[dict]) -> None:
    url, body = webhook_request(channel, subject, text, rows)
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json; charset=utf-8"})
    host = urllib.parse.urlsplit(url).hostname or "?"  # never the URL: robot URLs carry tokens
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = response.read(65536)
    except OSError as e:
        raise AlertError(f"webhook {host}: {type(e).__name__}: {e}") from None
    if channel.kind in ("dingtalk", "wecom", "feishu"):  # robots answer 200 with an error code
        try:
            code = json.loads(answer or b"{}")
        except ValueError:
            code = {}
        if code.get("errcode", code.get("code", 0)) not in (0, None):
            raise AlertError(f"webhook {host}: robot refused: {code.get('errmsg') or code.get('msg')}")


def send(channel, subject: str, text: str, rows: list[dict]) -> None:
    if isinstance(channel, EmailChannel):
        send_email(channel, subject, text)
    elif isinstance(channel, WebhookChannel):
        send_webhook(channel, subject, text, rows)
    else:
        log.warning("%s", text)


def alert(
    db: sqlite_utils.Database, config: AlertConfig, now: str, year: int | None = None, dry_run: bool = False
) -> dict[str, dict]:
    """Send each channel its digest; returns per channel: findings told, or the error."""
    results: dict[str, dict] = {}
    for channel in config.channels:
        rows = pending(db, channel.name, year)
        if not rows:
            results[channel.name] = {"sent": 0}
            continue
        subject, text = digest(rows)
        if dry_run:
            results[channel.name] = {"sent": 0, "would_send": len(rows), "subject": subject, "text": text}
            continue
        try:
            send(channel, subject, text, rows)
        except AlertError as e:
            results[channel.name] = {"sent": 0, "error": str(e)}
            continue
        with db.atomic():
            db.conn.executemany(
                "insert into alerts_sent (finding_key, channel, state, sent_at, digest) values (?, ?, ?, ?, ?)",
                [(r["key"], channel.name, _state(r), now, subject) for r in rows],
            )
        results[channel.name] = {"sent": len(rows)}
    return results
