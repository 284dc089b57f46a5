"""The local store's interface (``LocalStorageService`` of the handoff, in Python naming)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import Any, Protocol

from directorstudio_client.storage.models import (
    CachedRow,
    ConflictRecord,
    OutboxEntry,
    OutboxSummary,
    ProjectListRow,
    SceneListRow,
    TelemetryRecord,
)

Listener = Callable[[str], None]
SYNC_KEY = "sync"  # the key under which the sync service announces each of its rounds


class Unsubscribe(Protocol):
    """Handle returned by :meth:`Storage.subscribe`; call it to stop notifications."""

    def __call__(self) -> None: ...


class Storage(Protocol):
    """Local cache of the synced tables plus outbox, cursor, conflict inbox and telemetry buffer.

    Local writes notify subscribers of the keys ``<table>``, ``<table>:<id>``, ``outbox``,
    ``conflicts`` and ``telemetry``; the sync service announces its status under ``sync``.
    """

    # --- rows ------------------------------------------------------------------------------
    def get_project_overviews(
        self, user_id: str, *, include_archived: bool = False
    ) -> list[dict[str, Any]]:
        """The user's live projects, most recently updated first."""
        ...

    def get_scene_drafts(self, project_id: str) -> list[dict[str, Any]]:
        """A project's live scene drafts in order."""
        ...

    def list_projects(
        self, user_id: str, *, include_archived: bool = False
    ) -> list[ProjectListRow]:
        """The library's rows: :meth:`get_project_overviews` as typed rows of the columns the
        list shows (the same projects in the same order)."""
        ...

    def list_scenes(self, project_id: str) -> list[SceneListRow]:
        """The scene editor's rows: :meth:`get_scene_drafts` as typed rows."""
        ...

    def get_clip_jobs(self, user_id: str) -> list[dict[str, Any]]:
        """The user's clip jobs, newest first."""
        ...

    def upsert_project_overview(self, row: dict[str, Any]) -> dict[str, Any]:
        """Write a project locally (the local view; the server row is untouched)."""
        ...

    def upsert_scene_draft(self, row: dict[str, Any]) -> dict[str, Any]:
        """Write a scene draft locally."""
        ...

    def mark_scene_draft_archived(self, scene_id: str) -> None:
        """Archive a scene draft locally."""
        ...

    def upsert_clip_job(self, row: dict[str, Any]) -> dict[str, Any]:
        """Write a clip job locally."""
        ...

    def get_row(self, table: str, row_id: str) -> CachedRow | None:
        """A cached row with its server state, or ``None``."""
        ...

    def put_row(self, cached: CachedRow) -> None:
        """Store a cached row (local view, server row, version, tombstone)."""
        ...

    def get_rows(self, table: str, row_ids: list[str]) -> dict[str, CachedRow]:
        """The cached rows among ``row_ids``, by id."""
        ...

    def put_rows(self, rows: list[CachedRow]) -> None:
        """Store many cached rows at once (one transaction)."""
        ...

    def server_versions(self, table: str, row_ids: list[str]) -> dict[str, int]:
        """The server version of each cached row among ``row_ids`` that has a server row."""
        ...

    def remap_id(self, table: str, old_id: str, new_id: str) -> None:
        """Replace a local id by the one the server assigned, in rows and open outbox entries."""
        ...

    # --- outbox ----------------------------------------------------------------------------
    def enqueue_sync(self, entry: OutboxEntry) -> OutboxEntry:
        """Append an entry, assigning its mutation id (strictly increasing, never reused)."""
        ...

    def next_mutation_id(self) -> int:
        """Reserve a fresh mutation id."""
        ...

    def get_pending_sync_entries(self) -> list[OutboxEntry]:
        """Every entry not yet done (including dead ones), in mutation id order."""
        ...

    def get_sync_entry(self, entry_id: str) -> OutboxEntry | None:
        """One entry by id."""
        ...

    def get_open_entries_for_row(self, table: str, row_id: str) -> list[OutboxEntry]:
        """The open entries that change a row's local view, in mutation order (indexed)."""
        ...

    def rows_with_open_entries(self, table: str, row_ids: list[str]) -> set[str]:
        """Those of ``row_ids`` that have open entries."""
        ...

    def get_open_entries(self, limit: int, exclude: Collection[str] = ()) -> list[OutboxEntry]:
        """Up to ``limit`` open (not dead) entries, in mutation order, leaving out the entries
        whose ids are in ``exclude`` (a batch still awaiting its answer)."""
        ...

    def get_dead_sync_entries(self) -> list[OutboxEntry]:
        """The dead-lettered entries, in mutation order."""
        ...

    def outbox_summary(self) -> OutboxSummary:
        """Counts by state, the oldest open entry's creation time, the last error, next retry."""
        ...

    def oldest_open_created_at(self) -> float | None:
        """The creation time of the oldest open entry (``None`` when none is open), without
        counting the queue."""
        ...

    def has_dead_entries(self) -> bool:
        """Whether any entry is dead-lettered, without counting the queue."""
        ...

    def update_sync_entry(self, entry: OutboxEntry) -> None:
        """Store an entry's new state."""
        ...

    def remove_sync_entry(self, entry_id: str) -> None:
        """Delete an entry."""
        ...

    def mark_in_flight(self, entry_ids: list[str]) -> None:
        """Set the state of these entries to ``in_flight`` (nothing else of them changes)."""
        ...

    def remove_sync_entries(self, entry_ids: list[str]) -> None:
        """Delete these entries."""
        ...

    # --- cursor, conflicts, telemetry, metadata --------------------------------------------
    def get_cursor(self) -> str | None:
        """The pull cursor, ``None`` before the first pull."""
        ...

    def set_cursor(self, cursor: str | None) -> None:
        """Store the pull cursor."""
        ...

    def add_conflict(self, conflict: ConflictRecord) -> None:
        """Put a conflict in the inbox, replacing an open one for the same row."""
        ...

    def get_conflicts(self) -> list[ConflictRecord]:
        """Open conflicts, oldest first."""
        ...

    def get_conflict_for_row(self, table: str, row_id: str) -> ConflictRecord | None:
        """The open conflict of a row, if any."""
        ...

    def remove_conflict(self, conflict_id: str) -> None:
        """Take a resolved conflict out of the inbox."""
        ...

    def add_telemetry(self, record: TelemetryRecord) -> None:
        """Buffer one telemetry increment."""
        ...

    def claim_telemetry_batch(self, batch_id: str, limit: int) -> tuple[str, list[TelemetryRecord]]:
        """The unacknowledged batch if there is one, else up to ``limit`` records under
        ``batch_id``; returns the batch id in use and its records."""
        ...

    def remove_telemetry_batch(self, batch_id: str) -> None:
        """Drop an acknowledged batch."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A stored setting."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        ...

    # --- plumbing ---------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        """Group writes atomically (nestable); notifications go out after the outermost one."""
        ...

    def bulk_writes(self) -> AbstractContextManager[None]:
        """A stretch of many row writes (a long pull): the store may put off maintaining the
        secondary indexes of the tables that are empty when it starts until it ends. Reads in
        between return the same rows (only slower); the indexes are back when it ends, also by
        an error, and when a store is reopened after a crash."""
        ...

    def subscribe(self, key: str, callback: Listener) -> Unsubscribe:
        """Call ``callback(key)`` after each local change of ``key``."""
        ...

    @property
    def generation(self) -> int:
        """How many committed transactions changed something, plus the notifications sent
        outside one (grows before the notifications go out), so a listener of several keys
        can skip the repeats of one commit."""
        ...

    def notify(self, key: str) -> None:
        """Tell the subscribers of ``key`` about a change kept outside the store (the sync
        loop's status: key ``sync``); deferred to the commit inside a transaction."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
