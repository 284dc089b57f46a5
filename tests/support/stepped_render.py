"""A render provider's server that renders only when the test says so.

The HTTP render provider of the functions submits each job here (``202`` with a provider job
id); the test then moves it on: :meth:`SteppedRenderService.report` sends a signed webhook
event (``processing`` with its progress), :meth:`complete` renders a real MP4 into the
gateway's render folder and reports it ``completed`` with its download URL, as a real provider
would. Until then the job stays ``queued`` (so a cancel is deterministic).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from directorstudio.server.render.transport import post_signed_json, urllib_post
from directorstudio.server.render.video import VideoSpec, find_font, render_clip
from directorstudio.stack.gateway import RENDERS_PATH

CLIP_SECONDS = 1.0


@dataclass(frozen=True)
class Submitted:
    """A job as the provider received it."""

    job_id: str
    prompt: str
    callback_url: str
    duration_seconds: float

    @property
    def provider_job_id(self) -> str:
        return f"stepped-{self.job_id}"


class SteppedRenderService:
    """Accepts jobs, and reports on them when told to."""

    def __init__(self, webhook_secret: str, render_dir: Path, public_url: str) -> None:
        self.webhook_secret = webhook_secret
        self.render_dir = render_dir
        self.public_url = public_url
        self.jobs: dict[str, Submitted] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start it first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/jobs"

    def received(self, job_id: str) -> bool:
        """Whether the job reached the provider."""
        with self._lock:
            return job_id in self.jobs

    def accept(self, body: dict[str, Any]) -> Submitted:
        job = Submitted(
            str(body["job_id"]), str(body.get("prompt") or ""), str(body["callback_url"]),
            float(body.get("duration_seconds") or CLIP_SECONDS),
        )  # fmt: skip
        with self._lock:
            self.jobs.setdefault(job.job_id, job)
        return job

    def report(self, job_id: str, status: str, **fields: Any) -> int:
        """Send one signed event for the job; the webhook's HTTP status, which must be a 2xx
        (a refusal fails here, naming the status and the webhook's answer)."""
        job = self.jobs[job_id]
        event = {"job_id": job_id, "status": status, "provider_job_id": job.provider_job_id}
        reply = post_signed_json(
            urllib_post, job.callback_url, {**event, **fields}, self.webhook_secret,
            message_id=f"{job.provider_job_id}:{status}",
        )  # fmt: skip
        assert 200 <= reply.status < 300, (
            f"the webhook refused the {status} event of job {job_id}: {reply.status} "
            f"{reply.body.decode(errors='replace')}"
        )
        return reply.status

    def complete(self, job_id: str) -> Path:
        """Render the job's MP4 and report it completed; the rendered file."""
        job = self.jobs[job_id]
        name = f"{job_id}.mp4"
        output = render_clip(
            job.prompt, self.render_dir / name, VideoSpec(seconds=CLIP_SECONDS), font=find_font()
        )
        self.report(job_id, "completed", download_url=f"{self.public_url}/{name}")
        return output

    @contextmanager
    def running(self) -> Iterator[SteppedRenderService]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                job = service.accept(json.loads(self.rfile.read(length) or b"{}"))
                answer = json.dumps({"provider_job_id": job.provider_job_id}).encode()
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


def public_renders_url(gateway_url: str) -> str:
    """Where the gateway serves the render folder."""
    return f"{gateway_url}{RENDERS_PATH}"
