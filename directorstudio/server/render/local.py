"""A render provider on this machine: real MP4 files, served locally, reported by webhook."""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server.render.base import RenderJob
from directorstudio.server.render.files import FileServer
from directorstudio.server.render.transport import Post, post_signed_json, urllib_post
from directorstudio.server.render.video import VideoSpec, find_font, render_clip

log = logging.getLogger("directorstudio.render")

Renderer = Callable[[str, Path, VideoSpec], Path]


def ffmpeg_renderer(font: Path | None) -> Renderer:
    """Render with the bundled ffmpeg using ``font`` (no text when ``None``)."""

    def render(prompt: str, output: Path, spec: VideoSpec) -> Path:
        return render_clip(prompt, output, spec, font=font)

    return render


class LocalRenderProvider:
    """Renders each submitted job into ``<job id>.mp4`` and reports it to the job's callback.

    Events, each signed with the webhook secrets as Standard Webhooks message
    ``<provider job id>:<status>`` (so a resent event is a duplicate): ``processing``
    (progress 10), then ``completed`` with the file's URL (on the :class:`FileServer`, or under
    ``public_url``), or ``failed`` with the error.
    Jobs wait in a queue: ``run_pending()`` renders them on the calling thread (tests), and
    ``start()`` runs a worker thread that renders them as they arrive (the local stack).
    Submitting a job again is a no-op that returns the same provider job id.
    """

    def __init__(
        self,
        *,
        files: FileServer,
        webhook_secret: str,
        spec: VideoSpec | None = None,
        renderer: Renderer | None = None,
        post: Post = urllib_post,
        clock: Callable[[], float] = time.time,
        public_url: str | None = None,
    ) -> None:
        self.files = files
        self.public_url = public_url.rstrip("/") if public_url else None
        self.spec = spec or VideoSpec()
        self._secret = webhook_secret
        self._renderer = renderer or ffmpeg_renderer(find_font())
        self._post = post
        self._clock = clock
        self._lock = threading.Condition()
        self._pending: collections.deque[RenderJob] = collections.deque()
        self._seen: set[uuid.UUID] = set()
        self._worker: threading.Thread | None = None
        self._stopping = False

    @staticmethod
    def provider_job_id(job_id: uuid.UUID) -> str:
        """The provider's id of a job (derived, so resubmitting never renders twice)."""
        return f"local-{job_id}"

    def submit(self, job: RenderJob) -> str:
        """Queue ``job`` once."""
        with self._lock:
            if job.job_id not in self._seen:
                self._seen.add(job.job_id)
                self._pending.append(job)
                self._lock.notify()
        return self.provider_job_id(job.job_id)

    def pending(self) -> int:
        """How many jobs wait to be rendered."""
        with self._lock:
            return len(self._pending)

    def run_pending(self) -> int:
        """Render every queued job now, on this thread; how many were rendered."""
        done = 0
        while True:
            with self._lock:
                if not self._pending:
                    return done
                job = self._pending.popleft()
            self._process(job)
            done += 1

    def start(self) -> LocalRenderProvider:
        """Render queued jobs on a background worker thread (idempotent)."""
        with self._lock:
            if self._worker is None:
                self._stopping = False
                self._worker = threading.Thread(target=self._work, name="render", daemon=True)
                self._worker.start()
        return self

    def close(self) -> None:
        """Stop the worker (jobs still queued stay queued) and the file server."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.join()
        self.files.close()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                job = self._pending.popleft()
            self._process(job)

    def _process(self, job: RenderJob) -> None:
        provider_job_id = self.provider_job_id(job.job_id)
        self._report(job, provider_job_id, "processing", progress=10)
        name = f"{job.job_id}.mp4"
        spec = VideoSpec(
            seconds=job.duration_seconds,
            width=self.spec.width,
            height=self.spec.height,
            fps=self.spec.fps,
            background=self.spec.background,
        )
        try:
            self._renderer(job.prompt, self.files.directory / name, spec)
        except Exception as error:
            message = error.message if isinstance(error, DirectorStudioError) else str(error)
            log.warning("rendering clip job %s failed: %s", job.job_id, message)
            self._report(job, provider_job_id, "failed", error=f"render failed: {message}"[:2000])
            return
        self._report(job, provider_job_id, "completed", download_url=self.download_url(name))

    def download_url(self, name: str) -> str:
        """Where a rendered file is fetched: under ``public_url`` when one is configured (a
        gateway serving the output directory), else from the provider's own file server."""
        if self.public_url:
            return f"{self.public_url}/{quote(name)}"
        return self.files.url_for(name)

    def _report(self, job: RenderJob, provider_job_id: str, status: str, **fields: Any) -> None:
        event = {
            "job_id": str(job.job_id),
            "status": status,
            "provider_job_id": provider_job_id,
            **fields,
        }
        try:
            reply = post_signed_json(
                self._post,
                job.callback_url,
                event,
                self._secret,
                message_id=f"{provider_job_id}:{status}",
                clock=self._clock,
            )
        except DirectorStudioError as error:
            log.warning("clip webhook for %s unreachable: %s", job.job_id, error.message)
            return
        if not 200 <= reply.status < 300:
            log.warning(
                "clip webhook refused %s event for %s: %s", status, job.job_id, reply.status
            )
