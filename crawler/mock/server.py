"""The mock portal server: one process, one Twisted reactor, every portal of a
mock world on its own loopback address (same port), plus a spam mirror and a
control address (127.0.0.1) answering ``/__mock__/stats`` and
``/__mock__/change?portal=ID&fate=F[&item=N]`` (what happens to a portal or a
report between two crawls: ``world.change``).

    python -m crawler.mock.server --world demo      # prints "READY <port>" once listening

Static routes answer conditional requests (ETag / Last-Modified → 304).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from .families import ACTION, Request, Route, routes
from .world import SPAM_IP, World, build_world, change

CONTROL_IP = "127.0.0.1"
LAST_MODIFIED = "Mon, 20 Jan 2025 08:00:00 GMT"


@dataclass
class Host:
    routes: dict[str, Route]
    robots: str


def _spam_page() -> bytes:
    return (
        '<html><head><meta charset="utf-8"><title>bet365亚洲官网</title></head><body>'
        "<p>政府信息公开工作年度报告 最新娱乐平台</p></body></html>"
    ).encode()


class Portals:
    """Answers a request for whichever portal's address it arrived on."""

    def __init__(self, world: World):
        self.world = world
        self.hosts: dict[str, Host] = {}
        for portal in world.portals:
            self.hosts[portal.ip] = Host(*routes(portal))
        self.hosts[SPAM_IP] = Host({"*": Route(_spam_page)}, "User-agent: *\nAllow: /\n")
        self.log: list[list] = []  # ip, method, uri, status, time, user-agent, referer, others in flight, answered

    def prebuild(self) -> None:
        """Make every static page and file now, as a real portal has them stored: a benchmark's
        crawl then does not share the machine with the portals writing PDFs on first request."""
        for host in self.hosts.values():
            for route in host.routes.values():
                if route.make is not None:
                    route.body()

    def _change(self, args: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        try:
            item = int(args["item"]) if args.get("item") else None
            change(self.world, args["portal"], args["fate"], item)
        except (KeyError, ValueError, StopIteration) as e:
            return 400, {"Content-Type": "text/plain"}, f"{type(e).__name__}: {e}".encode()
        portal = self.world.portal(args["portal"])
        self.hosts[portal.ip] = Host(*routes(portal))
        return 200, {"Content-Type": "text/plain"}, b"changed"

    def answer(self, ip: str, request: Request) -> tuple[int, dict[str, str], bytes]:
        if ip == CONTROL_IP:
            if request.path == "/__mock__/stats":
                return 200, {"Content-Type": "application/json"}, json.dumps(self.log).encode()
            if request.path == "/__mock__/change":
                return self._change(request.args)
            return 404, {}, b""
        host = self.hosts.get(ip)
        if host is None:
            return 404, {}, b""
        if request.path == "/__fault__/redirect":  # a redirect to wherever ?to= says (SSRF tests)
            return 302, {"Location": request.args.get("to", "/")}, b""
        if request.path == "/robots.txt" and "*" not in host.routes:
            return 200, {"Content-Type": "text/plain"}, host.robots.encode()
        route = host.routes.get(request.path) or host.routes.get("*")
        if route is None:
            return 404, {"Content-Type": "text/html"}, b"<html><body><h1>404 Not Found</h1></body></html>"
        if route.handler is not None:
            return route.handler(request)
        body = route.body()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {"Content-Type": route.content_type, "ETag": etag, "Last-Modified": LAST_MODIFIED, **route.headers}
        if request.headers.get("if-none-match") == etag or (
            "if-none-match" not in request.headers and request.headers.get("if-modified-since") == LAST_MODIFIED
        ):
            return 304, {"ETag": etag}, b""
        return 200, headers, body


def serve(world: World, port: int, latency: float = 0.0, handshake: float = 0.0, prebuilt: bool = False) -> None:
    """``latency``: seconds every answer waits (requests overlap only if the client lets them).
    ``handshake``: seconds every new connection waits before its first request is read (a far
    host slow to set up a connection: the first request on it reaches the host late, the next
    ones on the same connection at once)."""
    from twisted.internet import reactor
    from twisted.web import resource, server

    portals = Portals(world)
    if prebuilt:
        portals.prebuild()
    hanging: list = []
    in_flight: dict[str, int] = {}

    class Root(resource.Resource):
        isLeaf = True

        def render(self, req):
            args = {k.decode("latin-1"): v[0].decode("utf-8", "replace") for k, v in req.args.items()}
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in req.requestHeaders.getAllRawHeaders() for v in v[:1]
            }
            ip = req.getHost().host
            body = req.content.read() if req.content is not None else b""
            status, out_headers, body = portals.answer(
                ip, Request(req.method.decode(), req.path.decode("utf-8", "replace"), args, headers, body)
            )
            entry = [
                ip,
                req.method.decode(),
                req.uri.decode("latin-1"),
                status,
                time.time(),
                headers.get("user-agent", ""),
                headers.get("referer", ""),
                in_flight.get(ip, 0),  # other requests to this host not yet answered
                None,  # when the answer was finished (or the connection lost)
            ]
            portals.log.append(entry)
            in_flight[ip] = in_flight.get(ip, 0) + 1

            def done(_=None):
                in_flight[ip] -= 1
                entry[8] = time.time()

            req.notifyFinish().addBoth(done)
            action = out_headers.pop(ACTION, None)
            if action == "hang":  # never answered: the client's timeout must end it
                hanging.append(req)
                return server.NOT_DONE_YET
            if action == "reset":
                req.transport.abortConnection()
                return server.NOT_DONE_YET
            if latency:
                reactor.callLater(latency, answer, req, status, out_headers, body, action)
                return server.NOT_DONE_YET
            return answer(req, status, out_headers, body, action, now=True)

    def answer(req, status: int, out_headers: dict, body: bytes, action: str | None, now: bool = False):
        if req._disconnected:
            return b""
        req.setResponseCode(status)
        for name, value in out_headers.items():
            req.setHeader(name, value)
        if action == "truncate":  # promises twice the bytes it sends, then hangs up
            req.setHeader("Content-Length", str(len(body) * 2))
            req.write(body)
            req.transport.loseConnection()
            return server.NOT_DONE_YET
        if now:
            return b"" if req.method == b"HEAD" else body
        if req.method != b"HEAD":
            req.write(body)
        req.finish()
        return None

    class Site(server.Site):
        def buildProtocol(self, addr):
            protocol = super().buildProtocol(addr)
            if handshake:
                connect = protocol.makeConnection

                def slow_start(transport):
                    connect(transport)
                    transport.pauseProducing()
                    reactor.callLater(handshake, transport.resumeProducing)

                protocol.makeConnection = slow_start
            return protocol

    site = Site(Root())
    site.displayTracebacks = False
    site.log = lambda request: None
    reactor.listenTCP(port, site, interface=CONTROL_IP)
    for ip in [p.ip for p in world.portals] + [SPAM_IP]:
        reactor.listenTCP(port, site, interface=ip)
    print(f"READY {port}", flush=True)
    reactor.run()


