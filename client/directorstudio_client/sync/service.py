"""SyncService: the loop that drains the outbox, pulls deltas and listens for change hints."""

from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.sync import (
    MAX_PULL_LIMIT,
    MAX_PUSH_BATCH,
    MutationResult,
    PullEnvelope,
)
from directorstudio_client.clock import Clock, SystemClock
from directorstudio_client.storage.models import OutboxEntry
from directorstudio_client.storage.protocol import SYNC_KEY, Storage
from directorstudio_client.sync.backoff import BackoffPolicy
from directorstudio_client.sync.collector import collector_paused
from directorstudio_client.sync.drain import drain_outbox
from directorstudio_client.sync.outbox import CREATE_OPS, OutboxDrainer, PushReport
from directorstudio_client.sync.pipeline import Pipeline
from directorstudio_client.sync.reconcile import Reconciler
from directorstudio_client.sync.writes import LocalWrites
from directorstudio_client.telemetry import TelemetryEmitter
from directorstudio_client.transport.protocol import HintSubscription, Transport

log = logging.getLogger(__name__)

SAFETY_PULL_INTERVAL = 300.0  # with realtime up, still pull this often in case a hint was lost


@dataclass(frozen=True)
class QueueHealth:
    """How the outbox is doing, for the UI and for telemetry."""

    counts: dict[str, int]
    oldest_pending_age: float | None
    last_error: dict[str, Any] | None
    last_success_at: float | None
    last_latency: float | None
    last_pull_at: float | None
    realtime_active: bool
    open_conflicts: int
    dead_entries: list[OutboxEntry] = field(default_factory=list)


@dataclass
class RoundReport:
    """What one :meth:`SyncService.run_once` did."""

    pushes: list[PushReport] = field(default_factory=list)
    pulled: int | None = None
    pull_error: dict[str, Any] | None = None
    telemetry_sent: int = 0


