"""A fault-injecting HTTP proxy on 127.0.0.1, between the client library and the gateway.

Every request is forwarded to the upstream gateway. Requests whose path is selected (by default
the sync rpc calls) draw a fault from a seeded random source, in arrival order, so a seed
replays the same faults for the same request sequence:

- ``drop_response``: forwarded, the server commits, then the client's connection is reset
  instead of answered (the lost acknowledgement);
- ``reset``: the client's connection is reset before anything is forwarded;
- ``duplicate``: the request reaches the server twice in a row; the client gets the second answer;
- ``delayed_replay``: answered normally, and a copy reaches the server again a few requests
  later (an old retry arriving out of order); its answer goes nowhere;
- ``delay``: forwarded after a short, bounded pause.

When the upstream cannot be reached (a gateway restart) the proxy answers 503 with a JSON body,
as a hosted gateway does. ``hold_next`` lets a test stop one matching request after the server
answered it (to kill the client process while its push is in flight).
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULT_KINDS = ("drop_response", "reset", "duplicate", "delayed_replay", "delay")
SYNC_PATHS = ("/rest/v1/rpc/sync_push", "/rest/v1/rpc/sync_pull")
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
UPSTREAM_TIMEOUT = 60.0
HOLD_TIMEOUT = 60.0
MAX_DELAY = 0.02


@dataclass(frozen=True)
class FaultRates:
    """The chance of each fault per selected request."""

    drop_response: float = 0.06
    reset: float = 0.05
    duplicate: float = 0.05
    delayed_replay: float = 0.05
    delay: float = 0.05

    def pick(self, rng: random.Random) -> str | None:
        draw = rng.random()
        for kind in FAULT_KINDS:
            draw -= getattr(self, kind)
            if draw < 0:
                return kind
        return None


@dataclass(frozen=True)
class Forward:
    """One request as it is sent upstream."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class _Hold:
    matches: Callable[[Forward], bool]
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class FaultProxy:
    """Listens on a free loopback port and forwards to ``upstream_port``."""

    def __init__(
        self,
        upstream_port: int,
        seed: int,
        *,
        rates: FaultRates | None = None,
        selected: Callable[[str], bool] = lambda path: path in SYNC_PATHS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.upstream_port = upstream_port
        self.rates = rates or FaultRates()
        self.selected = selected
        self.enabled = True
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self.unreachable = 0
        self.server_errors: list[tuple[int, str, str]] = []  # status, path, content type
        self._rng = random.Random(seed)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._replays: list[tuple[int, Forward]] = []
        self._hold: _Hold | None = None
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # --- holding one request for a process kill -----------------------------------------------
    def hold_next(self, matches: Callable[[Forward], bool]) -> _Hold:
        """Stop the next request ``matches`` accepts after the server answered it, until
        :meth:`release`; wait on the returned hold's ``reached``."""
        hold = _Hold(matches)
        with self._lock:
            self._hold = hold
        return hold

    def release(self) -> None:
        with self._lock:
            hold, self._hold = self._hold, None
        if hold is not None:
            hold.release.set()

    # --- the decisions ----------------------------------------------------------------------------
    def decide(self, forward: Forward) -> tuple[str | None, list[Forward]]:
        """The fault for this request and the delayed replays now due (in arrival order)."""
        with self._lock:
            self.requests += 1
            if not self.enabled or not self.selected(forward.path):
                return None, []
            due = [f for at, f in self._replays if at <= self.requests]
            self._replays = [(at, f) for at, f in self._replays if at > self.requests]
            kind = self.rates.pick(self._rng)
            if kind == "delayed_replay":
                self._replays.append((self.requests + self._rng.randint(1, 6), forward))
            delay = self._rng.uniform(0.001, MAX_DELAY) if kind == "delay" else 0.0
            if kind is not None:
                self.injected[kind] += 1
        if delay:
            self._sleep(delay)
        return kind, due

    def flush_replays(self) -> int:
        """Deliver every delayed replay still waiting (before the final checks)."""
        with self._lock:
            due, self._replays = [f for _, f in self._replays], []
        for forward in due:
            self.send_upstream(forward)
        return len(due)

    def take_hold(self, forward: Forward) -> _Hold | None:
        with self._lock:
            hold = self._hold
            if hold is None or hold.reached.is_set() or not hold.matches(forward):
                return None
            hold.reached.set()
            return hold

    def send_upstream(self, forward: Forward) -> Reply | None:
        """Forward one request; ``None`` when the upstream cannot be reached."""
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.request(forward.method, forward.path, body=forward.body, headers=forward.headers)
            response = conn.getresponse()
            body = response.read()
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_HEADERS]
            if response.status >= 500:
                kind = response.getheader("Content-Type") or ""
                with self._lock:
                    self.server_errors.append((response.status, forward.path, kind))
            return Reply(response.status, headers, body)
        except (OSError, http.client.HTTPException):
            with self._lock:
                self.unreachable += 1
            return None
        finally:
            conn.close()

    def counts(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "faults": dict(self.injected),
                "upstream_unavailable": self.unreachable,
                "upstream_5xx": len(self.server_errors),
            }


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # connections reset on purpose, or by a killed client


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reset(self) -> None:
            # SO_LINGER 0: close with a TCP reset, as a dropped connection looks to the client.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def _answer(self, reply: Reply | None) -> None:
            if reply is None:
                body = json.dumps({"message": "upstream server unavailable"}).encode()
                reply = Reply(503, [("Content-Type", "application/json")], body)
            self.send_response(reply.status)
            for key, value in reply.headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            forward = Forward(self.command, self.path, headers, body)
            kind, replays = proxy.decide(forward)
            for old in replays:
                proxy.send_upstream(old)
            if kind == "reset":
                self._reset()
                return
            reply = proxy.send_upstream(forward)
            if kind == "duplicate" and reply is not None:
                reply = proxy.send_upstream(forward)
            hold = proxy.take_hold(forward)
            if hold is not None:
                hold.release.wait(HOLD_TIMEOUT)
            if kind == "drop_response" and reply is not None:
                self._reset()
                return
            try:
                self._answer(reply)
            except OSError:
                self.close_connection = True  # the client went away (killed while held)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _proxy

    return Handler