class MockServer:
    """Runs the mock portals in a child process for as long as the ``with`` block lasts."""

    def __init__(self, world: str = "demo", latency: float = 0.0, handshake: float = 0.0, prebuilt: bool = False):
        self.kind = world
        self.latency = latency
        self.handshake = handshake
        self.prebuilt = prebuilt
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.world: World | None = None

    def __enter__(self) -> MockServer:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crawler.mock.server", "--world", self.kind]
            + ["--latency", str(self.latency), "--handshake", str(self.handshake)]
            + (["--prebuilt"] if self.prebuilt else []),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        line = self.process.stdout.readline()
        if not line.startswith("READY "):
            err = self.process.stderr.read()
            self.process.kill()
            raise RuntimeError(f"mock portals did not start: {line.strip()} {err.strip()[-500:]}")
        self.port = int(line.split()[1])
        self.world = build_world(self.kind, self.port)
        return self

    def stats(self) -> list[tuple]:
        import urllib.request

        with urllib.request.urlopen(f"http://{CONTROL_IP}:{self.port}/__mock__/stats", timeout=30) as r:
            return [tuple(x) for x in json.load(r)]

    def change(self, portal: str, fate: str, item: int | None = None) -> None:
        """Change what the server serves (``world.change``), and this side's copy of the world alike."""
        import urllib.parse
        import urllib.request

        query = urllib.parse.urlencode({"portal": portal, "fate": fate, **({"item": item} if item is not None else {})})
        with urllib.request.urlopen(f"http://{CONTROL_IP}:{self.port}/__mock__/change?{query}", timeout=30) as r:
            r.read()
        change(self.world, portal, fate, item)

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a mock world of government portals on loopback.")
    parser.add_argument("--world", default="demo", help="demo, test, fates, poison, bench:N or soak:N (N counties)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every answer waits")
    parser.add_argument("--handshake", type=float, default=0.0, help="seconds a new connection waits before it is read")
    parser.add_argument("--prebuilt", action="store_true", help="make every page and file before serving (as stored files)")
    args = parser.parse_args()
    port = args.port or _free_port()
    serve(build_world(args.world, port), port, args.latency, args.handshake, args.prebuilt)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((CONTROL_IP, 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
