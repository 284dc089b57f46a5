"""A store in plain dictionaries: same contract as the SQLite store, nothing survives a restart
of the process (it survives closing and reopening a handle on the same :class:`MemoryStorage`
``backing`` object, which is how the contract tests exercise persistence)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from directorstudio.contracts.sync import SYNCED_TABLES
from directorstudio_client.storage.base import StoreBase
from directorstudio_client.storage.models import (
    CachedRow,
    ConflictRecord,
    EntryState,
    OutboxEntry,
    TelemetryRecord,
)


@dataclass
class MemoryBacking:
    """The dictionaries a :class:`MemoryStorage` keeps its state in."""

    rows: dict[str, dict[str, CachedRow]] = field(
        default_factory=lambda: {t: {} for t in SYNCED_TABLES}
    )
    outbox: dict[str, OutboxEntry] = field(default_factory=dict)
    cursor: str | None = None
    conflicts: dict[str, ConflictRecord] = field(default_factory=dict)
    telemetry: dict[str, TelemetryRecord] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)


class MemoryStorage(StoreBase):
    """The store contract over dictionaries (transactions roll back by snapshot)."""

    def __init__(self, backing: MemoryBacking | None = None) -> None:
        super().__init__()
        self.backing = backing if backing is not None else MemoryBacking()
        self._snapshot: MemoryBacking | None = None

    def _begin(self) -> None:
        self._snapshot = copy.deepcopy(self.backing)

    def _commit(self) -> None:
        self._snapshot = None

    def _rollback(self) -> None:
        if self._snapshot is not None:
            b, s = self.backing, self._snapshot
            b.rows, b.outbox, b.cursor = s.rows, s.outbox, s.cursor
            b.conflicts, b.telemetry, b.meta = s.conflicts, s.telemetry, s.meta
        self._snapshot = None

    @staticmethod
    def _check_table(table: str) -> str:
        if table not in SYNCED_TABLES:
            raise ValueError(f"not a synced table: {table}")
        return table

    def _rows(self, table: str) -> list[CachedRow]:
        with self._lock:
            return [c.copy() for c in self.backing.rows[self._check_table(table)].values()]

    def get_row(self, table: str, row_id: str) -> CachedRow | None:
        """A cached row with its server state, or ``None``."""
        with self._lock:
            cached = self.backing.rows[self._check_table(table)].get(row_id)
            return None if cached is None else cached.copy()

    def _write_row(self, cached: CachedRow) -> None:
        with self.transaction():
            self.backing.rows[self._check_table(cached.table)][cached.id] = cached.copy()

    def _delete_row(self, table: str, row_id: str) -> None:
        with self.transaction():
            self.backing.rows[self._check_table(table)].pop(row_id, None)

    def next_mutation_id(self) -> int:
        """Reserve a fresh mutation id."""
        with self.transaction():
            current = int(self.backing.meta.get("last_mutation_id", "0")) + 1
            self.backing.meta["last_mutation_id"] = str(current)
            return current

    def enqueue_sync(self, entry: OutboxEntry) -> OutboxEntry:
        """Append an entry, assigning its mutation id (strictly increasing, never reused)."""
        with self.transaction():
            stored = entry.copy()
            stored.mutation_id = self.next_mutation_id()
            if stored.entry_id in self.backing.outbox:
                raise ValueError(f"duplicate outbox entry {stored.entry_id}")
            self.backing.outbox[stored.entry_id] = stored.copy()
            self._changed("outbox")
            return stored

    def get_pending_sync_entries(self) -> list[OutboxEntry]:
        """Every entry not yet done (including dead ones), in mutation id order."""
        with self._lock:
            entries = [e.copy() for e in self.backing.outbox.values() if e.state != EntryState.DONE]
        return sorted(entries, key=lambda e: e.mutation_id)

    def get_sync_entry(self, entry_id: str) -> OutboxEntry | None:
        """One entry by id."""
        with self._lock:
            entry = self.backing.outbox.get(entry_id)
            return None if entry is None else entry.copy()

    def update_sync_entry(self, entry: OutboxEntry) -> None:
        """Store an entry's new state."""
        with self.transaction():
            if entry.entry_id in self.backing.outbox:
                self.backing.outbox[entry.entry_id] = entry.copy()
            self._changed("outbox")

    def remove_sync_entry(self, entry_id: str) -> None:
        """Delete an entry."""
        with self.transaction():
            self.backing.outbox.pop(entry_id, None)
            self._changed("outbox")

    def get_cursor(self) -> str | None:
        """The pull cursor, ``None`` before the first pull."""
        return self.backing.cursor

    def set_cursor(self, cursor: str | None) -> None:
        """Store the pull cursor."""
        with self.transaction():
            self.backing.cursor = cursor

    def add_conflict(self, conflict: ConflictRecord) -> None:
        """Put a conflict in the inbox, replacing an open one for the same row."""
        with self.transaction():
            for key, existing in list(self.backing.conflicts.items()):
                if (existing.table, existing.id) == (conflict.table, conflict.id):
                    del self.backing.conflicts[key]
            self.backing.conflicts[conflict.conflict_id] = conflict.copy()
            self._changed("conflicts")

    def get_conflicts(self) -> list[ConflictRecord]:
        """Open conflicts, oldest first."""
        with self._lock:
            conflicts = [c.copy() for c in self.backing.conflicts.values()]
        return sorted(conflicts, key=lambda c: (c.created_at, c.conflict_id))

    def remove_conflict(self, conflict_id: str) -> None:
        """Take a resolved conflict out of the inbox."""
        with self.transaction():
            self.backing.conflicts.pop(conflict_id, None)
            self._changed("conflicts")

    def add_telemetry(self, record: TelemetryRecord) -> None:
        """Buffer one telemetry increment."""
        with self.transaction():
            self.backing.telemetry[record.event_id] = record.copy()
            self._changed("telemetry")

    def claim_telemetry_batch(self, batch_id: str, limit: int) -> tuple[str, list[TelemetryRecord]]:
        """The unacknowledged batch if there is one, else up to ``limit`` records under
        ``batch_id``; returns the batch id in use and its records."""
        with self.transaction():
            ordered = sorted(
                self.backing.telemetry.values(), key=lambda r: (r.created_at, r.event_id)
            )
            claimed = [r for r in ordered if r.batch_id is not None]
            if claimed:
                batch_id = str(claimed[0].batch_id)
            else:
                for record in ordered[:limit]:
                    record.batch_id = batch_id
            return batch_id, [r.copy() for r in ordered if r.batch_id == batch_id]

    def remove_telemetry_batch(self, batch_id: str) -> None:
        """Drop an acknowledged batch."""
        with self.transaction():
            for key in [k for k, r in self.backing.telemetry.items() if r.batch_id == batch_id]:
                del self.backing.telemetry[key]
            self._changed("telemetry")

    def get_meta(self, key: str) -> str | None:
        """A stored setting."""
        return self.backing.meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.transaction():
            self.backing.meta[key] = value

    def close(self) -> None:
        """Release the store (the backing dictionaries stay)."""
