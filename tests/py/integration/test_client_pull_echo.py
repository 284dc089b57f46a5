"""A pull of changes the cache already holds (the echo of this client's own pushes, a cursor
reset) costs one query of versions per table and page: no cached row is read or written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from directorstudio_client import ManualClock
from tests.support.client import create_user, open_device
from tests.support.statement_spy import statements

Conn = psycopg.Connection[Any]


def _row_statements(seen: list[str], table: str) -> list[str]:
    """Statements that read whole cached rows of ``table`` or write them."""
    return [
        s
        for s in seen
        if (s.startswith("SELECT") and f"FROM {table}" in s and "_server_row," in s)
        or s.startswith(f"INSERT OR REPLACE INTO {table}")
    ]


def test_pulling_the_echo_of_pushed_rows_reads_only_their_versions(
    tmp_path: Path, database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "echo@example.com")
    device = open_device(tmp_path / "echo.db", database_url, user, ManualClock())
    projects = [device.sync.create_project(f"project {n}") for n in range(12)]
    device.sync.run_once()
    device.sync.storage.set_cursor(None)

    with statements(device.sync.storage) as seen:
        pulled = device.sync.pull()

    assert pulled >= len(projects)
    assert _row_statements(seen, "project_overview") == []
    assert any("_server_version FROM project_overview" in s for s in seen)
    assert len(device.sync.storage.list_projects(user)) == len(projects)
    device.network.close()


def test_a_pulled_change_newer_than_the_cache_is_still_applied(
    tmp_path: Path, database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "newer@example.com")
    mine = open_device(tmp_path / "mine.db", database_url, user, ManualClock())
    other = open_device(tmp_path / "other.db", database_url, user, ManualClock())
    project = mine.sync.create_project("Before")
    mine.sync.run_once()
    other.sync.run_once()
    other.sync.rename_project(project.row_id, "After")
    other.sync.run_once()

    with statements(mine.sync.storage) as seen:
        mine.sync.pull()

    assert len(_row_statements(seen, "project_overview")) == 2  # read, then written
    titles = [p.title for p in mine.sync.storage.list_projects(user)]
    assert titles == ["After"]
    mine.network.close()
    other.network.close()
