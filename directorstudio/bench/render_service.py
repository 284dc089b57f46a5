"""A render service on localhost that accepts every job at once: the far side of the HTTP render
provider for the dispatch benchmark and tests (it renders nothing and never calls back).

Each accepted job id is recorded once per request; :meth:`FakeRenderService.wait_for` waits
(bounded) until a job has arrived, and ``on_request`` runs inside each request before it is
answered (e.g. to look at the database while the dispatcher waits for the answer).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeRenderService:
    """Counts the render requests per job and answers ``202 {"provider_job_id"}``."""

    def __init__(self, on_request: Callable[[str], None] | None = None) -> None:
        self.on_request = on_request
        self.requests: Counter[str] = Counter()
        self._arrived: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/jobs"

    def _event(self, job_id: str) -> threading.Event:
        with self._lock:
            return self._arrived.setdefault(job_id, threading.Event())

    def accept(self, job_id: str) -> None:
        """Record one request for ``job_id``."""
        if self.on_request is not None:
            self.on_request(job_id)
        with self._lock:
            self.requests[job_id] += 1
        self._event(job_id).set()

    def wait_for(self, job_id: str, timeout: float) -> bool:
        """Whether a request for ``job_id`` arrives within ``timeout`` seconds."""
        return self._event(job_id).wait(timeout)

    def total(self) -> int:
        """How many render requests arrived."""
        with self._lock:
            return sum(self.requests.values())

    @contextmanager
    def running(self) -> Iterator[FakeRenderService]:
        """Serve on a free loopback port for the duration of the block."""
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
                job_id = str(body.get("job_id"))
                service.accept(job_id)
                answer = json.dumps({"provider_job_id": f"fake-{job_id}"}).encode()
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._server = server
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
