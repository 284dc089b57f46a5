"""What a local write, a settle and a pull read does not grow with the length of the queue or
the size of the cache (statements counted with a spy on the store's own connection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio_client import ManualClock
from tests.support.client import Device, create_user, open_device
from tests.support.statement_spy import full_outbox_reads, statements

Conn = psycopg.Connection[Any]


@pytest.fixture
def user(admin_conn: Conn) -> str:
    return create_user(admin_conn, "writer@example.com")


def offline_device_with_queue(
    path: Path, database_url: str, user: str, queued: int
) -> tuple[Device, str]:
    device = open_device(path, database_url, user, ManualClock(), offline=True)
    for n in range(queued):
        device.sync.create_project(f"queued {n}")
    target = device.sync.create_project("the one edited").row_id
    return device, target


def write_statements(device: Device, project_id: str) -> list[str]:
    with statements(device.storage) as seen:
        device.sync.rename_project(project_id, "renamed")
        scene = device.sync.create_scene_draft(project_id, "a scene", 3.0)
        device.sync.update_scene_draft(scene.row_id, {"prompt_text": "edited"})
    return seen


def test_a_local_write_runs_the_same_statements_with_a_long_queue_as_with_a_short_one(
    tmp_path: Path, database_url: str, user: str
):
    short, short_target = offline_device_with_queue(tmp_path / "a.db", database_url, user, 2)
    long, long_target = offline_device_with_queue(tmp_path / "b.db", database_url, user, 300)
    few = write_statements(short, short_target)
    many = write_statements(long, long_target)
    assert len(many) == len(few)
    assert full_outbox_reads(many) == []


def settle_statements(device: Device) -> list[str]:
    device.network.offline = False
    with statements(device.storage) as seen:
        report = device.sync.drainer.push_once()
    assert (report.sent, report.applied) == (10, 10)
    return seen


def test_settling_a_batch_touches_only_its_entries_whatever_waits_behind_it(
    tmp_path: Path, database_url: str, user: str, admin_conn: Conn
):
    short, _ = offline_device_with_queue(tmp_path / "a.db", database_url, user, 15)
    long, _ = offline_device_with_queue(tmp_path / "b.db", database_url, user, 300)
    for device in (short, long):
        device.sync.drainer._batch_size = 10
    few = settle_statements(short)
    many = settle_statements(long)
    assert len(many) == len(few)
    assert full_outbox_reads(many) == []


def test_a_pulled_page_is_applied_in_one_transaction_with_bulk_reads_and_writes(
    tmp_path: Path, database_url: str, user: str
):
    writer = open_device(tmp_path / "writer.db", database_url, user, ManualClock())
    for n in range(40):
        writer.sync.create_project(f"project {n}")
    writer.sync.run_once()
    reader = open_device(tmp_path / "reader.db", database_url, user, ManualClock())
    with statements(reader.storage) as seen:
        pulled = reader.sync.pull()
    assert pulled == 40
    assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    per_row_reads = [s for s in seen if "FROM project_overview WHERE project_id = " in s]
    assert per_row_reads == []
    assert len(reader.storage.get_project_overviews(user)) == 40


def test_settling_a_batch_reads_no_cached_row_whose_row_has_nothing_left_to_send(
    tmp_path: Path, database_url: str, user: str
):
    device, _ = offline_device_with_queue(tmp_path / "a.db", database_url, user, 9)
    seen = settle_statements(device)
    whole_rows = [s for s in seen if "FROM project_overview" in s and "_server_row," in s]
    assert whole_rows == []
    assert any("_server_version FROM project_overview" in s for s in seen)
    projects = device.storage.list_projects(user)
    assert sorted(p.title or "" for p in projects) == sorted(
        [*(f"queued {n}" for n in range(9)), "the one edited"]
    )
    assert all(p.scene_count == 0 for p in projects)
    assert device.storage.get_pending_sync_entries() == []
