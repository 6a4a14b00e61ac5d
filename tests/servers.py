"""Real servers on 127.0.0.1 that alerts are sent to: SMTP (aiosmtpd), a lenient webhook
receiver (``hook``) and strict robots (``robots``: WeCom, DingTalk, Feishu and generic,
each enforcing its real size and rate limits and answering with its real error codes).
Fixtures are shared through conftest."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default), session.authenticated)
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _auth(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"office", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=_auth, auth_require_tls=False)
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def hook():
    with webhook_receiver() as (base, received):
        yield base, received


@contextlib.contextmanager
def webhook_receiver():
    """A generic webhook receiver on 127.0.0.1: (its base URL, the (path, JSON body) it received)."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()


class SimClock:
    """Simulated time, shared by the sender (its pacing and backoff waits) and the strict
    robots (their rate windows): minutes of pacing pass without waiting."""

    def __init__(self, start: float = 1_750_000_000.0):
        self.now = start
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _hmac_b64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


@dataclass
class Robot:
    """One strict robot: it enforces its kind's real limits and answers with the real codes
    (size, rate, signature, keyword, token), so a message refused in production is refused here."""

    kind: str
    token: str
    secret: str | None = None
    keywords: tuple[str, ...] = ()
    accepted: list[dict] = field(default_factory=list)  # bodies accepted, in order
    answers: list[int] = field(default_factory=list)  # every code answered (0: accepted)
    arrivals: list[float] = field(default_factory=list)  # when accepted messages arrived
    throttled_until: float = 0.0
    faults: list[tuple] = field(default_factory=list)  # injected refusals: (predicate(body), HTTP status, answer)

    def refuse_once(self, when, status: int = 200, answer: dict | None = None) -> None:
        self.faults.append((when, status, answer or {}))

    def busy(self, count: int, at: float) -> None:
        """Another sender used this robot: ``count`` messages at ``at``."""
        self.arrivals += [at] * count

    def texts(self) -> list[str]:
        return [message_text(self.kind, body) for body in self.accepted]

    def _recent(self, now: float, seconds: float) -> int:
        return sum(t > now - seconds for t in self.arrivals)

    def answer(self, query: dict, raw: bytes, now: float) -> tuple[int, dict]:
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"errcode": 400, "errmsg": "invalid json"}
        for fault in self.faults:
            if fault[0](body):
                self.faults.remove(fault)
                return fault[1], fault[2]
        code, message = getattr(self, f"_{self.kind}")(query, raw, body, now)
        self.answers.append(code)
        if code == 0:
            self.accepted.append(body)
            self.arrivals.append(now)
        if self.kind == "feishu":
            return 200, {"code": code, "msg": message or "success", "data": {}}
        return 200, {"errcode": code, "errmsg": message or "ok"}

    def _wecom(self, query, raw, body, now) -> tuple[int, str]:
        # https://developer.work.weixin.qq.com/document/path/91770: markdown ≤ 4096 bytes, text ≤ 2048, 20/min
        if query.get("key") != self.token:
            return 93000, "invalid webhook url"
        msgtype = body.get("msgtype")
        if msgtype not in ("markdown", "text"):
            return 40008, "invalid message type"
        content = body.get(msgtype, {}).get("content", "")
        limit = 4096 if msgtype == "markdown" else 2048
        if len(content.encode()) > limit:
            return 40058, f"{msgtype}.content exceed max length {limit}. invalid Request Parameter"
        if self._recent(now, 60) >= 20:
            return 45009, "api freq out of limit"
        return 0, ""

    def _dingtalk(self, query, raw, body, now) -> tuple[int, str]:
        # 20/min, then throttled for 10 minutes; body ≤ 20000 bytes; signature and keywords
        if query.get("access_token") != self.token:
            return 300005, "token is not exist"
        if len(raw) > 20000:
            return 460101, "message too long, exceed 20000 bytes"
        if self.secret:
            stamp = query.get("timestamp", "")
            expected = _hmac_b64(self.secret.encode(), f"{stamp}\n{self.secret}".encode())
            if not stamp.isdigit() or abs(now * 1000 - int(stamp)) > 3_600_000 or query.get("sign") != expected:
                return 310000, "sign not match"
        text = body.get("markdown", {}).get("text", "") + body.get("markdown", {}).get("title", "")
        if self.keywords and not any(k in text for k in self.keywords):
            return 310000, "keywords not in content"
        if now < self.throttled_until:
            return 130101, "send too fast, exceed 20 times per minute"
        if self._recent(now, 60) >= 20:
            self.throttled_until = now + 600
            return 130101, "send too fast, exceed 20 times per minute"
        return 0, ""

    def _feishu(self, query, raw, body, now) -> tuple[int, str]:
        # 100/min and 5/s; the request body ≤ 20 KB (counted as 20,000 bytes, the stricter reading)
        if len(raw) > 20000:
            return 9499, "Bad Request"
        if self.secret:
            stamp = str(body.get("timestamp", ""))
            expected = _hmac_b64(f"{stamp}\n{self.secret}".encode(), b"")
            if not stamp.isdigit() or abs(now - int(stamp)) > 3600 or body.get("sign") != expected:
                return 19021, "sign match fail or timestamp is not within one hour from current time"
        if self.keywords and not any(k in body.get("content", {}).get("text", "") for k in self.keywords):
            return 19024, "Key Words Not Found"
        if self._recent(now, 1) >= 5 or self._recent(now, 60) >= 100:
            return 11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"
        return 0, ""

    def _generic(self, query, raw, body, now) -> tuple[int, str]:
        return 0, ""


def message_text(kind: str, body: dict) -> str:
    if kind == "wecom":
        return body["markdown"]["content"]
    if kind == "dingtalk":
        return body["markdown"]["text"]
    if kind == "feishu":
        return body["content"]["text"]
    return body["text"]


class Robots:
    """An HTTP server on 127.0.0.1 hosting strict robots of every kind, each under its real path."""

    PATHS = {
        "wecom": "/cgi-bin/webhook/send?key={token}",
        "dingtalk": "/robot/send?access_token={token}",
        "feishu": "/open-apis/bot/v2/hook/{token}",
        "generic": "/hook/{token}",
    }

    def __init__(self, clock: SimClock):
        self.clock = clock
        self.robots: dict[str, Robot] = {}
        self.lock = threading.Lock()
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                token = query.get("key") or query.get("access_token") or parts.path.rsplit("/", 1)[-1]
                with robots.lock:
                    robot = robots.robots.get(token)
                    status, answer = (404, {}) if robot is None else robot.answer(query, raw, robots.clock.time())
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def add(self, kind: str, secret: str | None = None, keywords: tuple[str, ...] = ()) -> tuple[str, Robot]:
        token = f"{kind}-{len(self.robots)}-8c1f0d2e"
        robot = Robot(kind, token, secret, keywords)
        self.robots[token] = robot
        return self.base + self.PATHS[kind].format(token=token), robot


@pytest.fixture
def robots():
    """Strict robots of every kind on 127.0.0.1, with a simulated clock shared with the sender."""
    server = Robots(SimClock())
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    yield server
    server.server.shutdown()
