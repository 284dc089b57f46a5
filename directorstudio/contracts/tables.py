"""The synced tables as client and server share them: one registry, one home.

Each :class:`TableSpec` names a table's id column, its fields (with the type the client stores
them as), the operations ``sync_push`` knows for it, which of them create the row, and the keys
under which other rows (and mutation arguments) refer to one of its rows. Imports nothing else
from the project.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "integer", "real", "boolean"]


@dataclass(frozen=True)
class Field:
    """One column of a synced table."""

    name: str
    type: FieldType = "text"


@dataclass(frozen=True)
class TableSpec:
    """What the client and ``sync_push`` know about one table."""

    name: str
    id_column: str
    fields: tuple[Field, ...]
    ops: frozenset[str]
    create_ops: frozenset[str] = frozenset()
    referenced_as: tuple[str, ...] = ()
    """Keys (columns of other tables, mutation argument names) that hold one of its ids."""
    indexes: tuple[tuple[str, ...], ...] = ()
    """Column lists the app's queries filter and sort on."""
    stamp_column: str = "created_at"
    """Stamped with the local time while the row exists only on this client."""
    synced: bool = True
    """Pulled and cached (``continuity_logs`` is written through sync but never pulled)."""

    @functools.cached_property
    def field_names(self) -> tuple[str, ...]:
        """Every field, in declaration order."""
        return tuple(f.name for f in self.fields)

    def row_id(self, row: dict[str, object]) -> str | None:
        """The id of a row of this table, ``None`` when it has none."""
        value = row.get(self.id_column)
        return None if value is None else str(value)


def _fields(spec: str) -> tuple[Field, ...]:
    """``"name:type name ..."`` (type defaults to text) as fields."""
    result = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        result.append(Field(name, kind or "text"))  # type: ignore[arg-type]
    return tuple(result)


_SYNC_COLUMNS = "deleted_at version:integer"
# Columns of every synced table that serve the server's bookkeeping (field-level conflicts, the
# pull cursor): kept with the server row, not part of a row's local view.
SERVER_BOOKKEEPING: tuple[str, ...] = ("field_versions", "sync_txid")

PROJECTS = TableSpec(
    name="project_overview",
    id_column="project_id",
    fields=_fields(
        "project_id user_id title archived:boolean scene_count:integer total_duration:real"
        f" project_created_at last_updated duplicated_from {_SYNC_COLUMNS}"
    ),
    ops=frozenset({"upsert", "rename", "archive", "duplicate"}),
    create_ops=frozenset({"upsert", "duplicate"}),
    referenced_as=("project_id", "source_project_id"),
    indexes=(("user_id", "last_updated"),),
    stamp_column="last_updated",
)
SCENE_DRAFTS = TableSpec(
    name="scene_drafts",
    id_column="id",
    fields=_fields(
        "id user_id project_id order_index:integer prompt_text duration:real scene_type"
        f" shot_type archived:boolean created_at updated_at {_SYNC_COLUMNS}"
    ),
    ops=frozenset({"create", "update", "delete", "reorder"}),
    create_ops=frozenset({"create"}),
    referenced_as=("scene_draft_id", "row_id"),
    indexes=(("project_id", "order_index"),),
)
SCREENPLAYS = TableSpec(
    name="screenplays",
    id_column="id",
    fields=_fields(
        f"id user_id title content archived:boolean created_at updated_at {_SYNC_COLUMNS}"
    ),
    ops=frozenset({"upsert", "delete"}),
    create_ops=frozenset({"upsert"}),
    referenced_as=("screenplay_id",),
)
SCREENPLAY_SECTIONS = TableSpec(
    name="screenplay_sections",
    id_column="id",
    fields=_fields(
        "id screenplay_id user_id heading content order_index:integer archived:boolean"
        f" created_at updated_at {_SYNC_COLUMNS}"
    ),
    ops=frozenset({"upsert", "delete"}),
    create_ops=frozenset({"upsert"}),
    indexes=(("screenplay_id", "order_index"),),
)
CLIP_JOBS = TableSpec(
    name="clip_jobs",
    id_column="id",
    fields=_fields(
        "id user_id user_key project_id scene_draft_id prompt status progress:integer charge"
        " attempts:integer provider_job_id submitted_at started_at completed_at canceled_at"
        f" refunded_at download_url error_message created_at updated_at {_SYNC_COLUMNS}"
    ),
    ops=frozenset({"enqueue", "cancel"}),
    create_ops=frozenset({"enqueue"}),
    indexes=(("user_id", "submitted_at"),),
)
CONTINUITY_LOGS = TableSpec(
    name="continuity_logs",
    id_column="id",
    fields=_fields("id"),
    ops=frozenset({"resolve_conflict"}),
    create_ops=frozenset({"resolve_conflict"}),
    synced=False,
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        PROJECTS,
        SCENE_DRAFTS,
        SCREENPLAYS,
        SCREENPLAY_SECTIONS,
        CLIP_JOBS,
        CONTINUITY_LOGS,
    )
}
SYNCED: tuple[TableSpec, ...] = tuple(spec for spec in TABLES.values() if spec.synced)


def table_spec(name: str) -> TableSpec:
    """The spec of a table written through sync; ``KeyError`` for any other name."""
    return TABLES[name]


def synced_spec(name: str) -> TableSpec:
    """The spec of a synced (pulled and cached) table; ``ValueError`` for any other name."""
    spec = TABLES.get(name)
    if spec is None or not spec.synced:
        raise ValueError(f"not a synced table: {name}")
    return spec
