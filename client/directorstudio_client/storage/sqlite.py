"""The durable local store: one SQLite file in WAL mode."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

from directorstudio.contracts.sync import SYNCED_TABLES
from directorstudio_client.storage.base import StoreBase
from directorstudio_client.storage.models import (
    CachedRow,
    ConflictRecord,
    EntryState,
    OutboxEntry,
    TelemetryRecord,
)

_SCHEMA = [
    *(
        f"""CREATE TABLE IF NOT EXISTS {table} (
            id TEXT PRIMARY KEY,
            version INTEGER NOT NULL DEFAULT 0,
            deleted INTEGER NOT NULL DEFAULT 0,
            row TEXT NOT NULL,
            server_row TEXT
        )"""
        for table in SYNCED_TABLES
    ),
    """CREATE TABLE IF NOT EXISTS outbox (
        entry_id TEXT PRIMARY KEY,
        mutation_id INTEGER NOT NULL UNIQUE,
        table_name TEXT NOT NULL,
        op TEXT NOT NULL,
        row_id TEXT NOT NULL,
        base_version INTEGER,
        args TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('pending', 'in_flight', 'retry_wait', 'dead', 'done')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        last_error TEXT,
        created_at REAL NOT NULL,
        window_started_at REAL,
        window_attempts INTEGER NOT NULL DEFAULT 0,
        requeues INTEGER NOT NULL DEFAULT 0,
        outcome TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, mutation_id)",
    """CREATE TABLE IF NOT EXISTS sync_cursor (
        only_one INTEGER PRIMARY KEY CHECK (only_one = 1),
        cursor TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS conflict_inbox (
        conflict_id TEXT PRIMARY KEY,
        table_name TEXT NOT NULL,
        row_id TEXT NOT NULL,
        local TEXT NOT NULL,
        remote TEXT NOT NULL,
        diff_fields TEXT NOT NULL,
        resolution_choices TEXT NOT NULL,
        remote_version INTEGER NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (table_name, row_id)
    )""",
    """CREATE TABLE IF NOT EXISTS telemetry_buffer (
        event_id TEXT PRIMARY KEY,
        element TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        successes INTEGER NOT NULL,
        day TEXT NOT NULL,
        created_at REAL NOT NULL,
        batch_id TEXT
    )""",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]

_OUTBOX_COLUMNS = (
    "entry_id, mutation_id, table_name, op, row_id, base_version, args, state, attempts, "
    "next_attempt_at, last_error, created_at, window_started_at, window_attempts, requeues, outcome"
)


