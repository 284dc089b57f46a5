"""The durable local store: one SQLite file in WAL mode, its tables mirroring the server's."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from directorstudio.contracts.tables import SYNCED, synced_spec
from directorstudio_client.storage.base import StoreBase
from directorstudio_client.storage.models import (
    CachedRow,
    ConflictRecord,
    ProjectListRow,
    SceneListRow,
    TelemetryRecord,
)
from directorstudio_client.storage.sqlite_lists import (
    DETECT_TYPES,
    PROJECT_LIST,
    SCENE_LIST,
    reader,
)
from directorstudio_client.storage.sqlite_outbox import SQLiteOutbox, _chunks
from directorstudio_client.storage.sqlite_rows import (
    all_columns,
    decode,
    dump,
    encode,
    insert_sql,
    row_encoder,
    view_columns,
    view_decoder,
)
from directorstudio_client.storage.sqlite_schema import migrate, secondary_indexes

_TELEMETRY_COLUMNS = (
    "event_id", "element", "attempts", "successes", "day", "created_at", "batch_id"
)  # fmt: skip
_LIVE = "_deleted = 0 AND deleted_at IS NULL"
STRETCH_CHECKPOINT_PAGES = 16384
"""WAL pages between checkpoints in a stretch of bulk writes (64 MiB of 4 KiB pages; SQLite
checkpoints every 1,000 otherwise): the WAL stays bounded however long the stretch."""


def _conflict(r: tuple[Any, ...]) -> ConflictRecord:
    return ConflictRecord(
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


class SQLiteStorage(SQLiteOutbox, StoreBase):
    """``LocalStorageService`` on one SQLite file (WAL); reopening the file restores everything.

    Opening a file written by an earlier release migrates it (rows, outbox, cursor, conflicts
    and telemetry are kept); see :mod:`directorstudio_client.storage.sqlite_schema`.
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        if str(path) == ":memory:" or not str(path):
            raise ValueError("SQLiteStorage needs a file path so the outbox survives restarts")
        self.path = Path(path)
        self._conn = sqlite3.connect(
            str(self.path),
            isolation_level=None,
            check_same_thread=False,
            timeout=30,
            detect_types=DETECT_TYPES,
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self.transaction():
            migrate(self._conn, self._migrated_row)

    def _migrated_row(
        self,
        table: str,
        row_id: str,
        version: int,
        deleted: bool,
        row: dict[str, Any],
        server_row: dict[str, Any] | None,
    ) -> None:
        self._write_row(CachedRow(table, row_id, row, server_row, version, deleted))

    # --- transactions --------------------------------------------------------------------------
    def _begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def bulk_writes(self) -> AbstractContextManager[None]:
        """A stretch of many row writes (a long pull): the list and query indexes of the tables
        empty at its start are dropped and built once at its end, and the WAL is checkpointed
        every :data:`STRETCH_CHECKPOINT_PAGES` pages instead of every 1,000, then at the end.

        Inserting rows in id order into a table whose covering list index is keyed by another
        id writes that index at random places: twice the work of the rows themselves and four
        times the pages each commit writes to the WAL; building it at the end is one sort. A
        checkpoint copies the pages of the WAL into the file and syncs it; during a stretch
        the same index and table pages would be copied again every few pages. The rows and the
        cursor are committed page by page as before, so an interrupted stretch loses nothing:
        the indexes come back and the WAL is checkpointed at its end, also by an error, or when
        the file is opened again after a crash (SQLite recovers the WAL and
        :func:`~directorstudio_client.storage.sqlite_schema.migrate` creates every missing
        index)."""
        return self._bulk_stretch()

    @contextmanager
    def _bulk_stretch(self) -> Iterator[None]:
        with self._lock:
            (every,) = self._conn.execute("PRAGMA wal_autocheckpoint").fetchone()
            if 0 < every < STRETCH_CHECKPOINT_PAGES:
                self._conn.execute(f"PRAGMA wal_autocheckpoint = {STRETCH_CHECKPOINT_PAGES}")
        try:
            with self._indexes_deferred():
                yield
        finally:
            with self._lock:
                self._conn.execute(f"PRAGMA wal_autocheckpoint = {int(every)}")
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    @contextmanager
    def _indexes_deferred(self) -> Iterator[None]:
        deferred: list[str] = []
        with self.transaction():
            for spec in SYNCED:
                if self._query(f"SELECT 1 FROM {spec.name} LIMIT 1"):
                    continue
                for name, create in secondary_indexes(spec).items():
                    self._conn.execute(f"DROP INDEX IF EXISTS {name}")
                    deferred.append(create)
        try:
            yield
        finally:
            if deferred:
                with self.transaction():
                    for create in deferred:
                        self._conn.execute(create)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self.transaction():
            self._conn.execute(sql, params)

    # --- rows ------------------------------------------------------------------------------------
    def _rows(self, table: str) -> list[CachedRow]:
        spec = synced_spec(table)
        records = self._query(f"SELECT {', '.join(all_columns(spec))} FROM {spec.name}")
        return [decode(spec, r) for r in records]

    def get_row(self, table: str, row_id: str) -> CachedRow | None:
        """A cached row with its server state, or ``None``."""
        spec = synced_spec(table)
        records = self._query(
            f"SELECT {', '.join(all_columns(spec))} FROM {spec.name} WHERE {spec.id_column} = ?",
            (row_id,),
        )
        return decode(spec, records[0]) if records else None

    def _by_ids(
        self, table: str, columns: str, row_ids: list[str], condition: str = ""
    ) -> Iterator[tuple[Any, ...]]:
        """The records (``columns``) of the cached rows among ``row_ids`` that meet
        ``condition``, one query per 500 ids."""
        spec = synced_spec(table)
        for chunk in _chunks(row_ids):
            marks = ", ".join("?" for _ in chunk)
            yield from self._query(
                f"SELECT {columns} FROM {spec.name} WHERE {spec.id_column} IN ({marks}){condition}",
                tuple(chunk),
            )

    def get_rows(self, table: str, row_ids: list[str]) -> dict[str, CachedRow]:
        """The cached rows among ``row_ids``, by id (one query per 500 ids)."""
        spec = synced_spec(table)
        records = self._by_ids(table, ", ".join(all_columns(spec)), row_ids)
        found = (decode(spec, record) for record in records)
        return {cached.id: cached for cached in found}

    def server_versions(self, table: str, row_ids: list[str]) -> dict[str, int]:
        """The server version of each cached row among ``row_ids`` that has a server row (one
        query per 500 ids, no row decoded)."""
        columns = f"{synced_spec(table).id_column}, _server_version"
        return dict(self._by_ids(table, columns, row_ids, " AND _server_row IS NOT NULL"))

    def _write_row(self, cached: CachedRow) -> None:
        spec = synced_spec(cached.table)
        self._exec(insert_sql(spec), encode(spec, cached))

    def put_rows(self, rows: list[CachedRow]) -> None:
        """Store many cached rows in one transaction, one ``executemany`` per table."""
        by_table: dict[str, list[CachedRow]] = {}
        for cached in rows:
            by_table.setdefault(cached.table, []).append(cached)
        with self.transaction():
            for table, cached_rows in by_table.items():
                spec = synced_spec(table)
                encode_row = row_encoder(spec)
                self._conn.executemany(insert_sql(spec), [encode_row(c) for c in cached_rows])
                self._changed(table, *(f"{table}:{c.id}" for c in cached_rows))

    def _delete_row(self, table: str, row_id: str) -> None:
        spec = synced_spec(table)
        self._exec(f"DELETE FROM {spec.name} WHERE {spec.id_column} = ?", (row_id,))

    def _views(self, table: str, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        spec = synced_spec(table)
        records = self._query(f"SELECT {view_columns(spec)} FROM {spec.name} {where}", params)
        decode_record = view_decoder(spec)
        return [decode_record(r) for r in records]

    def get_project_overviews(
        self, user_id: str, *, include_archived: bool = False
    ) -> list[dict[str, Any]]:
        """The user's live projects, most recently updated first."""
        archived = "" if include_archived else " AND coalesce(archived, 0) = 0"
        return self._views(
            "project_overview",
            f"WHERE user_id = ? AND {_LIVE}{archived} ORDER BY last_updated DESC",
            (user_id,),
        )

    def get_scene_drafts(self, project_id: str) -> list[dict[str, Any]]:
        """A project's live scene drafts in order."""
        return self._views(
            "scene_drafts",
            f"WHERE project_id = ? AND {_LIVE} AND coalesce(archived, 0) = 0"
            " ORDER BY coalesce(order_index, 0), coalesce(created_at, '')",
            (project_id,),
        )

    def list_projects(
        self, user_id: str, *, include_archived: bool = False
    ) -> list[ProjectListRow]:
        """The library's rows: the user's live projects, most recently updated first (read from
        the covering list index, one typed row per record)."""
        read = reader(PROJECT_LIST, include_archived)
        with self._lock:
            return read(self._conn, user_id)

    def list_scenes(self, project_id: str) -> list[SceneListRow]:
        """The scene editor's rows: a project's live scene drafts in order (covering index)."""
        read = reader(SCENE_LIST)
        with self._lock:
            return read(self._conn, project_id)

    def get_clip_jobs(self, user_id: str) -> list[dict[str, Any]]:
        """The user's clip jobs, newest first."""
        return self._views(
            "clip_jobs", f"WHERE user_id = ? AND {_LIVE} ORDER BY submitted_at DESC", (user_id,)
        )

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
                    dump(conflict.local),
                    dump(conflict.remote),
                    dump(conflict.diff_fields),
                    dump(conflict.resolution_choices),
                    conflict.remote_version,
                    conflict.created_at,
                ),
            )
            self._changed("conflicts")

    def get_conflicts(self) -> list[ConflictRecord]:
        """Open conflicts, oldest first."""
        records = self._query("SELECT * FROM conflict_inbox ORDER BY created_at, conflict_id")
        return [_conflict(r) for r in records]

    def get_conflict_for_row(self, table: str, row_id: str) -> ConflictRecord | None:
        """The open conflict of a row, if any."""
        records = self._query(
            "SELECT * FROM conflict_inbox WHERE table_name = ? AND row_id = ?", (table, row_id)
        )
        return _conflict(records[0]) if records else None

    def remove_conflict(self, conflict_id: str) -> None:
        """Take a resolved conflict out of the inbox."""
        self._exec("DELETE FROM conflict_inbox WHERE conflict_id = ?", (conflict_id,))
        self._changed("conflicts")

    def add_telemetry(self, record: TelemetryRecord) -> None:
        """Buffer one telemetry increment."""
        # getattr, not dataclasses.asdict (a deep copy of every record).
        self._exec(
            "INSERT INTO telemetry_buffer VALUES (?, ?, ?, ?, ?, ?, ?)",
            tuple(getattr(record, k) for k in _TELEMETRY_COLUMNS),
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
