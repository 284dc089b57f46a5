"""Optimistic local writes: change the cache, queue the mutation, hand back a handle."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.sync import MutationResult
from directorstudio.contracts.tables import (
    CLIP_JOBS,
    CONTINUITY_LOGS,
    PROJECTS,
    SCENE_DRAFTS,
    SCREENPLAY_SECTIONS,
    SCREENPLAYS,
    TABLES,
    table_spec,
)
from directorstudio_client.clock import Clock
from directorstudio_client.storage.models import CachedRow, ConflictRecord, EntryState, OutboxEntry
from directorstudio_client.storage.protocol import Storage
from directorstudio_client.sync import ops
from directorstudio_client.sync.reconcile import Reconciler
from directorstudio_client.telemetry import TelemetryEmitter


@dataclass(frozen=True)
class SyncHandle:
    """A queued write: ``future`` resolves with the server's result on confirmation (or a
    conflict) and fails with :class:`DirectorStudioError` when the write is rejected."""

    entry_id: str
    row_id: str
    future: Future[MutationResult]

    def result(self, timeout: float | None = None) -> MutationResult:
        """Wait for the server's verdict."""
        return self.future.result(timeout)

    def done(self) -> bool:
        """Whether the server has answered."""
        return self.future.done()


def fold_into_last(earlier: list[OutboxEntry], op: str, args: dict[str, Any]) -> OutboxEntry | None:
    """The row's last entry with a new edit folded into it, or ``None`` when it cannot take it.

    Only an entry that was never sent may change (one that was sent may already be applied
    under its mutation id, and a replay would answer with that result). Then an edit of the
    same kind replaces or merges into it (rename, update, reorder, upsert), a repeat of an
    idempotent one (archive, delete, cancel) is the entry itself, an update or rename merges
    into the row's create. So a row edited many times offline keeps one entry, and its view is
    rebuilt from that entry alone."""
    if not earlier:
        return None
    last = earlier[-1]
    if last.state != EntryState.PENDING or last.attempts > 0:
        return None
    kinds = (last.op, op)
    if kinds == ("update", "update"):
        last.args = {"patch": {**last.args.get("patch", {}), **args["patch"]}}
    elif kinds == ("create", "update"):
        last.args = {**last.args, **args["patch"]}
    elif kinds in (("rename", "rename"), ("upsert", "rename"), ("duplicate", "rename")):
        last.args = {**last.args, "title": args["title"]}
    elif kinds == ("reorder", "reorder"):
        last.args = dict(args)
    elif kinds == ("upsert", "upsert"):
        last.args = {**last.args, **args}
    elif kinds not in (("archive", "archive"), ("delete", "delete"), ("cancel", "cancel")):
        return None
    return last


