"""A stretch of bulk writes on the SQLite cache: the indexes of empty tables are built at its end,
and whatever ends it (its end, an error, a crash) leaves every index in place."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from directorstudio_client import SQLiteStorage
from directorstudio_client.storage.models import CachedRow
from directorstudio_client.storage.sqlite import STRETCH_CHECKPOINT_PAGES

USER = "11111111-1111-1111-1111-111111111111"
LIST_INDEXES = {"project_overview_list", "scene_drafts_list"}
PLAIN_INDEXES = {"clip_jobs_by_user_id_submitted_at"}


def indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {str(n[0]) for n in names}


def project(n: int, title: str = "") -> CachedRow:
    row = {"project_id": f"p{n:03}", "user_id": USER, "title": title or f"P {n}", "archived": False,
           "last_updated": f"2026-01-01T00:00:{n:02}", "version": 1}  # fmt: skip
    return CachedRow("project_overview", row["project_id"], dict(row), dict(row), 1, False)


def test_a_stretch_on_an_empty_cache_builds_its_indexes_at_its_end(tmp_path: Path):
    store = SQLiteStorage(tmp_path / "cache.db")
    assert indexes(store.path) >= LIST_INDEXES | PLAIN_INDEXES
    with store.bulk_writes():
        assert not (LIST_INDEXES | PLAIN_INDEXES) & indexes(store.path)
        store.put_rows([project(n) for n in range(5)])
        inside = store.list_projects(USER)
        store.put_rows([project(n) for n in range(5, 10)])
    assert indexes(store.path) >= LIST_INDEXES | PLAIN_INDEXES
    assert [p.project_id for p in inside] == [f"p{n:03}" for n in reversed(range(5))]
    assert [p.project_id for p in store.list_projects(USER)] == [
        f"p{n:03}" for n in reversed(range(10))
    ]
    store.close()


def test_a_stretch_keeps_maintaining_the_indexes_of_a_table_that_has_rows(tmp_path: Path):
    store = SQLiteStorage(tmp_path / "cache.db")
    store.put_rows([project(0)])
    with store.bulk_writes():
        present = indexes(store.path)
    assert "project_overview_list" in present
    assert "scene_drafts_list" not in present
    store.close()


def test_an_error_inside_a_stretch_keeps_its_rows_and_puts_the_indexes_back(tmp_path: Path):
    store = SQLiteStorage(tmp_path / "cache.db")

    def interrupted() -> None:
        with store.bulk_writes():
            store.put_rows([project(n) for n in range(3)])
            raise ConnectionError("the network went away")

    with pytest.raises(ConnectionError):
        interrupted()
    assert indexes(store.path) >= LIST_INDEXES | PLAIN_INDEXES
    assert len(store.list_projects(USER)) == 3
    store.close()


def test_a_store_killed_inside_a_stretch_reopens_with_its_rows_and_every_index(tmp_path: Path):
    path = tmp_path / "cache.db"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path[:0] = {sys.path!r}
        from directorstudio_client import SQLiteStorage
        from tests.py.unit.test_client_bulk_writes import project
        store = SQLiteStorage({str(path)!r})
        with store.bulk_writes():
            store.put_rows([project(n) for n in range(4)])
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, cwd=os.getcwd())
    assert done.returncode == -signal.SIGKILL
    assert not LIST_INDEXES & indexes(path)
    store = SQLiteStorage(path)
    assert indexes(path) >= LIST_INDEXES | PLAIN_INDEXES
    assert [p.project_id for p in store.list_projects(USER)] == ["p003", "p002", "p001", "p000"]
    store.close()


def test_a_stretch_checkpoints_the_wal_at_its_end_not_every_thousand_pages(tmp_path: Path):
    store = SQLiteStorage(tmp_path / "cache.db")

    def every() -> int:
        return int(store._query("PRAGMA wal_autocheckpoint")[0][0])

    long_titles = [project(n, "x" * 2000) for n in range(2500)]  # > 1,000 pages of 4 KiB
    with store.bulk_writes():
        assert every() == STRETCH_CHECKPOINT_PAGES
        before = store.path.stat().st_size
        store.put_rows(long_titles)
        assert store.path.stat().st_size == before  # still in the WAL
    assert every() == 1000
    assert store.path.stat().st_size > before + 2000 * 2500
    store.close()
