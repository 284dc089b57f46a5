"""Handing queued clip jobs to the render provider, with retries, exactly once per lease.

Dispatch is three steps, each in a short transaction of its own: ``claim_clip_dispatch`` marks a
queued job with a lease (only one dispatcher holds a valid lease), the provider is called with no
transaction open and no connection held, and ``record_clip_dispatch`` records each attempt, the
last one together with ``release_clip_dispatch``. The enqueue request, the change notification
(``dispatch_clip``) and the scheduled retry may race for a job: the lease lets one of them send
it. A lease left by a dispatcher that stopped expires, and the job is claimed again by
:meth:`ClipDispatcher.retry_awaiting_dispatch`; the database fails and refunds a job after its
maximum number of attempts.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import tenacity

from directorstudio.contracts.clips import DispatchSummary
from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.server.db import Database
from directorstudio.server.render.base import (
    RenderJob,
    RenderProvider,
    RenderRejectedError,
    RenderUnavailableError,
)

log = logging.getLogger("directorstudio.dispatch")


def _awaiting(job: Mapping[str, Any]) -> bool:
    return job.get("status") == "queued" and not job.get("provider_job_id")


@dataclass(frozen=True)
class Claim:
    """The outcome of a claim: the job as it is, and the lease token when this call holds it."""

    job: dict[str, Any]
    token: str | None

    @property
    def claimed(self) -> bool:
        """Whether this call holds the job's lease."""
        return self.token is not None


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
        lease_seconds: float = 60.0,
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
        self.lease_seconds = lease_seconds
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
        """Submit ``job`` unless it is already submitted, no longer queued or leased by another
        dispatcher; the job after."""
        if not _awaiting(job):
            return dict(job)
        return self.dispatch_id(str(job["id"]), callback_url).job

    def dispatch_id(self, job_id: str, callback_url: str) -> Claim:
        """Claim the job ``job_id`` and, when this call holds the lease, submit it; the claim
        (with the job after)."""
        provider = self.provider
        claim = self.claim(job_id)
        if not claim.claimed:
            return claim
        assert claim.token is not None
        released = False
        try:
            job = self._submit(provider, claim.job, callback_url)
            released = not _awaiting(job)  # the last record ended the lease
        finally:
            if not released:
                self._release(job_id, claim.token)
        return Claim(job, claim.token)

    def claim(self, job_id: str) -> Claim:
        """One short transaction: lease the job for ``lease_seconds`` if it awaits dispatch."""
        result: dict[str, Any] = self.db.call_as_service(
            "claim_clip_dispatch",
            {"p_job_id": job_id, "p_lease_seconds": self.lease_seconds},
            shape="value",
        )
        token = result.get("token")
        return Claim(result["job"], None if token is None else str(token))

    def _release(self, job_id: str, token: str) -> None:
        # Usually already released with the last record; a failure here leaves the lease to
        # expire.
        with contextlib.suppress(DirectorStudioError):
            self.db.call_as_service(
                "release_clip_dispatch", {"p_job_id": job_id, "p_token": token}, shape="value"
            )

    def _submit(
        self, provider: RenderProvider, job: dict[str, Any], callback_url: str
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
                        return self._record(job, False, error=error.message, final=True)
                    except Exception as error:
                        message = (
                            error.message if isinstance(error, DirectorStudioError) else repr(error)
                        )
                        log.warning("dispatch of clip job %s failed: %s", job["id"], message)
                        current = self._record(job, False, error=message)
                        if current.get("status") != "queued":
                            return current
                        raise RenderUnavailableError(message) from error
        except RenderUnavailableError:
            return current
        return self._record(job, True, provider_job_id=provider_job_id)

    def _record(
        self,
        job: Mapping[str, Any],
        succeeded: bool,
        *,
        provider_job_id: str | None = None,
        error: str | None = None,
        final: bool = False,
    ) -> dict[str, Any]:
        """One short transaction: the attempt (which ends the lease once the job no longer
        awaits dispatch)."""
        result: dict[str, Any] = self.db.call_as_service(
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
        """Dispatch again every queued job the provider has not accepted yet and no valid lease
        holds (the safety net for a dispatch that failed or a dispatcher that stopped)."""
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