class LocalWrites:
    """The write API of :class:`~directorstudio_client.sync.service.SyncService`."""

    storage: Storage
    clock: Clock
    user_id: str
    reconciler: Reconciler
    telemetry: TelemetryEmitter
    _wake: threading.Event

    def _future(self, entry_id: str) -> Future[MutationResult]:
        raise NotImplementedError

    # --- the one write path -------------------------------------------------------------------
    def _write(
        self,
        table: str,
        op: str,
        row_id: str,
        args: dict[str, Any],
        *,
        base_version: int | None = None,
        coalesce: bool = True,
    ) -> SyncHandle:
        with self.storage.transaction():
            earlier = [e for e in self.reconciler.open_for(table, row_id) if e.row_id == row_id]
            before = ops.touched_rows(earlier[-1]) if earlier else []
            entry = fold_into_last(earlier, op, args) if coalesce else None
            if entry is not None:
                self.storage.update_sync_entry(entry)
            else:
                before = []
                entry = self.storage.enqueue_sync(
                    OutboxEntry(
                        entry_id=str(uuid.uuid4()),
                        table=table,
                        op=op,
                        row_id=row_id,
                        args=args,
                        base_version=base_version,
                        created_at=self.clock.now(),
                        base_mutation_id=earlier[-1].mutation_id if earlier else None,
                    )
                )
            if table_spec(table).synced:
                for target in dict.fromkeys([*ops.touched_rows(entry), *before]):
                    if self.storage.get_row(table, target) is None:
                        self.storage.put_row(CachedRow(table=table, id=target, row={}))
                    self.reconciler.rebuild(table, target)
        handle = SyncHandle(entry.entry_id, row_id, self._future(entry.entry_id))
        self._wake.set()
        return handle

    def _base_version(self, table: str, row_id: str) -> int:
        cached = self.storage.get_row(table, row_id)
        if cached is None:
            raise DirectorStudioError(f"no {table} row {row_id}", code=ErrorCode.NOT_FOUND)
        return cached.version or 1

    # --- projects ------------------------------------------------------------------------------
    def create_project(self, title: str | None = None, project_id: str | None = None) -> SyncHandle:
        """Create a project locally now and on the server when online."""
        project_id = project_id or str(uuid.uuid4())
        self.telemetry.emit("create_initiated")
        return self._write(PROJECTS.name, "upsert", project_id, {"title": title})

    def rename_project(self, project_id: str, title: str) -> SyncHandle:
        """Rename a project."""
        base = self._base_version(PROJECTS.name, project_id)
        return self._write(PROJECTS.name, "rename", project_id, {"title": title}, base_version=base)

    def archive_project(self, project_id: str) -> SyncHandle:
        """Archive a project."""
        return self._write(PROJECTS.name, "archive", project_id, {})

    def duplicate_project(
        self, source_project_id: str, title: str | None = None, new_project_id: str | None = None
    ) -> SyncHandle:
        """Copy a project with its live scenes (the scenes arrive with the next pull)."""
        new_project_id = new_project_id or str(uuid.uuid4())
        args = {"source_project_id": source_project_id, "title": title}
        return self._write(PROJECTS.name, "duplicate", new_project_id, args)

    # --- scene drafts --------------------------------------------------------------------------
    def create_scene_draft(
        self,
        project_id: str,
        prompt_text: str,
        duration: float,
        *,
        scene_type: str | None = None,
        shot_type: str | None = None,
        order_index: int | None = None,
        scene_id: str | None = None,
    ) -> SyncHandle:
        """Create a scene draft locally (appended unless an index is given)."""
        scene_id = scene_id or str(uuid.uuid4())
        if order_index is None:
            order_index = len(self.storage.get_scene_drafts(project_id))
        self.telemetry.emit("create_initiated")
        args = {
            "project_id": project_id,
            "prompt_text": prompt_text,
            "duration": duration,
            "scene_type": scene_type,
            "shot_type": shot_type,
            "order_index": order_index,
        }
        return self._write(SCENE_DRAFTS.name, "create", scene_id, args)

    def update_scene_draft(self, scene_id: str, patch: dict[str, Any]) -> SyncHandle:
        """Change some fields of a scene draft; only those fields are sent."""
        unknown = set(patch) - set(ops.SCENE_PATCH_FIELDS)
        if unknown:
            raise DirectorStudioError(
                f"scene drafts have no editable field {sorted(unknown)[0]}",
                code=ErrorCode.INVALID_INPUT,
            )
        base = self._base_version(SCENE_DRAFTS.name, scene_id)
        return self._write(
            SCENE_DRAFTS.name, "update", scene_id, {"patch": dict(patch)}, base_version=base
        )

    def delete_scene_draft(self, scene_id: str) -> SyncHandle:
        """Soft-delete a scene draft (archived, tombstoned on the server)."""
        return self._write(SCENE_DRAFTS.name, "delete", scene_id, {})

    def reorder_scene_drafts(self, project_id: str, ordered_ids: list[str]) -> SyncHandle:
        """Put a project's scenes in the given order."""
        args = {"project_id": project_id, "ordered_ids": [str(i) for i in ordered_ids]}
        return self._write(SCENE_DRAFTS.name, "reorder", project_id, args)

    # --- clip jobs -----------------------------------------------------------------------------
    def submit_clip_job(
        self,
        prompt: str,
        *,
        user_key: str | None = None,
        project_id: str | None = None,
        scene_draft_id: str | None = None,
        job_id: str | None = None,
    ) -> SyncHandle:
        """Queue a clip render (charged on the server when it arrives)."""
        job_id = job_id or str(uuid.uuid4())
        self.telemetry.emit("clip_job_submitted")
        args = {
            "user_key": user_key or self.user_id,
            "prompt": prompt,
            "project_id": project_id,
            "scene_draft_id": scene_draft_id,
        }
        return self._write(CLIP_JOBS.name, "enqueue", job_id, args)

    def cancel_clip_job(self, job_id: str) -> SyncHandle:
        """Cancel a queued or processing clip job (refunded on the server)."""
        return self._write(CLIP_JOBS.name, "cancel", job_id, {})

    # --- the handoff's generic entry points ------------------------------------------------------
    def enqueue_remote_upsert(self, table: str, record: dict[str, Any]) -> SyncHandle:
        """Queue a create-or-update of ``record`` (only fields that differ are sent)."""
        spec = TABLES.get(table)
        if spec is None or not spec.synced:
            raise DirectorStudioError(f"{table} is not synced", code=ErrorCode.INVALID_INPUT)
        row_id = spec.row_id(record) or ""
        if not row_id:
            raise DirectorStudioError("the record needs its id", code=ErrorCode.INVALID_INPUT)
        cached = self.storage.get_row(table, row_id)
        entries = self.reconciler.open_for(table, row_id)
        creating = any(e.op in ("create", "upsert", "duplicate") for e in entries)
        on_server = cached is not None and (cached.server_row is not None or creating)
        if table == PROJECTS.name:
            if on_server:
                return self.rename_project(row_id, str(record.get("title")))
            return self.create_project(record.get("title"), row_id)
        if table == SCENE_DRAFTS.name:
            if not on_server or cached is None:
                return self.create_scene_draft(
                    str(record["project_id"]),
                    str(record["prompt_text"]),
                    float(record["duration"]),
                    scene_type=record.get("scene_type"),
                    shot_type=record.get("shot_type"),
                    order_index=record.get("order_index"),
                    scene_id=row_id,
                )
            # Compare with what the server will hold once the queue drains, not with the local
            # view (the app may already have written the record into the cache).
            expected = ops.overlay(cached.server_row, entries, table, row_id) or {}
            patch = {
                k: record[k]
                for k in ops.SCENE_PATCH_FIELDS
                if k in record and record[k] != expected.get(k)
            }
            return self.update_scene_draft(row_id, patch)
        if table == CLIP_JOBS.name:
            return self.submit_clip_job(
                str(record["prompt"]),
                user_key=record.get("user_key"),
                project_id=record.get("project_id"),
                scene_draft_id=record.get("scene_draft_id"),
                job_id=row_id,
            )
        if table in (SCREENPLAYS.name, SCREENPLAY_SECTIONS.name):
            allowed = ops.SCREENPLAY_FIELDS if table == SCREENPLAYS.name else ops.SECTION_FIELDS
            args = {k: record[k] for k in allowed if k in record}
            base = cached.version if cached is not None and cached.version else None
            return self._write(table, "upsert", row_id, args, base_version=base)
        raise DirectorStudioError(f"{table} is not synced", code=ErrorCode.INVALID_INPUT)

    def enqueue_remote_delete(self, table: str, row_id: str) -> SyncHandle:
        """Queue the removal of a row (soft delete, archive for projects, cancel for clips)."""
        if table == SCENE_DRAFTS.name:
            return self.delete_scene_draft(row_id)
        if table == PROJECTS.name:
            return self.archive_project(row_id)
        if table == CLIP_JOBS.name:
            return self.cancel_clip_job(row_id)
        if table in (SCREENPLAYS.name, SCREENPLAY_SECTIONS.name):
            return self._write(table, "delete", row_id, {})
        raise DirectorStudioError(f"{table} is not synced", code=ErrorCode.INVALID_INPUT)

    # --- conflicts -----------------------------------------------------------------------------
    def conflicts(self) -> list[ConflictRecord]:
        """Open conflicts (``to_event()`` gives the wire shape)."""
        return self.storage.get_conflicts()

    def resolve_conflict(
        self, conflict_id: str, resolution: str, choices: dict[str, str] | None = None
    ) -> SyncHandle:
        """Resolve with ``keep_local``, ``keep_remote`` or ``merge`` (``choices`` maps each
        differing field to ``"local"`` or ``"remote"``). The chosen values are pushed as an
        update based on the remote version, and the resolution is logged in continuity_logs.
        Returns the handle of the log entry (pushed after the update)."""
        conflict = next((c for c in self.conflicts() if c.conflict_id == conflict_id), None)
        if conflict is None:
            raise DirectorStudioError(f"no open conflict {conflict_id}", code=ErrorCode.NOT_FOUND)
        if resolution == "keep_local":
            chosen = list(conflict.diff_fields)
        elif resolution == "keep_remote":
            chosen = []
        elif resolution == "merge":
            choices = choices or {}
            missing = [f for f in conflict.diff_fields if choices.get(f) not in ("local", "remote")]
            if missing:
                raise DirectorStudioError(
                    f"choose local or remote for {missing[0]}", code=ErrorCode.INVALID_INPUT
                )
            chosen = [f for f in conflict.diff_fields if choices[f] == "local"]
        else:
            raise DirectorStudioError(
                f"unknown resolution {resolution}", code=ErrorCode.INVALID_INPUT
            )
        values = {f: conflict.local.get(f) for f in chosen}
        with self.storage.transaction():
            self.storage.remove_conflict(conflict.conflict_id)
            if values:
                self._push_resolution(conflict, values)
            self.reconciler.rebuild(conflict.table, conflict.id)
            log_args = {
                "table": conflict.table,
                "row_id": conflict.id,
                "resolution": resolution,
                "fields": list(conflict.diff_fields),
            }
            return self._write(
                CONTINUITY_LOGS.name,
                "resolve_conflict",
                str(uuid.uuid4()),
                log_args,
                coalesce=False,
            )

    def _push_resolution(self, conflict: ConflictRecord, values: dict[str, Any]) -> None:
        base = conflict.remote_version
        if conflict.table == SCENE_DRAFTS.name:
            self._write(
                SCENE_DRAFTS.name, "update", conflict.id, {"patch": values},
                base_version=base, coalesce=False,
            )  # fmt: skip
        elif conflict.table == PROJECTS.name and "title" in values:
            self._write(
                PROJECTS.name, "rename", conflict.id, {"title": values["title"]},
                base_version=base, coalesce=False,
            )  # fmt: skip
        elif conflict.table in (SCREENPLAYS.name, SCREENPLAY_SECTIONS.name):
            self._write(conflict.table, "upsert", conflict.id, values, base_version=base)
