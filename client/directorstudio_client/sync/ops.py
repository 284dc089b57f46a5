"""What each mutation does to the local view, and which fields it touches.

The local view of a row is always the last server row with the open outbox entries for it
applied in mutation order, so confirming, rejecting or reconciling an entry just recomputes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from directorstudio.contracts.tables import (
    CLIP_JOBS,
    PROJECTS,
    SCENE_DRAFTS,
    SCREENPLAY_SECTIONS,
    SCREENPLAYS,
    synced_spec,
)
from directorstudio_client.storage.models import OPEN_STATES, OutboxEntry

SCENE_PATCH_FIELDS = ("prompt_text", "duration", "scene_type", "shot_type")
SCREENPLAY_FIELDS = ("title", "content", "archived")
SECTION_FIELDS = ("screenplay_id", "heading", "content", "order_index", "archived")
LOCAL_DELETION = "local"


def touches(entry: OutboxEntry, table: str, row_id: str) -> bool:
    """Whether an entry changes the given row."""
    if entry.table != table:
        return False
    if entry.row_id == row_id:
        return True
    if entry.op == "reorder":
        return row_id in entry.args.get("ordered_ids", [])
    return False


def touched_rows(entry: OutboxEntry) -> list[str]:
    """The ids of the rows of its table whose local view an entry changes."""
    if entry.op == "reorder":
        return [str(i) for i in entry.args.get("ordered_ids", [])] or [entry.row_id]
    return [entry.row_id]


def touched_fields(entry: OutboxEntry) -> set[str]:
    """The fields of its row that an entry writes."""
    op, args = entry.op, entry.args
    if op == "update":
        return set(args.get("patch", {}))
    if op in ("upsert", "rename") and entry.table == PROJECTS.name:
        return {"title"}
    if op in ("create", "upsert", "enqueue", "duplicate"):
        return {k for k in args if k not in ("patch",)}
    if op == "archive":
        return {"archived"}
    if op == "delete":
        return {"archived", "deleted_at"}
    if op == "reorder":
        return {"order_index"}
    if op == "cancel":
        return {"status"}
    return set()


def apply_entry(entry: OutboxEntry, row: dict[str, Any], row_id: str) -> dict[str, Any]:
    """The row after the entry's local effect."""
    table, op, args = entry.table, entry.op, entry.args
    row = dict(row)
    if table == PROJECTS.name:
        row.setdefault("project_id", row_id)
        if op in ("upsert", "rename", "duplicate") and args.get("title") is not None:
            row["title"] = args["title"]
        if op in ("upsert", "duplicate"):
            row.setdefault("title", "Untitled project")
            row.setdefault("archived", False)
            row.setdefault("scene_count", 0)
            row.setdefault("total_duration", 0)
        if op == "archive":
            row["archived"] = True
    elif table == SCENE_DRAFTS.name:
        row.setdefault("id", row_id)
        if op == "create":
            row.update({k: v for k, v in args.items() if v is not None})
            row.setdefault("archived", False)
        elif op == "update":
            row.update(args.get("patch", {}))
        elif op == "delete":
            row["archived"] = True
            row["deleted_at"] = row.get("deleted_at") or LOCAL_DELETION
        elif op == "reorder":
            ordered = [str(i) for i in args.get("ordered_ids", [])]
            if row_id in ordered:
                row["order_index"] = ordered.index(row_id)
    elif table == CLIP_JOBS.name:
        row.setdefault("id", row_id)
        if op == "enqueue":
            row.update({k: v for k, v in args.items() if v is not None})
            row.setdefault("status", "queued")
        elif op == "cancel" and row.get("status") in ("queued", "processing", None):
            row["status"] = "canceled"
    elif table in (SCREENPLAYS.name, SCREENPLAY_SECTIONS.name):
        row.setdefault("id", row_id)
        if op == "upsert":
            row.update(args)
        elif op == "delete":
            row["archived"] = True
            row["deleted_at"] = row.get("deleted_at") or LOCAL_DELETION
    return row


def open_entries_for(entries: Iterable[OutboxEntry], table: str, row_id: str) -> list[OutboxEntry]:
    """The open entries that change a row, in mutation order."""
    found = [e for e in entries if e.state in OPEN_STATES and touches(e, table, row_id)]
    return sorted(found, key=lambda e: e.mutation_id)


def overlay(
    base: dict[str, Any] | None, entries: Iterable[OutboxEntry], table: str, row_id: str
) -> dict[str, Any] | None:
    """The local view: ``base`` (the server row) with the open entries applied."""
    row = None if base is None else dict(base)
    if not entries:
        return row
    for entry in open_entries_for(entries, table, row_id):
        row = apply_entry(entry, row or {}, row_id)
    return row


def server_id(table: str, row: dict[str, Any]) -> str | None:
    """The id of a server row."""
    return synced_spec(table).row_id(row)
