"""The app's list reads on the SQLite cache: each served by one covering index, returning typed
rows built from the records without a dictionary per row.

The library (projects of a user, most recently updated first) and the scene editor (scenes of a
project, in order) read only the columns they show. Each list has a partial index over the live
rows (no tombstones) holding its key, its sort order and those columns, so SQLite answers from
the index alone, in index order (no table lookups, no sort), and every record becomes its typed
row by ``tuple.__new__``. Booleans come back as ``bool`` through a column converter.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from directorstudio.contracts.tables import PROJECTS, SCENE_DRAFTS
from directorstudio_client.storage.models import ProjectListRow, SceneListRow

BOOLEAN = "directorstudio_boolean"
# SQLite hands a converter the value's text: b"1" for true. A C method: no Python frame per row.
sqlite3.register_converter(BOOLEAN, b"1".__eq__)
DETECT_TYPES = sqlite3.PARSE_COLNAMES

LIVE = "_deleted = 0 AND deleted_at IS NULL"
NOT_ARCHIVED = "coalesce(archived, 0) = 0"


@dataclass(frozen=True)
class ListRead:
    """One list: its table, key column, sort order (``ORDER BY`` terms), the index keys that
    give that order and the columns they use, and the typed row (its fields are columns of the
    table; ``booleans`` are read as bool)."""

    table: str
    key: str
    order: tuple[str, ...]
    index_keys: tuple[str, ...]
    sort_columns: tuple[str, ...]
    row: type[NamedTuple]
    booleans: frozenset[str] = frozenset()

    @property
    def index_name(self) -> str:
        """The covering index's name."""
        return f"{self.table}_list"

    def index_ddl(self) -> str:
        """The partial covering index: key, sort order, then every column the read touches."""
        parts = [self.key, *self.index_keys]
        # The predicate's columns too: SQLite reads a partial index as covering only then.
        covered = (*self.sort_columns, *self.row._fields, "archived", "_deleted", "deleted_at")
        for column in covered:
            if column not in parts:
                parts.append(column)
        return (
            f"CREATE INDEX IF NOT EXISTS {self.index_name} ON {self.table} ({', '.join(parts)})"
            f" WHERE {LIVE}"
        )

    def select(self, *, include_archived: bool = False) -> str:
        """The statement of the list (one parameter: the key)."""
        columns = []
        for name in self.row._fields:
            if name in self.booleans:
                columns.append(f'coalesce({name}, 0) AS "{name} [{BOOLEAN}]"')
            else:
                columns.append(name)
        archived = "" if include_archived else f" AND {NOT_ARCHIVED}"
        return (
            f"SELECT {', '.join(columns)} FROM {self.table}"
            f" WHERE {self.key} = ? AND {LIVE}{archived} ORDER BY {', '.join(self.order)}"
        )


PROJECT_LIST = ListRead(
    table=PROJECTS.name,
    key="user_id",
    order=("last_updated DESC",),
    index_keys=("last_updated",),
    sort_columns=("last_updated",),
    row=ProjectListRow,
    booleans=frozenset({"archived"}),
)
SCENE_LIST = ListRead(
    table=SCENE_DRAFTS.name,
    key="project_id",
    order=("coalesce(order_index, 0)", "coalesce(created_at, '')"),
    index_keys=("coalesce(order_index, 0)", "coalesce(created_at, '')"),
    sort_columns=("order_index", "created_at"),
    row=SceneListRow,
)
LISTS = (PROJECT_LIST, SCENE_LIST)
SUPERSEDED_INDEXES = (
    "project_overview_by_user_id_last_updated",
    "scene_drafts_by_project_id_order_index",
)
"""The plain indexes of schema 2 that the covering list indexes replace."""


def list_tables() -> frozenset[str]:
    """The tables whose app query index is a covering list index."""
    return frozenset(read.table for read in LISTS)


Reader = Callable[[sqlite3.Connection, str], list[Any]]


@functools.cache
def reader(read: ListRead, include_archived: bool = False) -> Reader:
    """A function reading the list's typed rows for one key value."""
    sql = read.select(include_archived=include_archived)
    make = functools.partial(tuple.__new__, read.row)

    def rows(conn: sqlite3.Connection, key: str) -> list[Any]:
        return list(map(make, conn.execute(sql, (key,)).fetchall()))

    return rows
