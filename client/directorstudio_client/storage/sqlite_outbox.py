"""The SQLite store's outbox: entries indexed by state, next attempt and mutation id, and by the
rows each one touches (``outbox_rows``), so a write, a settle or a health check reads only what
it needs, whatever the length of the queue."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from directorstudio.contracts import json_exact
from directorstudio_client.storage.models import (
    OPEN_STATES,
    EntryState,
    OutboxEntry,
    OutboxSummary,
)
from directorstudio_client.storage.sqlite_rows import dump
from directorstudio_client.storage.sqlite_schema import OPEN_STATE_LIST

COLUMNS = (
    "entry_id, mutation_id, table_name, op, row_id, base_version, args, state, attempts,"
    " next_attempt_at, last_error, created_at, window_started_at, window_attempts, requeues,"
    " outcome, base_mutation_id"
)
_SELECT = f"SELECT {COLUMNS} FROM outbox"
_OPEN = f"state IN ({OPEN_STATE_LIST})"


def _entry(record: tuple[Any, ...]) -> OutboxEntry:
    (entry_id, mutation_id, table, op, row_id, base_version, args, state, attempts,
     next_attempt_at, last_error, created_at, window_started_at, window_attempts, requeues,
     outcome, base_mutation_id) = record  # fmt: skip
    return OutboxEntry(
        entry_id=entry_id,
        mutation_id=mutation_id,
        table=table,
        op=op,
        row_id=row_id,
        base_version=base_version,
        args=json_exact.loads(args),
        state=EntryState(state),
        attempts=attempts,
        next_attempt_at=next_attempt_at,
        last_error=json.loads(last_error) if last_error else None,
        created_at=created_at,
        window_started_at=window_started_at,
        window_attempts=window_attempts,
        requeues=requeues,
        outcome=outcome,
        base_mutation_id=base_mutation_id,
    )


def _params(e: OutboxEntry) -> tuple[Any, ...]:
    return (
        e.entry_id, e.mutation_id, e.table, e.op, e.row_id, e.base_version, dump(e.args),
        str(e.state), e.attempts, e.next_attempt_at,
        None if e.last_error is None else dump(e.last_error), e.created_at, e.window_started_at,
        e.window_attempts, e.requeues, e.outcome, e.base_mutation_id,
    )  # fmt: skip


class SQLiteOutbox:
    """Outbox methods of :class:`~directorstudio_client.storage.sqlite.SQLiteStorage`."""

    _conn: sqlite3.Connection
    _lock: threading.RLock

    if TYPE_CHECKING:  # provided by the store

        def transaction(self) -> AbstractContextManager[None]: ...

        def _changed(self, *keys: str) -> None: ...

        def get_meta(self, key: str) -> str | None: ...

        def set_meta(self, key: str, value: str) -> None: ...

    def _entries(self, sql: str, params: tuple[Any, ...] = ()) -> list[OutboxEntry]:
        with self._lock:
            return [_entry(r) for r in self._conn.execute(sql, params).fetchall()]

    def _index_rows(self, entry: OutboxEntry) -> None:
        self._conn.execute("DELETE FROM outbox_rows WHERE entry_id = ?", (entry.entry_id,))
        if entry.state == EntryState.DONE:
            return
        self._conn.executemany(
            "INSERT OR IGNORE INTO outbox_rows (table_name, row_id, entry_id, mutation_id)"
            " VALUES (?, ?, ?, ?)",
            [(entry.table, i, entry.entry_id, entry.mutation_id) for i in entry.touched_row_ids()],
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
            marks = ", ".join("?" for _ in range(17))
            self._conn.execute(f"INSERT INTO outbox ({COLUMNS}) VALUES ({marks})", _params(stored))
            self._index_rows(stored)
            self._changed("outbox")
            return stored

    def get_pending_sync_entries(self) -> list[OutboxEntry]:
        """Every entry not yet done (including dead ones), in mutation id order."""
        return self._entries(f"{_SELECT} WHERE state <> 'done' ORDER BY mutation_id")

    def get_sync_entry(self, entry_id: str) -> OutboxEntry | None:
        """One entry by id."""
        found = self._entries(f"{_SELECT} WHERE entry_id = ?", (entry_id,))
        return found[0] if found else None

    def update_sync_entry(self, entry: OutboxEntry) -> None:
        """Store an entry's new state."""
        params = _params(entry)
        with self.transaction():
            cursor = self._conn.execute(
                "UPDATE outbox SET mutation_id = ?, table_name = ?, op = ?, row_id = ?,"
                " base_version = ?, args = ?, state = ?, attempts = ?, next_attempt_at = ?,"
                " last_error = ?, created_at = ?, window_started_at = ?, window_attempts = ?,"
                " requeues = ?, outcome = ?, base_mutation_id = ? WHERE entry_id = ?",
                (*params[1:], params[0]),
            )
            if cursor.rowcount:
                self._index_rows(entry)
            self._changed("outbox")

    def remove_sync_entry(self, entry_id: str) -> None:
        """Delete an entry."""
        self.remove_sync_entries([entry_id])

    def remove_sync_entries(self, entry_ids: list[str]) -> None:
        """Delete these entries (two statements per 500 ids)."""
        with self.transaction():
            for chunk in _chunks(entry_ids):
                marks = ", ".join("?" for _ in chunk)
                self._conn.execute(f"DELETE FROM outbox WHERE entry_id IN ({marks})", chunk)
                self._conn.execute(f"DELETE FROM outbox_rows WHERE entry_id IN ({marks})", chunk)
            self._changed("outbox")

    def mark_in_flight(self, entry_ids: list[str]) -> None:
        """Set the state of these entries to ``in_flight`` (one statement per 500 ids; the rows
        they touch stay indexed, as an in-flight entry is still open)."""
        with self.transaction():
            for chunk in _chunks(entry_ids):
                marks = ", ".join("?" for _ in chunk)
                self._conn.execute(
                    f"UPDATE outbox SET state = ? WHERE entry_id IN ({marks})",
                    (str(EntryState.IN_FLIGHT), *chunk),
                )
            self._changed("outbox")

    # --- indexed lookups ---------------------------------------------------------------------
    def get_open_entries_for_row(self, table: str, row_id: str) -> list[OutboxEntry]:
        """The open entries that change a row's local view, in mutation order."""
        columns = ", ".join(f"o.{c.strip()}" for c in COLUMNS.split(","))
        return self._entries(
            f"SELECT {columns} FROM outbox_rows AS r JOIN outbox AS o USING (entry_id)"
            f" WHERE r.table_name = ? AND r.row_id = ? AND o.{_OPEN} ORDER BY r.mutation_id",
            (table, row_id),
        )

    def rows_with_open_entries(self, table: str, row_ids: list[str]) -> set[str]:
        """Those of ``row_ids`` that have open entries."""
        found: set[str] = set()
        with self._lock:
            for chunk in _chunks(row_ids):
                marks = ", ".join("?" for _ in chunk)
                found.update(
                    str(r[0])
                    for r in self._conn.execute(
                        "SELECT DISTINCT r.row_id FROM outbox_rows AS r JOIN outbox AS o"
                        f" USING (entry_id) WHERE r.table_name = ? AND r.row_id IN ({marks})"
                        f" AND o.{_OPEN}",
                        (table, *chunk),
                    )
                )
        return found

    def get_open_entries(self, limit: int, exclude: Collection[str] = ()) -> list[OutboxEntry]:
        """Up to ``limit`` open (not dead) entries, in mutation order, leaving out the entries
        whose ids are in ``exclude`` (a batch still awaiting its answer)."""
        skipped = list(exclude)
        marks = ", ".join("?" for _ in skipped)
        unless = f" AND entry_id NOT IN ({marks})" if skipped else ""
        # Left to itself, the planner reads every open entry through outbox_by_age and sorts
        # them; the partial index of open entries in mutation order reads only the first ones.
        return self._entries(
            f"SELECT {COLUMNS} FROM outbox INDEXED BY outbox_open"
            f" WHERE {_OPEN}{unless} ORDER BY mutation_id LIMIT ?",
            (*skipped, limit),
        )

    def get_dead_sync_entries(self) -> list[OutboxEntry]:
        """The dead-lettered entries, in mutation order."""
        return self._entries(f"{_SELECT} WHERE state = 'dead' ORDER BY mutation_id")

    def outbox_summary(self) -> OutboxSummary:
        """Counts by state, the oldest open entry's creation time, the last error, next retry."""
        with self._lock:
            conn = self._conn
            counts = {str(state): 0 for state in EntryState if state != EntryState.DONE}
            for state, count in conn.execute(
                "SELECT state, count(*) FROM outbox WHERE state <> 'done' GROUP BY state"
            ):
                counts[str(state)] = int(count)
            oldest = [
                conn.execute(
                    "SELECT min(created_at) FROM outbox WHERE state = ?", (str(state),)
                ).fetchone()[0]
                for state in sorted(OPEN_STATES)
            ]
            error = conn.execute(
                "SELECT last_error FROM outbox WHERE last_error IS NOT NULL AND state <> 'done'"
                " ORDER BY mutation_id DESC LIMIT 1"
            ).fetchone()
            retry = conn.execute(
                "SELECT min(next_attempt_at) FROM outbox WHERE state = 'retry_wait'"
            ).fetchone()[0]
        present = [o for o in oldest if o is not None]
        return OutboxSummary(
            counts=counts,
            oldest_open_created_at=min(present) if present else None,
            last_error=json.loads(error[0]) if error else None,
            next_retry_at=retry,
        )

    def oldest_open_created_at(self) -> float | None:
        """The creation time of the oldest open entry (``None`` when none is open): one
        index lookup per open state."""
        with self._lock:
            oldest = [
                self._conn.execute(
                    "SELECT min(created_at) FROM outbox WHERE state = ?", (str(state),)
                ).fetchone()[0]
                for state in sorted(OPEN_STATES)
            ]
        return min((float(o) for o in oldest if o is not None), default=None)

    def has_dead_entries(self) -> bool:
        """Whether any entry is dead-lettered (one index lookup)."""
        with self._lock:
            found = self._conn.execute(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE state = ?)", (str(EntryState.DEAD),)
            ).fetchone()
        return bool(found[0])


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
