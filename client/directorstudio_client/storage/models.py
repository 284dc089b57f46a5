"""Records kept by the local store: cached rows, outbox entries, conflicts, telemetry."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EntryState(StrEnum):
    """Where an outbox entry is in its life."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    RETRY_WAIT = "retry_wait"
    DEAD = "dead"
    DONE = "done"


OPEN_STATES = frozenset({EntryState.PENDING, EntryState.IN_FLIGHT, EntryState.RETRY_WAIT})


@dataclass
class CachedRow:
    """A synced row as the client sees it.

    ``row`` is the local view (the server row with pending local writes applied),
    ``server_row`` the last row confirmed by the server (``None`` until it has one) and
    ``version`` that row's server version (0 while the row exists only locally).
    """

    table: str
    id: str
    row: dict[str, Any]
    server_row: dict[str, Any] | None = None
    version: int = 0
    deleted: bool = False

    def copy(self) -> CachedRow:
        return copy.deepcopy(self)


@dataclass
class OutboxEntry:
    """One durable write waiting to reach the server."""

    entry_id: str
    table: str
    op: str
    row_id: str
    args: dict[str, Any] = field(default_factory=dict)
    base_version: int | None = None
    mutation_id: int = 0
    state: EntryState = EntryState.PENDING
    attempts: int = 0
    next_attempt_at: float | None = None
    last_error: dict[str, Any] | None = None
    created_at: float = 0.0
    window_started_at: float | None = None
    window_attempts: int = 0
    requeues: int = 0
    outcome: str | None = None

    def copy(self) -> OutboxEntry:
        return copy.deepcopy(self)


@dataclass
class ConflictRecord:
    """A field-level conflict waiting for the user's choice."""

    conflict_id: str
    table: str
    id: str
    local: dict[str, Any]
    remote: dict[str, Any]
    diff_fields: list[str]
    resolution_choices: list[str]
    remote_version: int
    created_at: float = 0.0

    def to_event(self) -> dict[str, Any]:
        """The wire shape ``{table, id, local, remote, diffFields, resolutionChoices}``."""
        return {
            "table": self.table,
            "id": self.id,
            "local": self.local,
            "remote": self.remote,
            "diffFields": list(self.diff_fields),
            "resolutionChoices": list(self.resolution_choices),
        }

    def copy(self) -> ConflictRecord:
        return copy.deepcopy(self)


@dataclass
class TelemetryRecord:
    """One buffered telemetry increment."""

    event_id: str
    element: str
    attempts: int
    successes: int
    day: str
    created_at: float = 0.0
    batch_id: str | None = None

    def copy(self) -> TelemetryRecord:
        return copy.deepcopy(self)
