"""Counts the SQL statements a SQLite store runs (``sqlite3`` trace callback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from directorstudio_client.storage import SQLiteStorage


@contextmanager
def statements(store: SQLiteStorage) -> Iterator[list[str]]:
    """Every statement the store executes inside the block, in order."""
    seen: list[str] = []
    conn = store._conn
    conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def full_outbox_reads(seen: list[str]) -> list[str]:
    """Statements that read outbox entries without a row, id or limit predicate."""
    return [
        s
        for s in seen
        if "FROM outbox" in s
        and s.lstrip().upper().startswith("SELECT")
        and not any(
            k in s for k in ("row_id = ", "row_id IN (", "entry_id = ", "LIMIT", "GROUP BY", "min(")
        )
        and "state = 'dead'" not in s
    ]
