"""The sync wire contract: what ``sync_pull`` and ``sync_push`` accept and return.

Shared by the client library and the server side; imports only the table registry
(:mod:`directorstudio.contracts.tables`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from directorstudio.contracts.tables import SYNCED, TABLES

SyncedTable = Literal[
    "project_overview", "scene_drafts", "screenplays", "screenplay_sections", "clip_jobs"
]
SYNCED_TABLES: tuple[str, ...] = tuple(spec.name for spec in SYNCED)
MutationTable = Literal[
    "project_overview",
    "scene_drafts",
    "screenplays",
    "screenplay_sections",
    "clip_jobs",
    "continuity_logs",
]
Outcome = Literal["applied", "duplicate", "conflict", "rejected"]
Resolution = Literal["keep_local", "keep_remote", "merge"]
RESOLUTION_CHOICES: tuple[str, ...] = ("keep_local", "keep_remote", "merge")

MAX_PUSH_BATCH = 100
# A push body stays under the gateway's request size limit (1 MiB, directorstudio/server/limits.py)
# with room for the envelope.
MAX_PUSH_BYTES = 1024 * 1024 - 16 * 1024
MAX_PULL_LIMIT = 1000

# Operations per table, as sync_push knows them.
OPERATIONS: dict[str, frozenset[str]] = {name: spec.ops for name, spec in TABLES.items()}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class Change(_Wire):
    """One changed row (or tombstone) in a pull page."""

    table: SyncedTable
    id: str
    version: int
    deleted: bool = False
    row: dict[str, Any] = Field(default_factory=dict)


class PullPage(_Wire):
    """One page of ``sync_pull``: call again with ``cursor`` while ``has_more``."""

    changes: list[Change] = Field(default_factory=list)
    cursor: str | None = None
    has_more: bool = False


_CHANGES: TypeAdapter[list[Change]] = TypeAdapter(list[Change])


class PullEnvelope(_Wire):
    """A ``sync_pull`` page with its cursor and ``has_more`` checked and its changes not yet
    (:meth:`checked_changes` checks them all in one call). The next page's request waits only
    for the cursor, so a client reads it without the per-row work and checks the rows where
    it applies them."""

    changes: list[Any] = Field(default_factory=list)
    cursor: str | None = None
    has_more: bool = False

    def checked_changes(self) -> list[Change]:
        """The changes as :class:`Change` records (pydantic ``ValidationError`` if one is not)."""
        return _CHANGES.validate_python(self.changes)


class Mutation(_Wire):
    """One write in a ``sync_push`` batch; ``mutation_id`` strictly increases per client."""

    mutation_id: int
    table: MutationTable
    op: str
    id: str
    base_version: int | None = None
    base_mutation_id: int | None = None
    """The client's previous mutation of the same row: when the server applied it, the version
    it produced is this mutation's base (consecutive edits never conflict with each other)."""
    args: dict[str, Any] = Field(default_factory=dict)


class MutationError(_Wire):
    """Why a mutation was rejected: a documented error code and a message."""

    code: str
    message: str = ""
    detail: Any = None


class MutationResult(_Wire):
    """The server's verdict on one mutation."""

    mutation_id: int
    outcome: Outcome
    row: dict[str, Any] | None = None
    rows: list[dict[str, Any]] | None = None
    current: dict[str, Any] | None = None
    fields: list[str] | None = None
    error: MutationError | None = None


class PushResponse(_Wire):
    """What ``sync_push`` returns: one result per mutation, in order."""

    results: list[MutationResult] = Field(default_factory=list)


class ChangeHint(_Wire):
    """Payload of the realtime broadcast ``change`` on topic ``user:<id>``: names a row only."""

    table: str
    id: str
    version: int | None = None
    op: str | None = None


class TelemetryIncrement(_Wire):
    """One element of a ``batch_upsert_telemetry`` call."""

    element: str
    attempts: int
    successes: int
    day: str | None = None
