"""A client never reports a conflict between two of its own writes: renames made one after
the other, and a pull that shows its own write before the acknowledgement arrived."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio_client import ManualClock
from tests.support.client import Device, create_user, open_device, server_rows

Conn = psycopg.Connection[Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def device(
    tmp_path: Path, database_url: str, admin_conn: Conn, clock: ManualClock
) -> Iterator[Device]:
    user = create_user(admin_conn, "renamer@example.com")
    dev = open_device(tmp_path / "phone.db", database_url, user, clock)
    yield dev
    dev.sync.stop()
    dev.network.close()


def _title(admin_conn: Conn) -> str:
    return str(server_rows(admin_conn, "SELECT title FROM project_overview")[0][0])


def test_two_renames_made_offline_reach_the_server_without_a_conflict(
    device: Device, admin_conn: Conn
) -> None:
    sync = device.sync
    project = sync.create_project("First")
    sync.run_once()
    sync.rename_project(project.row_id, "Second")
    last = sync.rename_project(project.row_id, "Third")

    for _ in range(3):
        sync.run_once()

    assert sync.conflicts() == []
    assert last.result(0).outcome == "applied"
    assert _title(admin_conn) == "Third"


def test_a_pull_showing_an_unacknowledged_rename_is_not_a_conflict(
    device: Device, admin_conn: Conn, clock: ManualClock
) -> None:
    sync = device.sync
    project = sync.create_project("First")
    sync.run_once()
    sync.rename_project(project.row_id, "Second")
    device.network.drop_acks = 1
    sync.run_once()  # applied on the server, the answer lost
    last = sync.rename_project(project.row_id, "Third")

    sync.pull()

    assert sync.conflicts() == []
    assert sync.storage.get_project_overviews(sync.user_id)[0]["title"] == "Third"
    clock.advance(120)
    sync.run_once()
    sync.run_once()
    assert sync.conflicts() == []
    assert last.result(0).outcome == "applied"
    assert _title(admin_conn) == "Third"
