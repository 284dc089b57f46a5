"""Applying server rows to the cache: last-writer-wins, field-level conflicts, id remapping."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from directorstudio.contracts.sync import RESOLUTION_CHOICES, ChangeRecord
from directorstudio.contracts.tables import CLIP_JOBS, SERVER_BOOKKEEPING, synced_spec
from directorstudio_client.clock import Clock
from directorstudio_client.storage.models import (
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

    # --- local view: its one home -----------------------------------------------------------
    def rebuild(self, table: str, row_id: str) -> None:
        """Recompute a row's local view from its server row and the open entries."""
        with self._storage.transaction():
            cached = self._storage.get_row(table, row_id)
            if cached is None:
                return
            self._storage.put_row(self._with_view(cached))

    def _with_view(
        self,
        cached: CachedRow,
        entries: list[OutboxEntry] | None = None,
        conflict: ConflictRecord | bool | None = True,
    ) -> CachedRow:
        """``cached`` with its local view set: the server row with the open entries applied
        (read from the store unless given) and the local values of an open conflict kept."""
        table, row_id = cached.table, cached.id
        if entries is None:
            entries = self._storage.get_open_entries_for_row(table, row_id)
        if conflict is True:
            conflict = self._storage.get_conflict_for_row(table, row_id)
        local = ops.overlay(cached.server_row, entries, table, row_id)
        if local is None:
            # Never reached the server and nothing left to send: the row goes away locally.
            cached.deleted = True
            cached.row = {**cached.row, "deleted_at": ops.LOCAL_DELETION}
            return cached
        _strip_bookkeeping(local, self._user_id)
        if cached.server_row is None:
            stamp = dt.datetime.fromtimestamp(self._clock.now(), tz=dt.UTC).isoformat()
            local.setdefault(
                synced_spec(table).stamp_column,
                cached.row.get("last_updated") or cached.row.get("created_at") or stamp,
            )
            cached.deleted = bool(local.get("deleted_at"))
        else:
            cached.deleted = bool(cached.server_row.get("deleted_at"))
        if isinstance(conflict, ConflictRecord):
            _keep_conflict_values(local, conflict)
        cached.row = local
        return cached

    # --- server rows --------------------------------------------------------------------------
    def apply_server_row(
        self, table: str, row: dict[str, Any], *, deleted: bool | None = None
    ) -> None:
        """A row the server confirmed (push result): it becomes the row's server state."""
        row_id = ops.server_id(table, row)
        if row_id is None:
            return
        with self._storage.transaction():
            cached = self._storage.get_row(table, row_id)
            updated = self._take_server_row(table, row_id, cached, row, deleted)
            if updated is not None:
                self._storage.put_row(self._with_view(updated))

    def apply_server_rows(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        """Rows the server confirmed for one batch (push results, in order), as
        :meth:`apply_server_row` of each would leave them, in bulk: per table one read of the
        cached rows and one ``executemany``; open entries are read only for rows that have
        them. Of several results for one row the newest version wins."""
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for table, row in rows:
            row_id = ops.server_id(table, row)
            if row_id is None:
                continue
            known = latest.get((table, row_id))
            if known is None or int(known.get("version") or 0) <= int(row.get("version") or 0):
                latest[(table, row_id)] = row
        by_table: dict[str, dict[str, dict[str, Any]]] = {}
        for (table, row_id), row in latest.items():
            by_table.setdefault(table, {})[row_id] = row
        with self._storage.transaction():
            conflicts = {(c.table, c.id): c for c in self._storage.get_conflicts()}
            ready: list[CachedRow] = []
            for table, table_rows in by_table.items():
                ids = list(table_rows)
                busy = self._storage.rows_with_open_entries(table, ids)
                # A row without open entries (and not a clip job, whose completion is noted
                # against its cached status) needs only its cached server version.
                clips = table == CLIP_JOBS.name
                full = [i for i in ids if clips or i in busy]
                quiet = [i for i in ids if not (clips or i in busy)]
                cached_rows = self._storage.get_rows(table, full) if full else {}
                held = self._storage.server_versions(table, quiet) if quiet else {}
                for row_id in quiet:
                    row = table_rows[row_id]
                    if held.get(row_id, -1) <= int(row.get("version") or 0):
                        conflict = conflicts.get((table, row_id))
                        ready.append(self._quiet_row(table, row_id, row, None, conflict))
                for row_id in full:
                    updated = self._take_server_row(
                        table, row_id, cached_rows.get(row_id), table_rows[row_id], None
                    )
                    if updated is None:
                        continue
                    entries = (
                        self._storage.get_open_entries_for_row(table, row_id)
                        if row_id in busy
                        else []
                    )
                    ready.append(self._with_view(updated, entries, conflicts.get((table, row_id))))
            self._storage.put_rows(ready)

    def _take_server_row(
        self,
        table: str,
        row_id: str,
        cached: CachedRow | None,
        row: dict[str, Any],
        deleted: bool | None,
    ) -> CachedRow | None:
        """The cached row with ``row`` as its server state, ``None`` when ours is newer."""
        version = int(row.get("version") or 0)
        if cached is not None and cached.server_row is not None and cached.version > version:
            return None
        if cached is None:
            cached = CachedRow(table=table, id=row_id, row={})
        self._note_clip_completion(table, cached, row)
        cached.server_row = dict(row)
        cached.version = version
        cached.deleted = bool(row.get("deleted_at")) if deleted is None else deleted
        return cached

    def apply_changes(self, changes: Sequence[ChangeRecord]) -> None:
        """A pulled page, in one transaction: changes no newer than the cached server row (such
        as the echo of this client's own pushes) are dropped after one query of versions; rows
        without open local writes are read and written in bulk (one query and one
        ``executemany`` per table); the others go through :meth:`apply_change` for conflict
        detection."""
        latest: dict[tuple[str, str], ChangeRecord] = {}
        for change in changes:
            key = (change.table, change.id)
            known = latest.get(key)
            if known is None or known.version <= change.version:
                latest[key] = change
        with self._storage.transaction():
            conflicts = {(c.table, c.id): c for c in self._storage.get_conflicts()}
            by_table: dict[str, list[ChangeRecord]] = {}
            for change in latest.values():
                by_table.setdefault(change.table, []).append(change)
            ready: list[CachedRow] = []
            for table, page_changes in by_table.items():
                held = self._storage.server_versions(table, [c.id for c in page_changes])
                table_changes = [c for c in page_changes if held.get(c.id, -1) < c.version]
                if not table_changes:
                    continue
                ids = [c.id for c in table_changes]
                cached_rows = self._storage.get_rows(table, ids)
                busy = self._storage.rows_with_open_entries(table, ids)
                quiet = []
                for change in table_changes:
                    if change.id in busy:
                        self.apply_change(change)
                    else:
                        quiet.append(change)
                ready.extend(self._quiet_rows(table, quiet, cached_rows, conflicts))
            self._storage.put_rows(ready)

    def _quiet_rows(
        self,
        table: str,
        changes: list[ChangeRecord],
        cached_rows: dict[str, CachedRow],
        conflicts: dict[tuple[str, str], ConflictRecord],
    ) -> list[CachedRow]:
        """The cached rows of pulled changes without open entries: what :meth:`_take_server_row`
        then :meth:`_with_view` (no entries) make of each, in one loop over the page: the server
        row, its version, and as the view the server row without the server's bookkeeping, with
        the local values of an open conflict kept."""
        clips = table == CLIP_JOBS.name
        ready: list[CachedRow] = []
        for change in changes:
            row, row_id = change.row, change.id
            version = int(row.get("version") or 0)
            cached = cached_rows.get(row_id)
            if (
                cached is not None
                and cached.server_row is not None
                and (cached.version >= change.version or cached.version > version)
            ):
                continue
            if clips:
                self._note_clip_completion(table, cached or CachedRow(table, row_id, {}), row)
            conflict = conflicts.get((table, row_id)) if conflicts else None
            ready.append(self._quiet_row(table, row_id, row, cached, conflict))
        return ready

    def _quiet_row(
        self,
        table: str,
        row_id: str,
        row: dict[str, Any],
        cached: CachedRow | None,
        conflict: ConflictRecord | None,
    ) -> CachedRow:
        """The cached row (``cached`` reused when given) with ``row`` as its server state, for a
        row without open entries: as its view, the server row without the server's
        bookkeeping, with the local values of an open conflict kept."""
        server_row = dict(row)
        local = dict(row)
        _strip_bookkeeping(local, self._user_id)
        if conflict is not None:
            _keep_conflict_values(local, conflict)
        version, deleted = int(row.get("version") or 0), bool(row.get("deleted_at"))
        if cached is None:
            return CachedRow(table, row_id, local, server_row, version, deleted)
        cached.row, cached.server_row = local, server_row
        cached.version, cached.deleted = version, deleted
        return cached

    def _note_clip_completion(self, table: str, cached: CachedRow, row: dict[str, Any]) -> None:
        before = (cached.server_row or {}).get("status")
        if table == CLIP_JOBS.name and row.get("status") == "completed" and before != "completed":
            self._on_clip_completed(row)

    def apply_change(self, change: ChangeRecord) -> None:
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
            entries = self._storage.get_open_entries_for_row(change.table, change.id)
            if cached is not None and entries:
                self._detect(cached, change, entries)
            self.apply_server_row(change.table, change.row, deleted=change.deleted)

    def _detect(self, cached: CachedRow, change: ChangeRecord, entries: list[OutboxEntry]) -> None:
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
            conflict = self._storage.get_conflict_for_row(table, old_id)
            if conflict is not None:
                self._storage.remove_conflict(conflict.conflict_id)
                conflict.id = new_id
                self._storage.add_conflict(conflict)

    def open_for(self, table: str, row_id: str) -> list[OutboxEntry]:
        """The open outbox entries of a row."""
        return self._storage.get_open_entries_for_row(table, row_id)


def _own_write(entries: list[OutboxEntry], row_id: str, name: str, value: Any) -> bool:
    """Whether one of our open entries writes ``value`` to ``name``: the server then shows our
    own write before its acknowledgement arrived, not somebody else's change."""
    return any(
        name in ops.touched_fields(e) and ops.apply_entry(e, {}, row_id).get(name) == value
        for e in entries
    )


def _strip_bookkeeping(local: dict[str, Any], user_id: str) -> None:
    """A local view from a server row: without the server's bookkeeping, owned by the user."""
    for name in SERVER_BOOKKEEPING:
        local.pop(name, None)
    local.setdefault("user_id", user_id)


def _keep_conflict_values(local: dict[str, Any], conflict: ConflictRecord) -> None:
    """The local values of an open conflict's fields stay in the view until it is resolved."""
    for name in conflict.diff_fields:
        if name in conflict.local:
            local[name] = conflict.local[name]
