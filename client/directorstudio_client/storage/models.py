"""Records kept by the local store: cached rows, outbox entries, conflicts, telemetry."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


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
    base_mutation_id: int | None = None
    """The previous open entry of the same row when this one was queued: the server takes the
    version that entry produced as this one's base, so consecutive edits never conflict."""

    def copy(self) -> OutboxEntry:
        return copy.deepcopy(self)

    def touched_row_ids(self) -> list[str]:
        """The rows of ``table`` whose local view this entry changes (a reorder: every scene)."""
        ids = [self.row_id]
        if self.op == "reorder":
            ids.extend(str(i) for i in self.args.get("ordered_ids", []) if str(i) != self.row_id)
        return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class OutboxSummary:
    """The outbox in aggregate: counts by state, oldest open entry, last error, next retry."""

    counts: dict[str, int]
    oldest_open_created_at: float | None
    last_error: dict[str, Any] | None
    next_retry_at: float | None


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


class ProjectListRow(NamedTuple):
    """A project as the library lists it: a typed projection of its local view (the columns
    the list shows), built straight from the store's record. Fields never set are ``None``."""

    project_id: str
    title: str | None
    archived: bool
    scene_count: int | None
    total_duration: float | None
    last_updated: str | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> ProjectListRow:
        """The list row of a local view (a row dictionary)."""
        return cls(
            str(row["project_id"]), row.get("title"), bool(row.get("archived")),
            row.get("scene_count"), row.get("total_duration"), row.get("last_updated"),
        )  # fmt: skip


class SceneListRow(NamedTuple):
    """A scene draft as the editor lists it: a typed projection of its local view."""

    id: str
    project_id: str | None
    order_index: int | None
    prompt_text: str | None
    duration: float | None
    scene_type: str | None
    shot_type: str | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> SceneListRow:
        """The list row of a local view (a row dictionary)."""
        return cls(
            str(row["id"]), row.get("project_id"), row.get("order_index"), row.get("prompt_text"),
            row.get("duration"), row.get("scene_type"), row.get("shot_type"),
        )  # fmt: skip