class SyncService(LocalWrites):
    """Local-first sync: optimistic local writes, a durable outbox, delta pull, conflicts.

    Drive it with :meth:`start`/:meth:`stop` (a background thread), or step by step with
    :meth:`run_once` and an injected clock. Write helpers (inherited from
    :class:`~directorstudio_client.sync.writes.LocalWrites`) return a :class:`SyncHandle`.
    """

    def __init__(
        self,
        storage: Storage,
        transport: Transport,
        *,
        user_id: str,
        client_id: str,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        retry_window: float = 60.0,
        batch_size: int = MAX_PUSH_BATCH,
        poll_interval: float = 10.0,
        telemetry_interval: float = 30.0,
        backoff: BackoffPolicy | None = None,
    ) -> None:
        self.storage = storage
        self.transport = transport
        self.user_id = user_id
        self.client_id = client_id
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        policy = backoff or BackoffPolicy()
        self.policy = BackoffPolicy(policy.initial, policy.maximum, retry_window)
        self.poll_interval = poll_interval
        self.telemetry_interval = telemetry_interval
        self.telemetry = TelemetryEmitter(storage, transport, self.clock)
        self._futures: dict[str, Future[MutationResult]] = {}
        self._futures_lock = threading.Lock()
        self.reconciler = Reconciler(
            storage,
            self.clock,
            user_id,
            on_conflict=lambda _c: self.telemetry.emit("conflict_detected"),
            on_superseded=self._settled,
            on_clip_completed=lambda _row: self.telemetry.emit("clip_job_completed"),
        )
        self.drainer = OutboxDrainer(
            storage,
            transport,
            self.clock,
            self.rng,
            client_id,
            self.policy,
            batch_size,
            self.reconciler,
            self._settled,
            self.telemetry.coalesced,
        )
        self._subscription: HintSubscription | None = None
        self._next_realtime_try = 0.0
        self._hinted = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._round_lock = threading.Lock()
        self._last_pull_at: float | None = None
        self._last_pull_try: float | None = None
        self._last_flush_at: float | None = None
        self._last_error: dict[str, Any] | None = None
        self.realtime_enabled = True
        self.pull_page_size = MAX_PULL_LIMIT
        """Rows asked for per ``sync_pull`` page (at most the server's limit)."""
        self.online: bool | None = None
        """Whether the last call of a round reached the server (``None`` before any call)."""

    # --- handles ----------------------------------------------------------------------------
    def _future(self, entry_id: str) -> Future[MutationResult]:
        with self._futures_lock:
            future = self._futures.get(entry_id)
            if future is None:
                future = Future()
                self._futures[entry_id] = future
            return future

    def _settled(self, entry: OutboxEntry, result: Any, error: BaseException | None) -> None:
        self._record_sync_outcome(entry, error)
        if (entry.table, entry.op) in CREATE_OPS:
            self.telemetry.emit("create_confirmed" if error is None else "create_failed")
        with self._futures_lock:
            future = self._futures.pop(entry.entry_id, None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        elif isinstance(result, MutationResult):
            future.set_result(result)
        else:
            future.set_result(
                MutationResult.model_validate({"mutation_id": entry.mutation_id, **dict(result)})
            )

    def _record_sync_outcome(self, entry: OutboxEntry, error: BaseException | None) -> None:
        """Canary metrics, taken where a handle resolves: how the entry's sync ended and, for a
        create, the time from the optimistic local write to the server's confirmation."""
        self.telemetry.sync_outcome("confirmed" if error is None else "dead")
        if error is None and (entry.table, entry.op) in CREATE_OPS:
            self.telemetry.create_to_confirm(self.clock.now() - entry.created_at)

    def _woken(self) -> None:
        self._wake.set()

    # --- the loop ------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the change-hint subscription and run the sync loop in a background thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="directorstudio-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and the hint subscription (the outbox stays on disk)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("sync round failed")
            self.clock.wait(self._wake, self._sleep_for())
            self._wake.clear()

    def _sleep_for(self) -> float:
        now = self.clock.now()
        due = [now + self.poll_interval]
        retry = self.storage.outbox_summary().next_retry_at
        if retry is not None:
            due.append(retry)
        return max(0.0, min(due) - now)

    def run_once(self, *, force_pull: bool = False) -> RoundReport:
        """One round: push what is due, pull if hinted or due, flush telemetry if due; then
        subscribers of the store key ``sync`` hear that the status (:meth:`health`,
        :attr:`online`) may have changed."""
        try:
            report = self._round(force_pull)
            self._note_reach(report)
        finally:
            self.storage.notify(SYNC_KEY)
        return report

    def _note_reach(self, report: RoundReport) -> None:
        reached: list[bool] = [
            (push.error or {}).get("code") != ErrorCode.UNAVAILABLE
            for push in report.pushes
            if push.sent
        ]
        if report.pulled is not None or report.pull_error is not None:
            reached.append((report.pull_error or {}).get("code") != ErrorCode.UNAVAILABLE)
        if reached:
            self.online = reached[-1]

    def _round(self, force_pull: bool) -> RoundReport:
        with self._round_lock:
            report = RoundReport()
            self._ensure_realtime()
            self._drain(report)
            if force_pull or self._pull_due():
                self._hinted.clear()
                self._last_pull_try = self.clock.now()
                try:
                    report.pulled = self.pull()
                except DirectorStudioError as error:
                    report.pull_error = {"code": str(error.code), "message": error.message}
                    self._last_error = report.pull_error
            if force_pull or self._flush_due():
                report.telemetry_sent = self.flush_telemetry()
            return report

    def _drain(self, report: RoundReport) -> None:
        """Push every due batch, pipelined (:mod:`directorstudio_client.sync.drain`)."""
        drain_outbox(self.drainer, report.pushes, self._after_push)

    def sync_now(self) -> RoundReport:
        """Push everything due, pull, and flush telemetry now."""
        return self.run_once(force_pull=True)

    def _after_push(self, push: PushReport) -> None:
        if push.failed:
            self._last_error = push.error
            # A device that cannot reach the backend says nothing about the release.
            if (push.error or {}).get("code") != ErrorCode.UNAVAILABLE:
                self.telemetry.sync_outcome("retried", push.sent)
            return
        with self.storage.transaction():
            if push.latency is not None:
                self.telemetry.sync_latency(push.latency)
            self.telemetry.record("sync_push", push.sent, push.applied + push.conflicts)
            # Two index lookups, not a count of the queue (this runs once per batch).
            oldest = self.storage.oldest_open_created_at()
            healthy = not self.storage.has_dead_entries() and (
                oldest is None or self.clock.now() - oldest <= self.policy.retry_window
            )
            self.telemetry.emit("outbox_health", success=healthy)

    def _pull_due(self) -> bool:
        if self._last_pull_try is None or self._hinted.is_set():
            return True
        since = self.clock.now() - self._last_pull_try
        realtime = self._subscription is not None and self._subscription.active
        return since >= (SAFETY_PULL_INTERVAL if realtime else self.poll_interval)

    def _flush_due(self) -> bool:
        now = self.clock.now()
        if self._last_flush_at is None:
            self._last_flush_at = now
        return now - self._last_flush_at >= self.telemetry_interval

    def _ensure_realtime(self) -> None:
        if not self.realtime_enabled:
            return
        if self._subscription is not None and self._subscription.active:
            return
        now = self.clock.now()
        if now < self._next_realtime_try:
            return
        self._next_realtime_try = now + self.poll_interval
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        try:
            self._subscription = self.transport.subscribe_hints(self.user_id, self._on_hint)
            self._hinted.set()  # anything may have changed while we were not listening
        except DirectorStudioError as error:
            self._last_error = {"code": str(error.code), "message": error.message}

    def wait_for_hint(self, timeout: float) -> bool:
        """Block until a change hint has arrived (or ``timeout`` real seconds pass); for callers
        that drive :meth:`run_once` themselves. The next round pulls when it returns true."""
        return self._hinted.wait(timeout)

    def _on_hint(self, _topic: str) -> None:
        self._hinted.set()
        self._wake.set()

    # --- pull ----------------------------------------------------------------------------------
    def pull(self) -> int:
        """Fetch and apply every change since the stored cursor; returns how many.

        Each page is applied in one transaction; while it is applied, the next page is
        already being fetched (its cursor comes with the current page). The fetch, which the
        next request waits for, checks only the page's envelope; its rows are checked here.
        When the first page says more follow, the pages are written as one stretch of bulk
        writes (:meth:`Storage.bulk_writes`: a fresh cache builds its indexes at the end)."""
        applied = 0
        with Pipeline("directorstudio-pull") as pool, ExitStack() as stretch:
            page = self._fetch_page(self.storage.get_cursor())
            if page.has_more:
                stretch.enter_context(self.storage.bulk_writes())
            while True:
                upcoming = (
                    pool.run_behind(partial(self._fetch_page, page.cursor))
                    if page.has_more
                    else None
                )
                try:
                    with collector_paused(), self.storage.transaction():
                        self.reconciler.apply_changes(page.checked_changes())
                        self.storage.set_cursor(page.cursor)
                except BaseException:
                    # Only then: a page applied before the thread took up the fetch still
                    # needs the next page.
                    if upcoming is not None:
                        upcoming.cancel()
                    raise
                applied += len(page.changes)
                if upcoming is None:
                    break
                page = upcoming.result()
        self._last_pull_at = self.clock.now()
        return applied

    def _fetch_page(self, cursor: str | None) -> PullEnvelope:
        return PullEnvelope.model_validate(
            self.transport.rpc("sync_pull", {"p_cursor": cursor, "p_limit": self.pull_page_size})
        )

    # --- telemetry -----------------------------------------------------------------------------
    def flush_telemetry(self) -> int:
        """Send buffered telemetry; transient failures keep it for the next flush."""
        self._last_flush_at = self.clock.now()
        try:
            return self.telemetry.flush()
        except DirectorStudioError as error:
            self._last_error = {"code": str(error.code), "message": error.message}
            return 0

    # --- health --------------------------------------------------------------------------------
    def health(self) -> QueueHealth:
        """Counts by state, oldest pending age, last error, last success and latency."""
        summary = self.storage.outbox_summary()
        now = self.clock.now()
        oldest = summary.oldest_open_created_at
        success = self.storage.get_meta("last_success_at")
        latency = self.storage.get_meta("last_latency")
        return QueueHealth(
            counts=summary.counts,
            oldest_pending_age=None if oldest is None else now - oldest,
            last_error=self._last_error or summary.last_error,
            last_success_at=float(success) if success else None,
            last_latency=float(latency) if latency else None,
            last_pull_at=self._last_pull_at,
            realtime_active=self._subscription is not None and self._subscription.active,
            open_conflicts=len(self.storage.get_conflicts()),
            dead_entries=self.storage.get_dead_sync_entries() if summary.counts["dead"] else [],
        )

    # --- dead letters --------------------------------------------------------------------------
    def retry_dead(self, entry_id: str) -> None:
        """Put a dead-lettered entry back in the queue (the user chose to retry it)."""
        self.drainer.retry_dead(entry_id)
        self._wake.set()

    def discard_dead(self, entry_id: str) -> None:
        """Drop a dead-lettered entry and undo its local effect (the user chose to discard)."""
        self.drainer.discard_dead(entry_id)
