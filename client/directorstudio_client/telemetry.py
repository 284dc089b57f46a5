"""Telemetry: events buffered durably in the local store and flushed in replay-safe batches.

Each event is one increment ``{element, attempts, successes}`` of the user's daily counters
(``batch_upsert_telemetry``). A flush claims a batch under a fresh batch id before sending it,
so a flush whose acknowledgement is lost is resent with the same id and counted once.

Canary metrics (each sync outcome, and the create-to-confirm latency in fixed histogram
buckets) share the same durable buffer as elements ``<metric>:<bucket>`` and go, in the same
batch and under the same batch id, to ``record_sync_metrics``, which stamps them with the
user's release channel.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.contracts.telemetry import (
    CREATE_TO_CONFIRM,
    CREATE_TO_CONFIRM_BOUNDS_MS,
    SYNC_OUTCOME,
    SYNC_OUTCOMES,
    latency_bucket,
)
from directorstudio_client.clock import Clock
from directorstudio_client.storage.models import TelemetryRecord
from directorstudio_client.storage.protocol import Storage
from directorstudio_client.transport.protocol import Transport

EVENTS = frozenset(
    {
        "library_load",
        "create_initiated",
        "create_confirmed",
        "create_failed",
        "clip_job_submitted",
        "clip_job_completed",
        "sync_latency",
        "conflict_detected",
        "sync_push",
        "outbox_health",
        # the app's ViewModels (directorstudio_client.viewmodels)
        "scene_create_initiated",
        "project_open",
        "project_action_rename",
        "project_action_duplicate",
        "project_action_archive",
    }
)
SYNC_METRICS = frozenset(
    {f"{SYNC_OUTCOME}:{outcome}" for outcome in SYNC_OUTCOMES}
    | {f"{CREATE_TO_CONFIRM}:{b}" for b in (*map(str, CREATE_TO_CONFIRM_BOUNDS_MS), "inf")}
)
FAILURE_EVENTS = frozenset({"create_failed"})
SYNC_LATENCY_TARGET = 3.0  # seconds: the rollout's create-to-confirm median target
MAX_BATCH = 500


class TelemetryEmitter:
    """Buffers telemetry increments and flushes them to the server."""

    def __init__(
        self,
        storage: Storage,
        transport: Transport,
        clock: Clock,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._storage = storage
        self._transport = transport
        self._clock = clock
        self._new_id = new_id
        self.dropped_batches = 0
        self._local = threading.local()

    def _day(self) -> str:
        return dt.datetime.fromtimestamp(self._clock.now(), tz=dt.UTC).date().isoformat()

    def record(self, element: str, attempts: int = 1, successes: int | None = None) -> None:
        """Buffer one increment of ``element``."""
        if element not in EVENTS and element not in SYNC_METRICS:
            raise ValueError(f"unknown telemetry element: {element}")
        if successes is None:
            successes = 0 if element in FAILURE_EVENTS else attempts
        successes = min(successes, attempts)
        pending: dict[tuple[str, str], list[int]] | None = getattr(self._local, "pending", None)
        if pending is not None:
            counts = pending.setdefault((element, self._day()), [0, 0])
            counts[0] += attempts
            counts[1] += successes
            return
        self._add(element, attempts, successes, self._day())

    def _add(self, element: str, attempts: int, successes: int, day: str) -> None:
        self._storage.add_telemetry(
            TelemetryRecord(
                event_id=self._new_id(),
                element=element,
                attempts=attempts,
                successes=successes,
                day=day,
                created_at=self._clock.now(),
            )
        )

    @contextmanager
    def coalesced(self) -> Iterator[None]:
        """Within the block, this thread's increments of one element and day are summed and
        buffered as one record when the block ends (the server adds increments up, so the
        counts are the same): settling a batch of 100 entries writes a few records, not 300."""
        if getattr(self._local, "pending", None) is not None:
            yield
            return
        self._local.pending = {}
        try:
            yield
        finally:
            pending, self._local.pending = self._local.pending, None
            for (element, day), (attempts, successes) in pending.items():
                self._add(element, attempts, successes, day)

    def emit(self, event: str, *, success: bool = True) -> None:
        """Buffer one event (an attempt, counted as a success unless ``success`` is false)."""
        self.record(event, 1, 1 if success and event not in FAILURE_EVENTS else 0)

    def sync_latency(self, seconds: float) -> None:
        """Record one sync round trip; it counts as a success when within the target."""
        self.record("sync_latency", 1, 1 if seconds <= SYNC_LATENCY_TARGET else 0)

    def sync_outcome(self, outcome: str, count: int = 1) -> None:
        """Count ``count`` outbox entries whose sync ended ``outcome``: confirmed, retried, dead."""
        if count > 0:
            self.record(f"{SYNC_OUTCOME}:{outcome}", count, count)

    def create_to_confirm(self, seconds: float) -> None:
        """Record one create-to-confirm latency in its histogram bucket."""
        self.record(f"{CREATE_TO_CONFIRM}:{latency_bucket(max(seconds, 0.0))}", 1, 1)

    def flush(self) -> int:
        """Send buffered increments batch by batch; returns how many records were delivered.

        A transient failure leaves the batch claimed for a replay under the same id; a
        permanently rejected batch is dropped and counted in ``dropped_batches``.
        """
        delivered = 0
        while True:
            batch_id, records = self._storage.claim_telemetry_batch(self._new_id(), MAX_BATCH)
            if not records:
                return delivered
            for function, events in _batch_calls(records):
                try:
                    self._transport.rpc(function, {"p_batch_id": batch_id, "p_events": events})
                except DirectorStudioError as error:
                    if not error.permanent:
                        raise
                    self.dropped_batches += 1
            self._storage.remove_telemetry_batch(batch_id)
            delivered += len(records)


def _batch_calls(records: list[TelemetryRecord]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The calls that deliver a batch: element counts, then sync metrics (each when present)."""
    totals: dict[tuple[str, str], list[int]] = {}
    for record in records:
        counts = totals.setdefault((record.element, record.day), [0, 0])
        counts[0] += record.attempts
        counts[1] += record.successes
    events: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    for (element, day), (attempts, successes) in sorted(totals.items()):
        if element in SYNC_METRICS:
            metric, _, bucket = element.partition(":")
            metrics.append({"metric": metric, "bucket": bucket, "count": attempts, "day": day})
        else:
            events.append(
                {"element": element, "attempts": attempts, "successes": successes, "day": day}
            )
    calls = [("batch_upsert_telemetry", events), ("record_sync_metrics", metrics)]
    return [(function, batch) for function, batch in calls if batch]
