"""The fault proxy does to requests what each fault kind says, and nothing else."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from directorstudio.pgcluster import free_port
from tests.support.fault_proxy import FaultProxy, FaultRates

SYNC_PUSH = "/rest/v1/rpc/sync_push"


class Upstream:
    """A server that counts the bodies it receives and answers each with its number."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                upstream.received.append(body)
                answer = str(len(upstream.received)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _proxy(port: int, **rates: float) -> FaultProxy:
    none = dict.fromkeys(("drop_response", "reset", "duplicate", "delayed_replay", "delay"), 0.0)
    return FaultProxy(port, seed=7, rates=FaultRates(**{**none, **rates}), sleep=lambda _: None)


def _post(proxy: FaultProxy, body: bytes, path: str = SYNC_PUSH) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_dropped_response_reaches_the_server_once_and_the_client_sees_a_reset(
    upstream: Upstream,
) -> None:
    proxy = _proxy(upstream.port, drop_response=1.0).start()
    try:
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            _post(proxy, b"1")
    finally:
        proxy.stop()
    assert upstream.received == [b"1"]
    assert proxy.counts()["faults"] == {"drop_response": 1}


def test_a_reset_request_never_reaches_the_server(upstream: Upstream) -> None:
    proxy = _proxy(upstream.port, reset=1.0).start()
    try:
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            _post(proxy, b"1")
    finally:
        proxy.stop()
    assert upstream.received == []


def test_a_duplicated_request_reaches_the_server_twice_and_is_answered_once(
    upstream: Upstream,
) -> None:
    proxy = _proxy(upstream.port, duplicate=1.0).start()
    try:
        assert _post(proxy, b"1") == (200, b"2")
    finally:
        proxy.stop()
    assert upstream.received == [b"1", b"1"]


def test_a_delayed_replay_reaches_the_server_again_after_later_requests(
    upstream: Upstream,
) -> None:
    proxy = _proxy(upstream.port, delayed_replay=1.0).start()
    try:
        assert _post(proxy, b"first")[0] == 200
        proxy.enabled = False
        assert _post(proxy, b"second")[0] == 200
        assert proxy.flush_replays() == 1
    finally:
        proxy.stop()
    assert upstream.received == [b"first", b"second", b"first"]


def test_requests_outside_the_selected_paths_pass_untouched(upstream: Upstream) -> None:
    proxy = _proxy(upstream.port, reset=1.0).start()
    try:
        assert _post(proxy, b"1", path="/auth/v1/token") == (200, b"1")
    finally:
        proxy.stop()
    assert proxy.counts()["faults"] == {}


def test_an_unreachable_upstream_is_answered_503_json() -> None:
    proxy = _proxy(free_port()).start()
    try:
        status, body = _post(proxy, b"1")
    finally:
        proxy.stop()
    assert status == 503
    assert b"unavailable" in body