_TELEMETRY_COLUMNS = (
    "event_id", "element", "attempts", "successes", "day", "created_at", "batch_id"
)  # fmt: skip


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class SQLiteStorage(StoreBase):
    """``LocalStorageService`` on one SQLite file (WAL); reopening the file restores everything."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        if str(path) == ":memory:" or not str(path):
            raise ValueError("SQLiteStorage needs a file path so the outbox survives restarts")
        self.path = Path(path)
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self.transaction():
            for statement in _SCHEMA:
                self._conn.execute(statement)

    # --- transactions --------------------------------------------------------------------------
    def _begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self.transaction():
            self._conn.execute(sql, params)

    # --- rows ------------------------------------------------------------------------------------
    @staticmethod
    def _check_table(table: str) -> str:
        if table not in SYNCED_TABLES:
            raise ValueError(f"not a synced table: {table}")
        return table

    @staticmethod
    def _cached(table: str, record: tuple[Any, ...]) -> CachedRow:
        row_id, version, deleted, row, server_row = record
        return CachedRow(
            table=table,
            id=row_id,
            version=version,
            deleted=bool(deleted),
            row=json.loads(row),
            server_row=json.loads(server_row) if server_row is not None else None,
        )

    def _rows(self, table: str) -> list[CachedRow]:
        table = self._check_table(table)
        records = self._query(f"SELECT id, version, deleted, row, server_row FROM {table}")
        return [self._cached(table, r) for r in records]

    def get_row(self, table: str, row_id: str) -> CachedRow | None:
        """A cached row with its server state, or ``None``."""
        table = self._check_table(table)
        records = self._query(
            f"SELECT id, version, deleted, row, server_row FROM {table} WHERE id = ?", (row_id,)
        )
        return self._cached(table, records[0]) if records else None

    def _write_row(self, cached: CachedRow) -> None:
        table = self._check_table(cached.table)
        server_row = None if cached.server_row is None else _dump(cached.server_row)
        self._exec(
            f"INSERT INTO {table} (id, version, deleted, row, server_row)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version,"
            " deleted = excluded.deleted, row = excluded.row, server_row = excluded.server_row",
            (cached.id, cached.version, int(cached.deleted), _dump(cached.row), server_row),
        )

    def _delete_row(self, table: str, row_id: str) -> None:
        self._exec(f"DELETE FROM {self._check_table(table)} WHERE id = ?", (row_id,))

    # --- outbox ----------------------------------------------------------------------------------
    @staticmethod
    def _entry(record: tuple[Any, ...]) -> OutboxEntry:
        (entry_id, mutation_id, table, op, row_id, base_version, args, state, attempts,
         next_attempt_at, last_error, created_at, window_started_at, window_attempts, requeues,
         outcome) = record  # fmt: skip
        return OutboxEntry(
            entry_id=entry_id,
            mutation_id=mutation_id,
            table=table,
            op=op,
            row_id=row_id,
            base_version=base_version,
            args=json.loads(args),
            state=EntryState(state),
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            last_error=json.loads(last_error) if last_error else None,
            created_at=created_at,
            window_started_at=window_started_at,
            window_attempts=window_attempts,
            requeues=requeues,
            outcome=outcome,
        )

    def next_mutation_id(self) -> int:
        """Reserve a fresh mutation id."""
        with self.transaction():
            current = int(self.get_meta("last_mutation_id") or "0")
            self.set_meta("last_mutation_id", str(current + 1))
            return current + 1

    def enqueue_sync(self, entry: OutboxEntry) -> OutboxEntry:
        """Append an entry, assigning its mutation id (strictly increasing, never reused)."""
        with self.transaction():
            stored = entry.copy()
            stored.mutation_id = self.next_mutation_id()
            self._exec(
                f"INSERT INTO outbox ({_OUTBOX_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self._entry_params(stored),
            )
            self._changed("outbox")
            return stored

    @staticmethod
    def _entry_params(e: OutboxEntry) -> tuple[Any, ...]:
        return (
            e.entry_id,
            e.mutation_id,
            e.table,
            e.op,
            e.row_id,
            e.base_version,
            _dump(e.args),
            str(e.state),
            e.attempts,
            e.next_attempt_at,
            None if e.last_error is None else _dump(e.last_error),
            e.created_at,
            e.window_started_at,
            e.window_attempts,
            e.requeues,
            e.outcome,
        )

    def get_pending_sync_entries(self) -> list[OutboxEntry]:
        """Every entry not yet done (including dead ones), in mutation id order."""
        records = self._query(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE state <> 'done' ORDER BY mutation_id"
        )
        return [self._entry(r) for r in records]

    def get_sync_entry(self, entry_id: str) -> OutboxEntry | None:
        """One entry by id."""
        records = self._query(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE entry_id = ?", (entry_id,)
        )
        return self._entry(records[0]) if records else None

    def update_sync_entry(self, entry: OutboxEntry) -> None:
        """Store an entry's new state."""
        params = self._entry_params(entry)
        self._exec(
            "UPDATE outbox SET mutation_id = ?, table_name = ?, op = ?, row_id = ?,"
            " base_version = ?, args = ?, state = ?, attempts = ?, next_attempt_at = ?,"
            " last_error = ?, created_at = ?, window_started_at = ?, window_attempts = ?,"
            " requeues = ?, outcome = ?"
            " WHERE entry_id = ?",
            (*params[1:], params[0]),
        )
        self._changed("outbox")

    def remove_sync_entry(self, entry_id: str) -> None:
        """Delete an entry."""
        self._exec("DELETE FROM outbox WHERE entry_id = ?", (entry_id,))
        self._changed("outbox")

    # --- cursor, conflicts, telemetry, metadata --------------------------------------------------
    def get_cursor(self) -> str | None:
        """The pull cursor, ``None`` before the first pull."""
        records = self._query("SELECT cursor FROM sync_cursor WHERE only_one = 1")
        return records[0][0] if records else None

    def set_cursor(self, cursor: str | None) -> None:
        """Store the pull cursor."""
        self._exec(
            "INSERT INTO sync_cursor (only_one, cursor) VALUES (1, ?)"
            " ON CONFLICT (only_one) DO UPDATE SET cursor = excluded.cursor",
            (cursor,),
        )

    def add_conflict(self, conflict: ConflictRecord) -> None:
        """Put a conflict in the inbox, replacing an open one for the same row."""
        with self.transaction():
            self._exec(
                "DELETE FROM conflict_inbox WHERE table_name = ? AND row_id = ?",
                (conflict.table, conflict.id),
            )
            self._exec(
                "INSERT INTO conflict_inbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conflict.conflict_id,
                    conflict.table,
                    conflict.id,
                    _dump(conflict.local),
                    _dump(conflict.remote),
                    _dump(conflict.diff_fields),
                    _dump(conflict.resolution_choices),
                    conflict.remote_version,
                    conflict.created_at,
                ),
            )
            self._changed("conflicts")

    def get_conflicts(self) -> list[ConflictRecord]:
        """Open conflicts, oldest first."""
        records = self._query("SELECT * FROM conflict_inbox ORDER BY created_at, conflict_id")
        return [
            ConflictRecord(
                conflict_id=r[0],
                table=r[1],
                id=r[2],
                local=json.loads(r[3]),
                remote=json.loads(r[4]),
                diff_fields=json.loads(r[5]),
                resolution_choices=json.loads(r[6]),
                remote_version=r[7],
                created_at=r[8],
            )
            for r in records
        ]

    def remove_conflict(self, conflict_id: str) -> None:
        """Take a resolved conflict out of the inbox."""
        self._exec("DELETE FROM conflict_inbox WHERE conflict_id = ?", (conflict_id,))
        self._changed("conflicts")

    def add_telemetry(self, record: TelemetryRecord) -> None:
        """Buffer one telemetry increment."""
        values = asdict(record)
        self._exec(
            "INSERT INTO telemetry_buffer VALUES (?, ?, ?, ?, ?, ?, ?)",
            tuple(values[k] for k in _TELEMETRY_COLUMNS),
        )
        self._changed("telemetry")

    def claim_telemetry_batch(self, batch_id: str, limit: int) -> tuple[str, list[TelemetryRecord]]:
        """The unacknowledged batch if there is one, else up to ``limit`` records under
        ``batch_id``; returns the batch id in use and its records."""
        with self.transaction():
            open_batch = self._query(
                "SELECT batch_id FROM telemetry_buffer WHERE batch_id IS NOT NULL"
                " ORDER BY created_at LIMIT 1"
            )
            if open_batch:
                batch_id = open_batch[0][0]
            else:
                self._exec(
                    "UPDATE telemetry_buffer SET batch_id = ? WHERE event_id IN (SELECT event_id"
                    " FROM telemetry_buffer ORDER BY created_at, event_id LIMIT ?)",
                    (batch_id, limit),
                )
            records = self._query(
                "SELECT event_id, element, attempts, successes, day, created_at, batch_id"
                " FROM telemetry_buffer WHERE batch_id = ? ORDER BY created_at, event_id",
                (batch_id,),
            )
        return batch_id, [TelemetryRecord(*r) for r in records]

    def remove_telemetry_batch(self, batch_id: str) -> None:
        """Drop an acknowledged batch."""
        self._exec("DELETE FROM telemetry_buffer WHERE batch_id = ?", (batch_id,))
        self._changed("telemetry")

    def get_meta(self, key: str) -> str | None:
        """A stored setting."""
        records = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return records[0][0] if records else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        self._exec(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def close(self) -> None:
        """Release the store."""
        with self._lock:
            self._conn.close()
