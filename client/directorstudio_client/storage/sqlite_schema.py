"""The SQLite cache's schema, its version, and the migrations that bring an older file up to it.

Version 1 (the first release) kept each synced row as JSON; version 2 mirrors the server tables:
one table per synced table with a real column per registry field, the app's query indexes, and
an outbox indexed by state, next attempt, mutation id and by the rows each entry touches.
Version 3 serves the library and the scene editor from covering partial indexes over the live
rows (:mod:`directorstudio_client.storage.sqlite_lists`) in place of version 2's plain ones.
``PRAGMA user_version`` holds the version; a file is migrated in one transaction when opened.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from directorstudio.contracts.tables import SYNCED, TableSpec
from directorstudio_client.storage.models import OPEN_STATES
from directorstudio_client.storage.sqlite_lists import LISTS, SUPERSEDED_INDEXES, list_tables

SCHEMA_VERSION = 3
_SQL_TYPES = {"text": "TEXT", "integer": "INTEGER", "real": "REAL", "boolean": "INTEGER"}
OPEN_STATE_LIST = ", ".join(f"'{s}'" for s in sorted(OPEN_STATES))

# Bookkeeping columns of a cached row, next to its fields (the local view).
ROW_META = ("_server_version", "_deleted", "_server_row", "_extra")


def row_table_ddl(spec: TableSpec) -> list[str]:
    """The cache table mirroring one synced table, with the indexes of the app's queries (a
    table with a list read gets its covering list index instead of the registry's plain one)."""
    columns = [
        f"{f.name} {_SQL_TYPES[f.type]}{' PRIMARY KEY' if f.name == spec.id_column else ''}"
        for f in spec.fields
    ]
    statements = [
        f"CREATE TABLE IF NOT EXISTS {spec.name} ({', '.join(columns)},"
        " _server_version INTEGER NOT NULL DEFAULT 0, _deleted INTEGER NOT NULL DEFAULT 0,"
        " _server_row TEXT, _extra TEXT)"
    ]
    if spec.name not in list_tables():
        statements.extend(secondary_indexes(spec).values())
    return statements


def secondary_indexes(spec: TableSpec) -> dict[str, str]:
    """The indexes of a cache table besides its primary key, each name with the statement that
    creates it: the table's covering list index, else the registry's plain indexes."""
    lists = {read.index_name: read.index_ddl() for read in LISTS if read.table == spec.name}
    if lists:
        return lists
    return {
        f"{spec.name}_by_{'_'.join(index)}": f"CREATE INDEX IF NOT EXISTS {spec.name}_by_"
        f"{'_'.join(index)} ON {spec.name} ({', '.join(index)})"
        for index in spec.indexes
    }


_OUTBOX = [
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
        outcome TEXT,
        base_mutation_id INTEGER
    )""",
]
_OUTBOX_INDEXES = [
    "DROP INDEX IF EXISTS outbox_state",
    "CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox (state, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS outbox_by_age ON outbox (state, created_at)",
    f"CREATE INDEX IF NOT EXISTS outbox_open ON outbox (mutation_id)"
    f" WHERE state IN ({OPEN_STATE_LIST})",
    "CREATE INDEX IF NOT EXISTS outbox_errors ON outbox (mutation_id) WHERE last_error IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS outbox_rows (
        table_name TEXT NOT NULL,
        row_id TEXT NOT NULL,
        entry_id TEXT NOT NULL,
        mutation_id INTEGER NOT NULL,
        PRIMARY KEY (table_name, row_id, mutation_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS outbox_rows_by_entry ON outbox_rows (entry_id)",
]
_OTHER = [
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


def current_schema() -> list[str]:
    """Every statement of the current schema (each safe to run again)."""
    rows = [s for spec in SYNCED for s in row_table_ddl(spec)]
    lists = [
        *(f"DROP INDEX IF EXISTS {name}" for name in SUPERSEDED_INDEXES),
        *(read.index_ddl() for read in LISTS),
    ]
    return [*rows, *lists, *_OUTBOX, *_OUTBOX_INDEXES, *_OTHER]


RowWriter = Callable[[str, str, int, bool, dict[str, object], dict[str, object] | None], None]


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})").fetchall()}


def migrate(conn: sqlite3.Connection, write_row: RowWriter) -> None:
    """Bring the open file to :data:`SCHEMA_VERSION` (inside the caller's transaction).

    ``write_row(table, id, version, deleted, row, server_row)`` stores one cached row in the
    current layout; it is used to carry the JSON rows of a version 1 file over.
    """
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"the cache was written by a newer release (schema {version})")
    legacy: dict[str, list[tuple[str, int, int, str, str | None]]] = {}
    for spec in SYNCED:
        if "row" in _columns(conn, spec.name) and "_server_row" not in _columns(conn, spec.name):
            legacy[spec.name] = conn.execute(
                f"SELECT id, version, deleted, row, server_row FROM {spec.name}"
            ).fetchall()
            conn.execute(f"DROP TABLE {spec.name}")
    outbox_columns = _columns(conn, "outbox")
    if outbox_columns and "base_mutation_id" not in outbox_columns:
        conn.execute("ALTER TABLE outbox ADD COLUMN base_mutation_id INTEGER")
    had_touch_index = bool(_columns(conn, "outbox_rows"))
    for statement in current_schema():
        conn.execute(statement)
    for table, records in legacy.items():
        for row_id, row_version, deleted, row, server_row in records:
            server = json.loads(server_row) if server_row is not None else None
            write_row(table, row_id, row_version, bool(deleted), json.loads(row), server)
    if outbox_columns and not had_touch_index:
        _index_open_entries(conn)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _index_open_entries(conn: sqlite3.Connection) -> None:
    records = conn.execute(
        "SELECT entry_id, mutation_id, table_name, op, row_id, args FROM outbox"
        " WHERE state <> 'done'"
    ).fetchall()
    for entry_id, mutation_id, table, op, row_id, args in records:
        ids = [row_id]
        if op == "reorder":
            ids.extend(str(i) for i in json.loads(args).get("ordered_ids", []))
        conn.executemany(
            "INSERT OR IGNORE INTO outbox_rows (table_name, row_id, entry_id, mutation_id)"
            " VALUES (?, ?, ?, ?)",
            [(table, i, entry_id, mutation_id) for i in dict.fromkeys(ids)],
        )
