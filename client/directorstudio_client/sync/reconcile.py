"""Applying server rows to the cache: last-writer-wins, field-level conflicts, id remapping."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from directorstudio.contracts.sync import RESOLUTION_CHOICES, Change
from directorstudio_client.clock import Clock
from directorstudio_client.storage.models import (
    OPEN_STATES,
    CachedRow,
    ConflictRecord,
    EntryState,
    OutboxEntry,
)
from directorstudio_client.storage.protocol import Storage
from directorstudio_client.sync import ops

# Fields that belong to the server's bookkeeping, never compared for conflicts.
_META_FIELDS = frozenset(
    {"version", "field_versions", "sync_txid", "updated_at", "last_updated", "user_id"}
)

ConflictListener = Callable[[ConflictRecord], None]
EntrySettled = Callable[[OutboxEntry, Any, BaseException | None], None]


class Reconciler:
    """Keeps each cached row equal to its server row with the open outbox entries applied."""

    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        user_id: str,
        *,
        on_conflict: ConflictListener,
        on_superseded: EntrySettled,
        on_clip_completed: Callable[[dict[str, Any]], None],
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._user_id = user_id
        self._on_conflict = on_conflict
        self._on_superseded = on_superseded
        self._on_clip_completed = on_clip_completed

    # --- local view ---------------------------------------------------------------------------
    def rebuild(self, table: str, row_id: str) -> None:
        """Recompute a row's local view from its server row and the open entries."""
        with self._storage.transaction():
            cached = self._storage.get_row(table, row_id)
            if cached is None:
                return
            entries = self._storage.get_pending_sync_entries()
            local = ops.overlay(cached.server_row, entries, table, row_id)
            if local is None:
                # Never reached the server and nothing left to send: the row goes away locally.
                cached.deleted = True
                cached.row = {**cached.row, "deleted_at": ops.LOCAL_DELETION}
            else:
                local.setdefault("user_id", self._user_id)
                if cached.server_row is None:
                    stamp = dt.datetime.fromtimestamp(self._clock.now(), tz=dt.UTC).isoformat()
                    local.setdefault(
                        "last_updated" if table == "project_overview" else "created_at",
                        cached.row.get("last_updated") or cached.row.get("created_at") or stamp,
                    )
                cached.deleted = bool(local.get("deleted_at")) and cached.server_row is None
                if cached.server_row is not None:
                    cached.deleted = bool(cached.server_row.get("deleted_at"))
                cached.row = self._keep_conflicted(table, row_id, local)
            self._storage.put_row(cached)

    def _keep_conflicted(self, table: str, row_id: str, local: dict[str, Any]) -> dict[str, Any]:
        for conflict in self._storage.get_conflicts():
            if (conflict.table, conflict.id) == (table, row_id):
                for name in conflict.diff_fields:
                    if name in conflict.local:
                        local[name] = conflict.local[name]
        return local

    # --- server rows --------------------------------------------------------------------------
    def apply_server_row(
        self, table: str, row: dict[str, Any], *, deleted: bool | None = None
    ) -> None:
        """A row the server confirmed (push result): it becomes the row's server state."""
        row_id = ops.server_id(table, row)
        if row_id is None:
            return
        version = int(row.get("version") or 0)
        is_deleted = bool(row.get("deleted_at")) if deleted is None else deleted
        with self._storage.transaction():
            cached = self._storage.get_row(table, row_id)
            if cached is not None and cached.server_row is not None and cached.version > version:
                return
            if cached is None:
                cached = CachedRow(table=table, id=row_id, row={})
            self._note_clip_completion(table, cached, row)
            cached.server_row = dict(row)
            cached.version = version
            cached.deleted = is_deleted
            self._storage.put_row(cached)
            self.rebuild(table, row_id)

    def _note_clip_completion(self, table: str, cached: CachedRow, row: dict[str, Any]) -> None:
        before = (cached.server_row or {}).get("status")
        if table == "clip_jobs" and row.get("status") == "completed" and before != "completed":
            self._on_clip_completed(row)

    def apply_change(self, change: Change) -> None:
        """One pulled change: last-writer-wins unless an open local write touches the same
        fields with a different value, which becomes a conflict in the inbox."""
        with self._storage.transaction():
            cached = self._storage.get_row(change.table, change.id)
            if (
                cached is not None
                and cached.server_row is not None
                and cached.version >= change.version
            ):
                return
            entries = ops.open_entries_for(
                self._storage.get_pending_sync_entries(), change.table, change.id
            )
            if cached is not None and entries:
                self._detect(cached, change, entries)
            self.apply_server_row(change.table, change.row, deleted=change.deleted)

    def _detect(self, cached: CachedRow, change: Change, entries: list[OutboxEntry]) -> None:
        base = cached.server_row or {}
        remote = change.row
        updates = [e for e in entries if e.op in ("update", "rename", "upsert")]
        fields = set().union(*(ops.touched_fields(e) for e in updates)) if updates else set()
        diff = sorted(
            name
            for name in fields - _META_FIELDS
            if cached.server_row is not None
            and remote.get(name) != base.get(name)
            and remote.get(name) != cached.row.get(name)
            and not _own_write(updates, change.id, name, remote.get(name))
        )
        if not diff:
            return
        self.record_conflict(change.table, change.id, cached.row, remote, diff)
        for entry in updates:
            if entry.state == EntryState.IN_FLIGHT:
                continue
            # The local values live on in the conflict; the resolution sends them again.
            entry.state = EntryState.DONE
            entry.outcome = "conflict"
            self._storage.update_sync_entry(entry)
            self._storage.remove_sync_entry(entry.entry_id)
            self.requeue_remainder(entry, diff, change.version)
            self._on_superseded(entry, {"outcome": "conflict", "current": remote}, None)

    def requeue_remainder(
        self, entry: OutboxEntry, conflicting: list[str], remote_version: int
    ) -> None:
        """The fields of a conflicting update that did not conflict still go to the server."""
        if entry.op != "update":
            return
        rest = {k: v for k, v in entry.args.get("patch", {}).items() if k not in conflicting}
        if not rest:
            return
        self._storage.enqueue_sync(
            OutboxEntry(
                entry_id=str(uuid.uuid4()),
                table=entry.table,
                op="update",
                row_id=entry.row_id,
                args={"patch": rest},
                base_version=remote_version,
                created_at=self._clock.now(),
            )
        )

    def record_conflict(
        self,
        table: str,
        row_id: str,
        local: dict[str, Any],
        remote: dict[str, Any],
        diff_fields: list[str],
    ) -> ConflictRecord:
        """Put a conflict in the inbox (replacing an older one for the same row)."""
        conflict = ConflictRecord(
            conflict_id=str(uuid.uuid4()),
            table=table,
            id=row_id,
            local={k: v for k, v in local.items()},
            remote=dict(remote),
            diff_fields=list(diff_fields),
            resolution_choices=list(RESOLUTION_CHOICES),
            remote_version=int(remote.get("version") or 0),
            created_at=self._clock.now(),
        )
        self._storage.add_conflict(conflict)
        self._on_conflict(conflict)
        return conflict

    def remap(self, table: str, old_id: str, new_id: str) -> None:
        """The server assigned ``new_id`` to the row created locally as ``old_id``."""
        with self._storage.transaction():
            self._storage.remap_id(table, old_id, new_id)
            for conflict in self._storage.get_conflicts():
                if (conflict.table, conflict.id) == (table, old_id):
                    self._storage.remove_conflict(conflict.conflict_id)
                    conflict.id = new_id
                    self._storage.add_conflict(conflict)

    def open_for(self, table: str, row_id: str) -> list[OutboxEntry]:
        """The open outbox entries of a row."""
        return [
            e
            for e in ops.open_entries_for(self._storage.get_pending_sync_entries(), table, row_id)
            if e.state in OPEN_STATES
        ]


def _own_write(entries: list[OutboxEntry], row_id: str, name: str, value: Any) -> bool:
    """Whether one of our open entries writes ``value`` to ``name``: the server then shows our
    own write before its acknowledgement arrived, not somebody else's change."""
    return any(
        name in ops.touched_fields(e) and ops.apply_entry(e, {}, row_id).get(name) == value
        for e in entries
    )
