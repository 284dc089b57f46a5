"""A store in plain dictionaries: same contract as the SQLite store, nothing survives a restart
of the process (it survives closing and reopening a handle on the same :class:`MemoryStorage`
``backing`` object, which is how the contract tests exercise persistence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from directorstudio.contracts.sync import SYNCED_TABLES
from directorstudio_client.storage.base import StoreBase
from directorstudio_client.storage.models import (
    CachedRow,
    ConflictRecord,
    EntryState,
    OutboxEntry,
    TelemetryRecord,
)

_ABSENT: Any = object()
_CURSOR = "cursor"
V = TypeVar("V")


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
    """The store contract over dictionaries.

    A transaction keeps an undo journal: the value each key held before the transaction first
    changed it (stored values are private copies, always replaced and never changed in place),
    so a transaction costs what it touches and a rollback puts back only those keys."""

    def __init__(self, backing: MemoryBacking | None = None) -> None:
        super().__init__()
        self.backing = backing if backing is not None else MemoryBacking()
        self._journal: dict[tuple[int, str], tuple[dict[str, Any] | None, str, Any]] = {}

    def _begin(self) -> None:
        self._journal = {}

    def _commit(self) -> None:
        self._journal = {}

    def _rollback(self) -> None:
        journal, self._journal = self._journal, {}
        for mapping, key, old in journal.values():
            if mapping is None:
                self.backing.cursor = old
            elif old is _ABSENT:
                mapping.pop(key, None)
            else:
                mapping[key] = old

    def _remember(self, mapping: dict[str, Any], key: str) -> None:
        """Journal ``mapping[key]`` before the transaction first changes it."""
        self._journal.setdefault((id(mapping), key), (mapping, key, mapping.get(key, _ABSENT)))

    def _set(self, mapping: dict[str, V], key: str, value: V) -> None:
        self._remember(mapping, key)
        mapping[key] = value

    def _pop(self, mapping: dict[str, V], key: str) -> None:
        if key in mapping:
            self._remember(mapping, key)
            del mapping[key]

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
            self._set(self.backing.rows[self._check_table(cached.table)], cached.id, cached.copy())

    def _delete_row(self, table: str, row_id: str) -> None:
        with self.transaction():
            self._pop(self.backing.rows[self._check_table(table)], row_id)

    def next_mutation_id(self) -> int:
        """Reserve a fresh mutation id."""
        with self.transaction():
            current = int(self.backing.meta.get("last_mutation_id", "0")) + 1
            self._set(self.backing.meta, "last_mutation_id", str(current))
            return current

    def enqueue_sync(self, entry: OutboxEntry) -> OutboxEntry:
        """Append an entry, assigning its mutation id (strictly increasing, never reused)."""
        with self.transaction():
            stored = entry.copy()
            stored.mutation_id = self.next_mutation_id()
            if stored.entry_id in self.backing.outbox:
                raise ValueError(f"duplicate outbox entry {stored.entry_id}")
            self._set(self.backing.outbox, stored.entry_id, stored.copy())
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
                self._set(self.backing.outbox, entry.entry_id, entry.copy())
            self._changed("outbox")

    def remove_sync_entry(self, entry_id: str) -> None:
        """Delete an entry."""
        with self.transaction():
            self._pop(self.backing.outbox, entry_id)
            self._changed("outbox")

    def get_cursor(self) -> str | None:
        """The pull cursor, ``None`` before the first pull."""
        return self.backing.cursor

    def set_cursor(self, cursor: str | None) -> None:
        """Store the pull cursor."""
        with self.transaction():
            self._journal.setdefault((0, _CURSOR), (None, _CURSOR, self.backing.cursor))
            self.backing.cursor = cursor

    def add_conflict(self, conflict: ConflictRecord) -> None:
        """Put a conflict in the inbox, replacing an open one for the same row."""
        with self.transaction():
            for key, existing in list(self.backing.conflicts.items()):
                if (existing.table, existing.id) == (conflict.table, conflict.id):
                    self._pop(self.backing.conflicts, key)
            self._set(self.backing.conflicts, conflict.conflict_id, conflict.copy())
            self._changed("conflicts")

    def get_conflicts(self) -> list[ConflictRecord]:
        """Open conflicts, oldest first."""
        with self._lock:
            conflicts = [c.copy() for c in self.backing.conflicts.values()]
        return sorted(conflicts, key=lambda c: (c.created_at, c.conflict_id))

    def remove_conflict(self, conflict_id: str) -> None:
        """Take a resolved conflict out of the inbox."""
        with self.transaction():
            self._pop(self.backing.conflicts, conflict_id)
            self._changed("conflicts")

    def add_telemetry(self, record: TelemetryRecord) -> None:
        """Buffer one telemetry increment."""
        with self.transaction():
            self._set(self.backing.telemetry, record.event_id, record.copy())
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
                    claimed.append(record.copy())
                    claimed[-1].batch_id = batch_id
                    self._set(self.backing.telemetry, record.event_id, claimed[-1])
            return batch_id, [r.copy() for r in claimed if r.batch_id == batch_id]

    def remove_telemetry_batch(self, batch_id: str) -> None:
        """Drop an acknowledged batch."""
        with self.transaction():
            for key in [k for k, r in self.backing.telemetry.items() if r.batch_id == batch_id]:
                self._pop(self.backing.telemetry, key)
            self._changed("telemetry")

    def get_meta(self, key: str) -> str | None:
        """A stored setting."""
        return self.backing.meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.transaction():
            self._set(self.backing.meta, key, value)

    def close(self) -> None:
        """Release the store (the backing dictionaries stay)."""
