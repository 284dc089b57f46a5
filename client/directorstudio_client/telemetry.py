"""Telemetry: events buffered durably in the local store and flushed in replay-safe batches.

Each event is one increment ``{element, attempts, successes}`` of the user's daily counters
(``batch_upsert_telemetry``). A flush claims a batch under a fresh batch id before sending it,
so a flush whose acknowledgement is lost is resent with the same id and counted once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError
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
    }
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

    def _day(self) -> str:
        return dt.datetime.fromtimestamp(self._clock.now(), tz=dt.UTC).date().isoformat()

    def record(self, element: str, attempts: int = 1, successes: int | None = None) -> None:
        """Buffer one increment of ``element``."""
        if element not in EVENTS:
            raise ValueError(f"unknown telemetry element: {element}")
        if successes is None:
            successes = 0 if element in FAILURE_EVENTS else attempts
        self._storage.add_telemetry(
            TelemetryRecord(
                event_id=self._new_id(),
                element=element,
                attempts=attempts,
                successes=min(successes, attempts),
                day=self._day(),
                created_at=self._clock.now(),
            )
        )

    def emit(self, event: str, *, success: bool = True) -> None:
        """Buffer one event (an attempt, counted as a success unless ``success`` is false)."""
        self.record(event, 1, 1 if success and event not in FAILURE_EVENTS else 0)

    def sync_latency(self, seconds: float) -> None:
        """Record one sync round trip; it counts as a success when within the target."""
        self.record("sync_latency", 1, 1 if seconds <= SYNC_LATENCY_TARGET else 0)

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
            totals: dict[tuple[str, str], list[int]] = {}
            for record in records:
                counts = totals.setdefault((record.element, record.day), [0, 0])
                counts[0] += record.attempts
                counts[1] += record.successes
            events: list[dict[str, Any]] = [
                {"element": element, "attempts": a, "successes": s, "day": day}
                for (element, day), (a, s) in sorted(totals.items())
            ]
            try:
                self._transport.rpc(
                    "batch_upsert_telemetry", {"p_batch_id": batch_id, "p_events": events}
                )
            except DirectorStudioError as error:
                if not error.permanent:
                    raise
                self.dropped_batches += 1
            self._storage.remove_telemetry_batch(batch_id)
            delivered += len(records)
