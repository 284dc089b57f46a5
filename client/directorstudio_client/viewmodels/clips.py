"""Clip jobs: submit (queued locally at once), follow status and progress, cancel, credits."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.sync import MutationResult
from directorstudio.contracts.tables import CLIP_JOBS
from directorstudio_client.clock import Clock
from directorstudio_client.sync.service import SyncService
from directorstudio_client.sync.writes import SyncHandle
from directorstudio_client.viewmodels.items import ClipJobItem, Credits, LoadStatus, SyncIndex
from directorstudio_client.viewmodels.observable import ErrorInfo, Observable, TelemetrySink

log = logging.getLogger(__name__)

MAX_PROMPT = 2000  # clip_jobs.prompt's limit
CREDITS_META = "credits:"  # the last credits read per account, kept for offline display


@dataclass(frozen=True)
class ClipJobState:
    """The clip jobs (newest first), the credits account, how loading goes."""

    jobs: tuple[ClipJobItem, ...] = ()
    credits: Credits | None = None
    status: LoadStatus = LoadStatus.IDLE
    error: ErrorInfo | None = None
    last_loaded_at: float | None = None

    def job(self, job_id: str) -> ClipJobItem | None:
        """One job."""
        return next((j for j in self.jobs if j.id == job_id), None)


class ClipJobViewModel(Observable[ClipJobState]):
    """Clip renders of the user (or of one project): each submission is a local job at once,
    queued for the server, which charges it; its status and progress arrive through realtime
    hints, or the sync loop's 10 s polling when realtime is down."""

    def __init__(
        self, sync: SyncService, *, user_key: str | None = None, project_id: str | None = None,
        clock: Clock | None = None, telemetry: TelemetrySink | None = None,
    ) -> None:  # fmt: skip
        super().__init__(ClipJobState())
        self._sync = sync
        self._clock = clock or sync.clock
        self._telemetry = telemetry or sync.telemetry
        self.user_key = user_key or sync.user_id
        self.project_id = project_id
        self._statuses: dict[str, str] = {}
        self._watch(sync.storage, (CLIP_JOBS.name, "outbox"), self.refresh)
        self._update(credits=self._cached_credits())
        self.refresh()

    # --- reading ------------------------------------------------------------------------------
    def refresh(self) -> ClipJobState:
        """Re-read the cache (called on every change of clip jobs or the outbox)."""
        state = self._publish_read(self._sync.storage, lambda: {"jobs": self._jobs()})
        if self._refunded(state.jobs):
            self.refresh_credits()
        return state

    def _jobs(self) -> tuple[ClipJobItem, ...]:
        storage = self._sync.storage
        rows = storage.get_clip_jobs(self._sync.user_id)
        if self.project_id is not None:
            rows = [r for r in rows if str(r.get("project_id")) == self.project_id]
        index = SyncIndex(storage, CLIP_JOBS.name, [str(r["id"]) for r in rows])
        return tuple(ClipJobItem.of(r, index.of(str(r["id"]))) for r in rows)

    def _refunded(self, jobs: tuple[ClipJobItem, ...]) -> bool:
        """Whether a job known to this view has just failed on the server (which refunds it:
        only the server moves a job to ``failed``, so this runs on the sync loop's thread)."""
        before, self._statuses = self._statuses, {j.id: j.status for j in jobs}
        return any(j.status == "failed" and before.get(j.id) not in (None, "failed") for j in jobs)

    def load_jobs(self) -> ClipJobState:
        """Show the cached jobs at once, then sync and read the credits. Blocks on the network."""
        self._update(status=LoadStatus.LOADING)
        self.refresh()
        report = self._sync.sync_now()
        error = ErrorInfo.from_json(report.pull_error)
        if error is None:
            self.refresh_credits()
            error = self.state.error
        status = LoadStatus.READY
        if error is not None:
            status = LoadStatus.OFFLINE if error.offline else LoadStatus.ERROR
        self.refresh()
        return self._update(
            status=status,
            error=error,
            last_loaded_at=self._clock.now() if error is None else self.state.last_loaded_at,
        )

    def refresh_credits(self) -> Credits | None:
        """Read the account's credits from the server (``get_credits``); offline, the last
        value read stays shown and ``error`` says why. Blocks on the network."""
        try:
            rows = self._sync.transport.rpc("get_credits", {"p_user_key": self.user_key})
        except DirectorStudioError as failure:
            self._update(error=ErrorInfo.of(failure))
            return self.state.credits
        row = next((r for r in rows or [] if str(r.get("user_key")) == self.user_key), None)
        credits = None if row is None else Credits.of(row, self._clock.now())
        if credits is not None:
            self._sync.storage.set_meta(
                CREDITS_META + self.user_key,
                f"{credits.credits} {int(credits.free_clip_available)} {credits.checked_at!r}",
            )
        self._update(credits=credits, error=None)
        return credits

    def _cached_credits(self) -> Credits | None:
        stored = self._sync.storage.get_meta(CREDITS_META + self.user_key)
        if not stored:
            return None
        credits, free, checked_at = stored.split()
        return Credits(self.user_key, int(credits), free == "1", float(checked_at))

    # --- writing ------------------------------------------------------------------------------
    def submit_clip(
        self, prompt: str, user_key: str | None = None, *, project_id: str | None = None,
        scene_draft_id: str | None = None,
    ) -> str:  # fmt: skip
        """Submit a render now and return the job's id: the job is listed at once as
        ``queued`` (``clip_job_submitted``) and sent through the outbox; the server charges it
        (the first clip is free) or refuses it for ``insufficient_credits``, shown on the job.
        The credits are read again once the server answered."""
        text = prompt.strip()
        if not 1 <= len(text) <= MAX_PROMPT:
            error = DirectorStudioError(
                f"a clip prompt has 1 to {MAX_PROMPT} characters", code=ErrorCode.INVALID_INPUT
            )
            self._update(error=ErrorInfo.of(error))
            raise error
        handle = self._sync.submit_clip_job(
            text,
            user_key=user_key or self.user_key,
            project_id=project_id or self.project_id,
            scene_draft_id=scene_draft_id,
        )
        self._after_answer(handle)
        return handle.row_id

    def cancel_job(self, job_id: str) -> SyncHandle:
        """Cancel a queued or processing job (shown canceled at once; the server refunds its
        charge exactly once); ``invalid_transition`` when the job is already final."""
        job = self.state.job(job_id)
        if job is None:
            error = DirectorStudioError(f"no clip job {job_id}", code=ErrorCode.NOT_FOUND)
            self._update(error=ErrorInfo.of(error))
            raise error
        if not job.cancelable:
            error = DirectorStudioError(
                f"the clip job is {job.label}", code=ErrorCode.INVALID_TRANSITION
            )
            self._update(error=ErrorInfo.of(error))
            raise error
        handle = self._sync.cancel_clip_job(job_id)
        self._after_answer(handle)
        return handle

    def _after_answer(self, handle: SyncHandle) -> None:
        """Once the server answered (on the sync loop's thread), read the credits again."""

        def reread(_future: Future[MutationResult]) -> None:
            try:
                self.refresh_credits()
            except Exception:  # a callback must not break the sync loop
                log.exception("reading the credits failed")

        handle.future.add_done_callback(reread)
