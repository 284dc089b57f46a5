"""Telemetry batch and rollup models shared by the HTTP functions and the client library."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_BATCH_EVENTS = 500
MAX_BATCH_BYTES = 256 * 1024
MAX_SCHEDULER_BODY_BYTES = 4096


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
