"""Handing queued clip jobs to the render provider, with retries, never silently stuck.

A job is dispatched only while it is queued and has no provider job id, under a transaction
advisory lock on its id, so a replayed enqueue or a concurrent retry never submits it twice.
Every failed attempt is recorded through ``record_clip_dispatch``; a job still awaiting dispatch
is picked up again by :meth:`ClipDispatcher.retry_awaiting_dispatch`, and the database fails
and refunds it after its maximum number of attempts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
import tenacity

from directorstudio.contracts.clips import DispatchSummary
from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server.db import SERVICE_CLAIMS, Database
from directorstudio.server.render.base import (
    RenderJob,
    RenderProvider,
    RenderRejectedError,
    RenderUnavailableError,
)

log = logging.getLogger("directorstudio.dispatch")

_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))"
_JOB_SQL = "SELECT to_jsonb(j) FROM public.clip_jobs AS j WHERE j.id = %s"


def _awaiting(job: Mapping[str, Any]) -> bool:
    return job.get("status") == "queued" and not job.get("provider_job_id")


class ClipDispatcher:
    """Submits clip jobs to a :class:`RenderProvider` and records the outcome."""

    def __init__(
        self,
        db: Database,
        provider: RenderProvider | None = None,
        *,
        provider_factory: Callable[[], RenderProvider] | None = None,
        clip_seconds: float = 3.0,
        attempts: int = 3,
        max_attempts: int = 5,
        wait: tenacity.wait.wait_base | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if provider is None and provider_factory is None:
            raise ValueError("give a provider or a provider factory")
        self.db = db
        self._provider = provider
        self._provider_factory = provider_factory
        self._provider_lock = threading.Lock()
        self.clip_seconds = clip_seconds
        self.attempts = max(1, attempts)
        self.max_attempts = max(1, max_attempts)
        self.wait = wait if wait is not None else tenacity.wait_exponential(multiplier=0.5, max=8)
        self.sleep = sleep

    @property
    def provider(self) -> RenderProvider:
        """The render provider, built on first use (a configuration error is ``unavailable``
        and leaves jobs waiting, without counting an attempt)."""
        with self._provider_lock:
            if self._provider is None:
                assert self._provider_factory is not None
                self._provider = self._provider_factory()
            return self._provider

    @property
    def built_provider(self) -> RenderProvider | None:
        """The provider if it has been built."""
        return self._provider

    def dispatch(self, job: Mapping[str, Any], callback_url: str) -> dict[str, Any]:
        """Submit ``job`` unless it is already submitted or no longer queued; the job after."""
        if not _awaiting(job):
            return dict(job)
        provider = self.provider
        job_id = str(job["id"])
        with self.db.transaction("service_role", SERVICE_CLAIMS) as conn:
            row = conn.execute(_LOCK_SQL, (f"clip_dispatch:{job_id}",)).fetchone()
            if row is None or not row[0]:
                return dict(job)
            row = conn.execute(_JOB_SQL, (job_id,)).fetchone()
            current: dict[str, Any] = dict(job) if row is None else row[0]
            if not _awaiting(current):
                return current
            return self._submit(conn, provider, current, callback_url)

    def _submit(
        self,
        conn: psycopg.Connection[Any],
        provider: RenderProvider,
        job: dict[str, Any],
        callback_url: str,
    ) -> dict[str, Any]:
        render_job = RenderJob(
            job_id=uuid.UUID(str(job["id"])),
            prompt=str(job["prompt"]),
            callback_url=callback_url,
            duration_seconds=self.clip_seconds,
        )
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self.wait,
            retry=tenacity.retry_if_exception_type(RenderUnavailableError),
            sleep=self.sleep,
            reraise=True,
        )
        current = job
        try:
            for attempt in retrying:
                with attempt:
                    try:
                        provider_job_id = provider.submit(render_job)
                    except RenderRejectedError as error:
                        # Permanent: this attempt is the last one.
                        return self._record(conn, job, False, error=error.message, final=True)
                    except Exception as error:
                        message = (
                            error.message if isinstance(error, DirectorStudioError) else repr(error)
                        )
                        log.warning("dispatch of clip job %s failed: %s", job["id"], message)
                        current = self._record(conn, job, False, error=message)
                        if current.get("status") != "queued":
                            return current
                        raise RenderUnavailableError(message) from error
        except RenderUnavailableError:
            return current
        return self._record(conn, job, True, provider_job_id=provider_job_id)

    def _record(
        self,
        conn: psycopg.Connection[Any],
        job: Mapping[str, Any],
        succeeded: bool,
        *,
        provider_job_id: str | None = None,
        error: str | None = None,
        final: bool = False,
    ) -> dict[str, Any]:
        result: dict[str, Any] = self.db.call(
            conn,
            "record_clip_dispatch",
            {
                "p_job_id": str(job["id"]),
                "p_succeeded": succeeded,
                "p_provider_job_id": provider_job_id,
                "p_error": None if error is None else error[:2000],
                "p_max_attempts": 1 if final else self.max_attempts,
            },
        )
        return result

    def retry_awaiting_dispatch(self, callback_url: str, *, limit: int = 50) -> DispatchSummary:
        """Dispatch again every queued job the provider has not accepted yet."""
        self.provider  # noqa: B018 (a configuration error is reported to the scheduler)
        jobs: list[dict[str, Any]] = self.db.call_as_service(
            "clip_jobs_awaiting_dispatch", {"p_limit": limit}, shape="rows"
        )
        dispatched = failed = 0
        for job in jobs:
            try:
                after = self.dispatch(job, callback_url)
            except DirectorStudioError as error:
                log.warning("retrying dispatch of %s failed: %s", job.get("id"), error.message)
                continue
            if after.get("provider_job_id"):
                dispatched += 1
            elif after.get("status") == "failed":
                failed += 1
        return DispatchSummary(attempted=len(jobs), dispatched=dispatched, failed=failed)
