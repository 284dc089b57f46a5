"""The sync wire contract: what ``sync_pull`` and ``sync_push`` accept and return.

Shared by the client library and the server side; imports only the table registry
(:mod:`directorstudio.contracts.tables`).
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

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

# Mutations per push. Measured on the outbox replay (docs/benchmarks.md): 500 a batch ran
# 1.4x faster than 100, and 1,000 no faster than 500; the byte limit below still applies.
MAX_PUSH_BATCH = 500
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


class PulledChange(NamedTuple):
    """A checked change of a pull page as a plain record (what :class:`Change` holds, without
    a model per row)."""

    table: str
    id: str
    version: int
    deleted: bool
    row: dict[str, Any]


ChangeRecord = Change | PulledChange
"""A change as the client applies it."""


class PullPage(_Wire):
    """One page of ``sync_pull``: call again with ``cursor`` while ``has_more``."""

    changes: list[Change] = Field(default_factory=list)
    cursor: str | None = None
    has_more: bool = False


_CHANGES: TypeAdapter[list[Change]] = TypeAdapter(list[Change])
_CHANGE_KEYS = frozenset(Change.model_fields)
_TABLE_NAMES = frozenset(SYNCED_TABLES)
_TEXT = frozenset({str})
_NO_ROW: dict[str, Any] = {}


def _as_checked(change: Any) -> bool:
    """Whether :class:`Change` would take ``change`` exactly as it is: a dict of its own
    fields only, each of the very type the field holds (``str``, ``int``, ``bool``, a dict
    with text keys), the table one of the synced ones. A JSON page's changes always are;
    anything else (a value pydantic would convert or refuse, an extra key) is not."""
    if type(change) is not dict or not _CHANGE_KEYS.issuperset(change):
        return False
    table = change.get("table")
    row = change.get("row", _NO_ROW)
    return (
        type(table) is str
        and table in _TABLE_NAMES
        and type(change.get("id")) is str
        and type(change.get("version")) is int
        and type(change.get("deleted", False)) is bool
        and type(row) is dict
        and _TEXT.issuperset(map(type, row))
    )


class PullEnvelope(_Wire):
    """A ``sync_pull`` page with its cursor and ``has_more`` checked and its changes not yet
    (:meth:`checked_changes` checks them all in one call). The next page's request waits only
    for the cursor, so a client reads it without the per-row work and checks the rows where
    it applies them."""

    changes: list[Any] = Field(default_factory=list)
    cursor: str | None = None
    has_more: bool = False

    def checked_changes(self) -> list[PulledChange]:
        """The changes, each checked as a :class:`Change` (pydantic ``ValidationError`` if one
        is not one), as plain records.

        A page whose changes all are exactly what :class:`Change` holds (:func:`_as_checked`:
        the JSON of every page the server sends) becomes records without a model per row; any
        other page goes through :class:`Change` validation, which converts what it accepts and
        refuses the rest, so both ways give the same records and refuse the same input."""
        changes = self.changes
        if all(map(_as_checked, changes)):
            return [
                PulledChange(c["table"], c["id"], c["version"], c.get("deleted", False),
                             c.get("row") or {})
                for c in changes
            ]  # fmt: skip
        return [
            PulledChange(c.table, c.id, c.version, c.deleted, c.row)
            for c in _CHANGES.validate_python(changes)
        ]


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
