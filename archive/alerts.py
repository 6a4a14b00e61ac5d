"""Alerts: each channel is told each finding inside its route once — again only when it
changes or is resolved — within the limits of its kind.

A channel's news becomes one digest: a summary first (what is new; the open findings in
its scope by kind and by region, as ``nianbao check`` counts them; links to the archive's
front page), then the details in numbered parts cut at line boundaries, each within the
receiver's size limit (``archive.alert_limits``), paced under its rate limit and sent again
after a wait when it answers "too fast". Email is one message with an HTML table, a
plain-text alternative and a CSV attachment (numbered messages when too large).

Delivery is recorded per part (``archive.alert_ledger``): a finding is told only when every
part carrying it was accepted; a refused part is sent again next run, the parts that arrived
are not. Channels: email (SMTP with STARTTLS or SSL), webhooks (generic JSON; DingTalk, WeCom
and Feishu robots, signed where required) and the log. Secrets are read from the environment
when sending and never shown.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

import sqlite_utils

from . import alert_email, alert_ledger
from .alert_ledger import PlannedPart, finding_state
from .alert_limits import LIMITS
from .alert_pacing import Clock, Pacer, SystemClock
from .alert_text import CAPTURE_PATH, LEVEL_NAMES, Scope, Style, counts_text, detail_lines, pack, place, summary_text
from .alert_transport import AlertError, Mailer, Refusal, Secrets, measure, post, request, secret, webhook_url

log = logging.getLogger("nianbao.alerts")

FRONT_PAGE = "/-/nianbao?region={region}&year={year}"  # the archive's front page for a region and year


@dataclass(frozen=True)
class Route:
    """Which findings a channel receives: inside any of ``regions`` (行政区划代码 prefixes), of one
    of ``levels`` and of one of ``agencies`` (ids), each given criterion applying; none: all."""

    regions: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    def sql(self) -> tuple[str, list]:
        clauses, params = [], []
        if self.regions:
            clauses.append("(" + " or ".join(["(c.region >= ? and c.region < ? || ';')"] * len(self.regions)) + ")")
            params += [p for r in self.regions for p in (r, r)]
        for column, values in (("level", self.levels), ("agency_key", self.agencies)):
            if values:
                clauses.append(f"c.{column} in ({','.join('?' * len(values))})")
                params += list(values)
        return " and ".join(clauses) or "1", params


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    security: str = "starttls"  # starttls, ssl or none (none only for a relay on this machine)
    username_env: str | None = None
    password_env: str | None = None
    name: str = "email"
    route: Route = Route()
    max_bytes: int = LIMITS["email"].max_bytes


@dataclass(frozen=True)
class WebhookChannel:
    url: str  # the URL, or env:NAME to read it from the environment when sending
    kind: str = "generic"  # generic, dingtalk, wecom, feishu
    secret_env: str | None = None  # DingTalk/Feishu signing secret
    name: str = "webhook"
    route: Route = Route()
    max_bytes: int | None = None  # lower than the kind's limit (never higher for a robot)
    max_messages: int | None = None  # per run (default: the kind's; the rest wait for the next run)


@dataclass(frozen=True)
class LogChannel:
    name: str = "log"
    route: Route = Route()


@dataclass
class AlertConfig:
    channels: list = field(default_factory=lambda: [LogChannel()])
    archive_url: str | None = None  # the archive's public base URL: summaries link to its front page
    front_page: str = FRONT_PAGE


@dataclass
class Delivery:
    """What one channel got in one run."""

    channel: str
    told: int = 0  # findings now told: every part carrying them was accepted
    sent: int = 0  # messages accepted in this run
    failed: int = 0  # messages refused in this run
    untold: int = 0  # findings still waiting for this channel (sent again next run)
    deferred: int = 0  # messages left for the next run by the per-run limit (not a failure)
    errors: list[str] = field(default_factory=list)
    preview: list[str] = field(default_factory=list)  # a dry run: the messages it would send

    @property
    def ok(self) -> bool:
        """Everything arrived, or what did not is only waiting for the per-run limit."""
        return not self.errors and (not self.untold or self.deferred > 0)


def channel_kind(channel) -> str:
    if isinstance(channel, EmailChannel):
        return "email"
    if isinstance(channel, WebhookChannel):
        return channel.kind
    return "log"


def _limit(channel, kind: str) -> int:
    own = getattr(channel, "max_bytes", None)
    if kind == "generic" and own:
        return own
    return min(own or LIMITS[kind].max_bytes, LIMITS[kind].max_bytes)


def _per_run(channel, kind: str) -> int | None:
    return getattr(channel, "max_messages", None) or LIMITS[kind].per_run


def pending(db: sqlite_utils.Database, channel: str, year: int | None = None, route: Route = Route()) -> list[dict]:
    """Findings inside the route this channel has not been told about in their present state.
    A finding resolved before it was ever told is not news."""
    where, params = route.sql()
    if year is not None:
        where, params = f"{where} and c.year = ?", [*params, year]
    rows = list(db.query(f"select * from compliance c where {where}", params))
    told = {(k, s) for k, s in db.execute("select finding_key, state from alerts_sent where channel = ?", [channel])}
    told_keys = {k for k, _ in told}
    out = []
    for row in rows:
        if (row["key"], finding_state(row)) in told:
            continue
        if row["resolved_at"] and row["key"] not in told_keys:
            continue
        out.append({**row, "news": "resolved" if row["resolved_at"] else ("changed" if row["key"] in told_keys else "new")})
    return out


def front_page_url(config: AlertConfig, region: str, year: int) -> str:
    return config.archive_url.rstrip("/") + config.front_page.format(region=urllib.parse.quote(region), year=year)


def _totals(db: sqlite_utils.Database, route: Route, years: list[int]) -> dict[str, Counter]:
    """Open findings in the route by region and kind: what ``nianbao check`` counts."""
    where, params = route.sql()
    totals: dict[str, Counter] = {}
    for region, kind, n in db.execute(
        f"select c.region, c.kind, count(*) from compliance c where c.resolved_at is null "
        f"and c.year in ({','.join('?' * len(years))}) and {where} group by 1, 2",
        [*years, *params],
    ):
        totals.setdefault(region or "", Counter())[kind] = n
    return totals


def _scope(db: sqlite_utils.Database, config: AlertConfig, route: Route, years: list[int]) -> Scope:
    words = []
    if route.regions:
        words.append("、".join(place(r) for r in route.regions))
    if route.levels:
        words.append("、".join(LEVEL_NAMES[level] for level in route.levels))
    if route.agencies:
        names = dict(
            db.execute(f"select id, name from agencies where id in ({','.join('?' * len(route.agencies))})", route.agencies)
        )
        shown = [names.get(a, a) for a in route.agencies[:5]]
        words.append("、".join(shown) + (f" 等 {len(route.agencies)} 个机关" if len(route.agencies) > 5 else ""))
    links: tuple = ()
    if config.archive_url and years:
        year = max(years)
        links = tuple(
            (f"在归档中查看：{place(r) if r else '全部地区'} · {year} 年度", front_page_url(config, r, year))
            for r in (route.regions or ("",))[:10]
        )
    return Scope(" · ".join(words) or "全部", links)


def _subject(rows: list[dict]) -> str:
    open_counts = Counter(r["kind"] for r in rows if r["news"] != "resolved")
    resolved = sum(r["news"] == "resolved" for r in rows)
    return "年报核查提醒：" + "，".join(filter(None, [counts_text(open_counts), f"已解决 {resolved}" if resolved else ""]))


def _archived(config: AlertConfig, row: dict) -> dict:
    """A finding whose evidence is an archived copy in the archive, with the archive's public
    address in front of it when it is known (else the path, as ``nianbao serve`` answers it)."""
    evidence = row.get("evidence") or ""
    if config.archive_url and evidence.startswith(CAPTURE_PATH):
        return {**row, "evidence": config.archive_url.rstrip("/") + evidence}
    return row


def _plan(db, config: AlertConfig, channel, kind: str, rows: list[dict]) -> tuple[str, list[PlannedPart]]:
    """The digest of ``rows`` for one channel: its subject and its parts, each within the limit."""
    rows = [_archived(config, r) for r in rows]
    years = sorted({r["year"] for r in rows})
    news = Counter(r["news"] for r in rows)
    totals = _totals(db, channel.route, years)
    scope = _scope(db, config, channel.route, years)
    subject, limit = _subject(rows), _limit(channel, kind)
    keys = lambda part_rows: [(r["key"], finding_state(r)) for r in part_rows]
    if kind == "email":
        summary = summary_text(years, scope, news, totals, 0, alert_email.PLAIN, lambda text: True)
        emails = alert_email.split(channel, subject, summary, rows, limit)
        return subject, [PlannedPart(p["number"], p["total"], "detail", p, keys(p["rows"])) for p in emails]
    style = Style(markdown=LIMITS[kind].markdown)
    signed = bool(getattr(channel, "secret_env", None))
    size = lambda text, part_rows: measure(kind, signed, subject, text, part_rows)
    details = pack(lambda i, n: style.heading(f"年报核查提醒 · 详情 {i}/{n}"), detail_lines(rows, style), style, size, limit)
    fits = lambda text: size(text, []) <= limit
    summary = summary_text(years, scope, news, totals, len(details), style, fits, _per_run(channel, kind))
    parts = [PlannedPart(0, len(details), "summary", {"title": subject, "text": summary}, [])]
    for number, (text, part_rows) in enumerate(details, 1):
        payload = {"title": subject, "text": text}
        if kind == "generic":
            payload["rows"] = part_rows
        parts.append(PlannedPart(number, len(details), "detail", payload, keys(part_rows)))
    return subject, parts


def _part_name(part: dict, kind: str) -> str:
    if part["role"] == "summary":
        return "摘要消息"
    return f"第 {part['number']}/{part['total']} {'封邮件' if kind == 'email' else '部分'}"


def _preview(channel, kind: str, part: dict) -> str:
    payload = part["payload"]
    if kind == "email":
        return f"{payload['subject']}\n" + alert_email.message(channel, payload).get_body(("plain",)).get_content()
    return payload["text"]


def _send_parts(db, channel, kind: str, queue: list[dict], now: str, clock: Clock, result: Delivery, secrets: Secrets) -> None:
    limits = LIMITS[kind]
    per_run = _per_run(channel, kind)
    if per_run and len(queue) > per_run:
        queue, result.deferred = queue[:per_run], len(queue) - per_run
    since = clock.time() - max((s for _, s in limits.windows), default=0.0)
    pacer = Pacer(limits.windows, clock, alert_ledger.recent_tries(db, channel.name, since))
    with contextlib.ExitStack() as stack:
        if kind == "email":
            mailer = stack.enter_context(Mailer(channel, secrets))
            send = lambda part: mailer.send(alert_email.message(channel, part["payload"]))
        elif kind == "log":
            send = lambda part: log.warning("%s", _preview(channel, kind, part))
        else:
            url, key = webhook_url(channel.url, secrets), secret(channel.secret_env, secrets)
            send = lambda part: post(kind, *request(kind, url, key, _message(part), clock.time()))
        for done, part in enumerate(queue):
            try:
                tried = _attempt(part, send, pacer, limits.backoff)
            except Refusal as refusal:
                reason = secrets.scrub(refusal.reason)
                alert_ledger.refused(db, part, reason, refusal.tried)
                result.failed += 1
                result.errors.append(f"{_part_name(part, kind)}：{reason}")
                if refusal.fatal or refusal.retry:  # nothing else would pass now
                    if len(queue) > done + 1:
                        result.errors.append(f"其余 {len(queue) - done - 1} 条消息本次未发送")
                    return
                continue
            result.told += alert_ledger.sent(db, part, channel.name, now, tried, part["payload"].get("title", ""))
            result.sent += 1


def _attempt(part: dict, send, pacer: Pacer, backoff: tuple[float, ...]) -> float:
    """Send one part, paced, waiting and sending again while the receiver says "too fast"
    (as long as the kind's backoff lasts). Returns when it was accepted; raises the last
    Refusal (with ``tried``: when the receiver saw it, if it did)."""
    for attempt in itertools.count():
        pacer.wait()
        try:
            send(part)
            return pacer.record()
        except Refusal as refusal:
            refusal.tried = pacer.record() if refusal.reached else None
            if not (refusal.retry and attempt < len(backoff)):
                raise
            pacer.sleep(max(backoff[attempt], min(refusal.wait or 0, 600)))


def _message(part: dict) -> dict:
    return {**part["payload"], "role": part["role"], "number": part["number"], "total": part["total"]}


def _deliver(db, config: AlertConfig, channel, now: str, year: int | None, dry_run: bool, clock: Clock) -> Delivery:
    kind = channel_kind(channel)
    result = Delivery(channel.name)
    queue = alert_ledger.outstanding(db, channel.name, supersede=not dry_run)
    planned = {key for part in queue for key in part["keys"]}
    rows = [r for r in pending(db, channel.name, year, channel.route) if (r["key"], finding_state(r)) not in planned]
    if rows:
        subject, parts = _plan(db, config, channel, kind, rows)
        if dry_run:
            queue += [{"role": p.role, "number": p.number, "total": p.total, "payload": p.payload, "keys": p.keys} for p in parts]
        else:
            alert_ledger.store(db, channel.name, year, now, subject, parts)
            queue = alert_ledger.outstanding(db, channel.name)
    if dry_run:
        result.preview = [_preview(channel, kind, part) for part in queue]
        result.untold = len({key for part in queue for key in part["keys"]})
        return result
    secrets = Secrets()
    try:
        if queue:
            _send_parts(db, channel, kind, queue, now, clock, result, secrets)
    except AlertError as e:
        result.errors.append(secrets.scrub(str(e)))
    result.untold = alert_ledger.untold(db, channel.name)
    return result


def alert(
    db: sqlite_utils.Database,
    config: AlertConfig,
    now: str,
    year: int | None = None,
    dry_run: bool = False,
    clock: Clock | None = None,
) -> dict[str, Delivery]:
    """Send each channel what it has not been told; returns what each channel got."""
    results: dict[str, Delivery] = {}
    for channel in config.channels:
        try:
            results[channel.name] = _deliver(db, config, channel, now, year, dry_run, clock or SystemClock())
        except Exception as e:  # one channel's bug must not cost the others, nor print a secret in a traceback
            log.error("提醒 %s：内部错误 %s", channel.name, type(e).__name__)
            failed = Delivery(channel.name, errors=[f"内部错误（{type(e).__name__}），请报告"])
            failed.untold = alert_ledger.untold(db, channel.name)
            results[channel.name] = failed
    return results


def report_lines(results: dict[str, Delivery]) -> tuple[list[str], list[str]]:
    """(lines for stdout, lines for stderr) saying what each channel got and what did not arrive."""
    out, err = [], []
    for name, r in results.items():
        if r.ok:
            line = f"提醒 {name}：已告知 {r.told} 条（{r.sent} 条消息）" if r.sent else f"提醒 {name}：没有新内容"
            if r.deferred:
                line += f"；其余 {r.untold} 条的 {r.deferred} 条消息超出每次运行的条数上限，下次运行继续发送"
            out.append(line)
            continue
        err.append(
            f"提醒 {name}：{r.untold} 条未送达（下次运行重发），本次已告知 {r.told} 条（{r.sent} 条消息送达，{r.failed} 条被拒）"
        )
        err += [f"  {e}" for e in r.errors]
    return out, err
