"""What every store shares: pub/sub, the handoff's row methods and id remapping."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from directorstudio.contracts.tables import CLIP_JOBS, PROJECTS, SCENE_DRAFTS, SYNCED, synced_spec
from directorstudio_client.storage.models import (
    OPEN_STATES,
    CachedRow,
    ConflictRecord,
    EntryState,
    OutboxEntry,
    OutboxSummary,
    ProjectListRow,
    SceneListRow,
)
from directorstudio_client.storage.protocol import Listener, Unsubscribe


def row_id_of(table: str, row: dict[str, Any]) -> str:
    """The id of a row of ``table`` (its registry id column: ``project_id`` for projects)."""
    value = synced_spec(table).row_id(row)
    if value is None:
        raise ValueError(f"a {table} row needs its id")
    return value


def _live(cached: CachedRow) -> bool:
    return not cached.deleted and cached.row.get("deleted_at") is None


class StoreBase(ABC):
    """Pub/sub and the table-specific methods, on top of a few storage primitives."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = {}
        self._listener_lock = threading.Lock()
        self._lock = threading.RLock()
        self._depth = 0
        self._dirty: list[str] = []
        self._generation = 0

    # --- primitives the stores provide -----------------------------------------------------
    @abstractmethod
    def _rows(self, table: str) -> list[CachedRow]: ...

    @abstractmethod
    def get_row(self, table: str, row_id: str) -> CachedRow | None: ...

    @abstractmethod
    def _write_row(self, cached: CachedRow) -> None: ...

    @abstractmethod
    def _delete_row(self, table: str, row_id: str) -> None: ...

    @abstractmethod
    def get_pending_sync_entries(self) -> list[OutboxEntry]: ...

    @abstractmethod
    def update_sync_entry(self, entry: OutboxEntry) -> None: ...

    @abstractmethod
    def get_sync_entry(self, entry_id: str) -> OutboxEntry | None: ...

    @abstractmethod
    def remove_sync_entry(self, entry_id: str) -> None: ...

    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    # --- transactions and notifications ----------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._begin()
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._dirty.clear()
                    self._rollback()
                raise
            self._depth -= 1
            if not outermost:
                return
            self._commit()
            keys, self._dirty = list(dict.fromkeys(self._dirty)), []
            if keys:
                self._generation += 1
        for key in keys:
            self._notify(key)

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes atomically (nestable); notifications go out after the outermost one."""
        return self._transaction()

    def bulk_writes(self) -> AbstractContextManager[None]:
        """A stretch of many row writes; stores without secondary indexes have nothing to put
        off (see :meth:`SQLiteStorage.bulk_writes`)."""
        return nullcontext()

    @property
    def generation(self) -> int:
        """How many committed transactions changed something, plus the notifications sent
        outside one (grows before the notifications go out)."""
        return self._generation

    def _changed(self, *keys: str) -> None:
        self._dirty.extend(keys)

    def subscribe(self, key: str, callback: Listener) -> Unsubscribe:
        """Call ``callback(key)`` after each local change of ``key``."""
        with self._listener_lock:
            self._listeners.setdefault(key, []).append(callback)

        def unsubscribe() -> None:
            with self._listener_lock:
                listeners = self._listeners.get(key, [])
                if callback in listeners:
                    listeners.remove(callback)

        return unsubscribe

    def notify(self, key: str) -> None:
        """Tell the subscribers of ``key`` about a change kept outside the store (the sync
        loop's status: key ``sync``); deferred to the commit inside a transaction."""
        with self._lock:
            if self._depth:
                self._changed(key)
                return
            self._generation += 1
        self._notify(key)

    def _notify(self, key: str) -> None:
        if key not in self._listeners:  # a page of pulled rows has a key per row, most unheard
            return
        with self._listener_lock:
            listeners = list(self._listeners.get(key, []))
        for listener in listeners:
            listener(key)

    # --- rows --------------------------------------------------------------------------------
    def put_row(self, cached: CachedRow) -> None:
        """Store a cached row (local view, server row, version, tombstone)."""
        with self.transaction():
            self._write_row(cached)
            self._changed(cached.table, f"{cached.table}:{cached.id}")

    def put_rows(self, rows: list[CachedRow]) -> None:
        """Store many cached rows at once (one transaction)."""
        with self.transaction():
            for cached in rows:
                self.put_row(cached)

    def get_rows(self, table: str, row_ids: list[str]) -> dict[str, CachedRow]:
        """The cached rows among ``row_ids``, by id."""
        found = (self.get_row(table, row_id) for row_id in row_ids)
        return {c.id: c for c in found if c is not None}

    def server_versions(self, table: str, row_ids: list[str]) -> dict[str, int]:
        """The server version of each cached row among ``row_ids`` that has a server row."""
        rows = self.get_rows(table, row_ids)
        return {i: c.version for i, c in rows.items() if c.server_row is not None}

    # --- the outbox by row and in aggregate (stores override these with indexed lookups) ---
    def get_open_entries_for_row(self, table: str, row_id: str) -> list[OutboxEntry]:
        """The open entries that change a row's local view, in mutation order."""
        return [
            e
            for e in self.get_pending_sync_entries()
            if e.state in OPEN_STATES and e.table == table and row_id in e.touched_row_ids()
        ]

    def rows_with_open_entries(self, table: str, row_ids: list[str]) -> set[str]:
        """Those of ``row_ids`` that have open entries."""
        return {i for i in row_ids if self.get_open_entries_for_row(table, i)}

    def get_open_entries(self, limit: int, exclude: Collection[str] = ()) -> list[OutboxEntry]:
        """Up to ``limit`` open (not dead) entries, in mutation order, leaving out the entries
        whose ids are in ``exclude`` (a batch still awaiting its answer)."""
        skipped = frozenset(exclude)
        return [
            e
            for e in self.get_pending_sync_entries()
            if e.state in OPEN_STATES and e.entry_id not in skipped
        ][:limit]

    def mark_in_flight(self, entry_ids: list[str]) -> None:
        """Set the state of these entries to ``in_flight`` (nothing else of them changes)."""
        with self.transaction():
            for entry_id in entry_ids:
                entry = self.get_sync_entry(entry_id)
                if entry is not None:
                    entry.state = EntryState.IN_FLIGHT
                    self.update_sync_entry(entry)

    def remove_sync_entries(self, entry_ids: list[str]) -> None:
        """Delete these entries."""
        with self.transaction():
            for entry_id in entry_ids:
                self.remove_sync_entry(entry_id)

    def get_dead_sync_entries(self) -> list[OutboxEntry]:
        """The dead-lettered entries, in mutation order."""
        return [e for e in self.get_pending_sync_entries() if e.state == EntryState.DEAD]

    def outbox_summary(self) -> OutboxSummary:
        """Counts by state, the oldest open entry's creation time, the last error, next retry."""
        entries = self.get_pending_sync_entries()
        counts = {str(state): 0 for state in EntryState if state != EntryState.DONE}
        for e in entries:
            counts[str(e.state)] += 1
        opened = [e.created_at for e in entries if e.state in OPEN_STATES]
        errors = [e.last_error for e in entries if e.last_error]
        retries = [
            e.next_attempt_at
            for e in entries
            if e.state == EntryState.RETRY_WAIT and e.next_attempt_at is not None
        ]
        return OutboxSummary(
            counts=counts,
            oldest_open_created_at=min(opened, default=None),
            last_error=errors[-1] if errors else None,
            next_retry_at=min(retries, default=None),
        )

    def oldest_open_created_at(self) -> float | None:
        """The creation time of the oldest open entry (``None`` when none is open)."""
        return self.outbox_summary().oldest_open_created_at

    def has_dead_entries(self) -> bool:
        """Whether any entry is dead-lettered."""
        return bool(self.get_dead_sync_entries())

    def get_conflict_for_row(self, table: str, row_id: str) -> ConflictRecord | None:
        """The open conflict of a row, if any."""
        return next((c for c in self.get_conflicts() if (c.table, c.id) == (table, row_id)), None)

    @abstractmethod
    def get_conflicts(self) -> list[ConflictRecord]: ...

    def _upsert_local(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        row_id = row_id_of(table, row)
        with self.transaction():
            cached = self.get_row(table, row_id) or CachedRow(table=table, id=row_id, row={})
            cached.row = {**cached.row, **row}
            self.put_row(cached)
            return dict(cached.row)

    def upsert_project_overview(self, row: dict[str, Any]) -> dict[str, Any]:
        """Write a project locally (the local view; the server row is untouched)."""
        return self._upsert_local(PROJECTS.name, row)

    def upsert_scene_draft(self, row: dict[str, Any]) -> dict[str, Any]:
        """Write a scene draft locally."""
        return self._upsert_local(SCENE_DRAFTS.name, row)

    def upsert_clip_job(self, row: dict[str, Any]) -> dict[str, Any]:
        """Write a clip job locally."""
        return self._upsert_local(CLIP_JOBS.name, row)

    def mark_scene_draft_archived(self, scene_id: str) -> None:
        """Archive a scene draft locally."""
        with self.transaction():
            cached = self.get_row(SCENE_DRAFTS.name, scene_id)
            if cached is None:
                raise KeyError(scene_id)
            cached.row["archived"] = True
            self.put_row(cached)

    def get_project_overviews(
        self, user_id: str, *, include_archived: bool = False
    ) -> list[dict[str, Any]]:
        """The user's live projects, most recently updated first."""
        rows = [
            c.row
            for c in self._rows(PROJECTS.name)
            if _live(c)
            and str(c.row.get("user_id")) == user_id
            and (include_archived or not c.row.get("archived"))
        ]
        rows.sort(key=lambda r: str(r.get("last_updated") or ""), reverse=True)
        return [dict(r) for r in rows]

    def get_scene_drafts(self, project_id: str) -> list[dict[str, Any]]:
        """A project's live scene drafts in order."""
        rows = [
            c.row
            for c in self._rows(SCENE_DRAFTS.name)
            if _live(c) and str(c.row.get("project_id")) == project_id and not c.row.get("archived")
        ]
        rows.sort(key=lambda r: (int(r.get("order_index") or 0), str(r.get("created_at") or "")))
        return [dict(r) for r in rows]

    def list_projects(
        self, user_id: str, *, include_archived: bool = False
    ) -> list[ProjectListRow]:
        """The library's rows: the user's live projects, most recently updated first."""
        views = self.get_project_overviews(user_id, include_archived=include_archived)
        return [ProjectListRow.of(r) for r in views]

    def list_scenes(self, project_id: str) -> list[SceneListRow]:
        """The scene editor's rows: a project's live scene drafts in order."""
        return [SceneListRow.of(r) for r in self.get_scene_drafts(project_id)]

    def get_clip_jobs(self, user_id: str) -> list[dict[str, Any]]:
        """The user's clip jobs, newest first."""
        rows = [
            c.row
            for c in self._rows(CLIP_JOBS.name)
            if _live(c) and str(c.row.get("user_id")) == user_id
        ]
        rows.sort(key=lambda r: str(r.get("submitted_at") or ""), reverse=True)
        return [dict(r) for r in rows]

    def remap_id(self, table: str, old_id: str, new_id: str) -> None:
        """Replace a local id by the one the server assigned, in rows and open outbox entries."""
        spec = synced_spec(table)
        id_column, reference_keys = spec.id_column, spec.referenced_as
        with self.transaction():
            cached = self.get_row(table, old_id)
            if cached is not None:
                self._delete_row(table, old_id)
                cached.id = new_id
                cached.row[id_column] = new_id
                if cached.server_row is not None:
                    cached.server_row[id_column] = new_id
                self.put_row(cached)
            for other_table in (t.name for t in SYNCED if t is not spec):
                for row in self._rows(other_table):
                    if any(row.row.get(k) == old_id for k in reference_keys):
                        for key in reference_keys:
                            if row.row.get(key) == old_id:
                                row.row[key] = new_id
                        self.put_row(row)
            for entry in self.get_pending_sync_entries():
                if entry.state not in OPEN_STATES:
                    continue
                changed = False
                if entry.table == table and entry.row_id == old_id:
                    entry.row_id = new_id
                    changed = True
                for key in (*reference_keys, "row_id"):
                    if entry.args.get(key) == old_id:
                        entry.args[key] = new_id
                        changed = True
                ordered = entry.args.get("ordered_ids")
                if isinstance(ordered, list) and old_id in ordered:
                    entry.args["ordered_ids"] = [new_id if i == old_id else i for i in ordered]
                    changed = True
                if changed:
                    self.update_sync_entry(entry)
            self._changed(table, "outbox")
