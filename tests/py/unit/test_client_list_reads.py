"""The SQLite store answers the library and the scene editor from their covering indexes: no
table lookup per row and no sort, whatever the size of the cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from directorstudio_client.storage import SQLiteStorage
from directorstudio_client.storage.sqlite_lists import LISTS, ListRead

USER = "11111111-1111-1111-1111-111111111111"


def plan(path: Path, sql: str) -> list[str]:
    conn = sqlite3.connect(str(path))
    try:
        return [str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("key",))]
    finally:
        conn.close()


@pytest.mark.parametrize("read", LISTS, ids=lambda r: r.table)
@pytest.mark.parametrize("include_archived", [False, True])
def test_a_list_read_is_answered_from_its_covering_index_without_a_sort(
    tmp_path: Path, read: ListRead, include_archived: bool
):
    path = tmp_path / "cache.db"
    SQLiteStorage(path).close()
    steps = plan(path, read.select(include_archived=include_archived))
    assert steps == [f"SEARCH {read.table} USING COVERING INDEX {read.index_name} ({read.key}=?)"]


@pytest.mark.parametrize("read", LISTS, ids=lambda r: r.table)
def test_a_list_index_is_partial_over_the_live_rows(tmp_path: Path, read: ListRead):
    path = tmp_path / "cache.db"
    SQLiteStorage(path).close()
    conn = sqlite3.connect(str(path))
    indexes = {r[1]: r[4] for r in conn.execute(f"PRAGMA index_list({read.table})")}
    [sql] = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (read.index_name,))
    conn.close()
    assert indexes[read.index_name] == 1  # partial
    assert str(sql[0]).endswith("WHERE _deleted = 0 AND deleted_at IS NULL")
