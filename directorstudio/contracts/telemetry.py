"""Telemetry batch and rollup models shared by the HTTP functions and the client library."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_BATCH_EVENTS = 500
MAX_BATCH_BYTES = 256 * 1024
MAX_SCHEDULER_BODY_BYTES = 4096

# Canary metrics (public.record_sync_metrics): how each outbox entry's sync ended, and the
# create-to-confirm latency histogram, whose bucket upper bounds in ms must match
# private.create_to_confirm_bounds() (a test checks); the last bucket, "inf", is open.
SYNC_OUTCOME = "sync_outcome"
CREATE_TO_CONFIRM = "create_to_confirm_ms"
SYNC_OUTCOMES = ("confirmed", "retried", "dead")
CREATE_TO_CONFIRM_BOUNDS_MS = (250, 500, 1000, 2000, 3000, 5000, 10000, 30000, 60000)


def latency_bucket(seconds: float) -> str:
    """The histogram bucket of a create-to-confirm latency: the first bound >= it, or inf."""
    millis = seconds * 1000.0
    for bound in CREATE_TO_CONFIRM_BOUNDS_MS:
        if millis <= bound:
            return str(bound)
    return "inf"


class TelemetryEvent(BaseModel):
    """Counts for one UI element (``day`` defaults to the server's current UTC day)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    element: str = Field(min_length=1, max_length=100)
    attempts: int = Field(ge=0, le=1_000_000)
    successes: int = Field(ge=0, le=1_000_000)
    day: dt.date | None = None

    @model_validator(mode="after")
    def _successes_within_attempts(self) -> TelemetryEvent:
        if self.successes > self.attempts:
            raise ValueError("successes cannot exceed attempts")
        return self


class TelemetryBatchRequest(BaseModel):
    """``POST telemetry_batch``: a client-generated batch id makes the call idempotent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_id: uuid.UUID
    events: list[TelemetryEvent] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)

    def events_json(self) -> list[dict[str, Any]]:
        """The events as ``batch_upsert_telemetry`` takes them."""
        return [event.model_dump(mode="json", exclude_none=True) for event in self.events]


class TelemetryBatchResult(BaseModel):
    """``batch_upsert_telemetry``'s answer: ``applied`` is false for a replayed batch."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    batch_id: uuid.UUID
    applied: bool
    elements: int


class RollupRequest(BaseModel):
    """``POST telemetry_rollup``: one UTC day, or every day that is due when omitted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    day: dt.date | None = None
