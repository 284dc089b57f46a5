"""Two devices of one user edit the same scene draft."""

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
def devices(
    tmp_path: Path, database_url: str, admin_conn: Conn
) -> Iterator[tuple[Device, Device, str, str]]:
    """A phone and a laptop, both synced with one project holding one scene."""
    clock = ManualClock()
    user = create_user(admin_conn, "editor@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock)
    laptop = open_device(tmp_path / "laptop.db", database_url, user, clock)
    project = phone.sync.create_project("Shared")
    scene = phone.sync.create_scene_draft(
        project.row_id, "A lighthouse", 4.0, scene_type="exterior", shot_type="wide"
    )
    phone.sync.sync_now()
    laptop.sync.sync_now()
    assert laptop.storage.get_scene_drafts(project.row_id)[0]["prompt_text"] == "A lighthouse"
    yield phone, laptop, project.row_id, scene.row_id
    for device in (phone, laptop):
        device.network.close()


def scene_on_server(admin: Conn, scene_id: str) -> tuple[Any, ...]:
    return server_rows(
        admin,
        "SELECT prompt_text, duration, scene_type, shot_type FROM scene_drafts WHERE id = %s",
        (scene_id,),
    )[0]


def test_edits_of_different_fields_merge_on_both_devices(
    devices: tuple[Device, Device, str, str], admin_conn: Conn
):
    phone, laptop, project_id, scene_id = devices
    laptop.network.offline = True
    phone.sync.update_scene_draft(scene_id, {"prompt_text": "A lighthouse in fog"})
    laptop.sync.update_scene_draft(scene_id, {"duration": 6.0})
    phone.sync.sync_now()
    laptop.network.offline = False
    laptop.sync.sync_now()
    phone.sync.sync_now()

    assert scene_on_server(admin_conn, scene_id) == ("A lighthouse in fog", 6.0, "exterior", "wide")
    for device in (phone, laptop):
        row = device.storage.get_scene_drafts(project_id)[0]
        assert (row["prompt_text"], row["duration"]) == ("A lighthouse in fog", 6.0)
        assert device.sync.conflicts() == []


def test_overlapping_edits_raise_a_conflict_on_the_later_device_and_a_merge_reaches_the_server(
    devices: tuple[Device, Device, str, str], admin_conn: Conn
):
    phone, laptop, project_id, scene_id = devices
    laptop.network.offline = True
    phone.sync.update_scene_draft(scene_id, {"shot_type": "close-up", "scene_type": "night"})
    laptop.sync.update_scene_draft(
        scene_id, {"shot_type": "aerial", "scene_type": "dawn", "duration": 8.0}
    )
    phone.sync.sync_now()
    laptop.network.offline = False
    laptop.sync.sync_now()

    assert phone.sync.conflicts() == []
    [conflict] = laptop.sync.conflicts()
    event = conflict.to_event()
    assert event["table"] == "scene_drafts"
    assert event["id"] == scene_id
    assert sorted(event["diffFields"]) == ["scene_type", "shot_type"]
    assert (event["local"]["shot_type"], event["remote"]["shot_type"]) == ("aerial", "close-up")
    assert event["resolutionChoices"] == ["keep_local", "keep_remote", "merge"]
    # While unresolved the laptop still shows its own values.
    assert laptop.storage.get_scene_drafts(project_id)[0]["shot_type"] == "aerial"

    logged = laptop.sync.resolve_conflict(
        conflict.conflict_id, "merge", {"shot_type": "local", "scene_type": "remote"}
    )
    laptop.sync.sync_now()
    assert logged.result(0).outcome == "applied"
    phone.sync.sync_now()

    assert scene_on_server(admin_conn, scene_id) == ("A lighthouse", 8.0, "night", "aerial")
    assert server_rows(
        admin_conn,
        "SELECT kind, issues ->> 'resolution', issues -> 'fields' FROM continuity_logs"
        " WHERE scene_draft_id = %s",
        (scene_id,),
    ) == [("conflict_resolution", "merge", ["scene_type", "shot_type"])]
    assert laptop.sync.conflicts() == []
    for device in (phone, laptop):
        row = device.storage.get_scene_drafts(project_id)[0]
        assert (row["scene_type"], row["shot_type"], row["duration"]) == ("night", "aerial", 8.0)


def test_a_conflict_found_while_pulling_waits_in_the_inbox_and_keep_remote_sends_nothing_back(
    devices: tuple[Device, Device, str, str], admin_conn: Conn
):
    phone, laptop, project_id, scene_id = devices
    phone.sync.update_scene_draft(scene_id, {"prompt_text": "A lighthouse at night"})
    phone.sync.sync_now()
    laptop.network.offline = True
    edit = laptop.sync.update_scene_draft(scene_id, {"prompt_text": "A lighthouse in summer"})
    laptop.network.offline = False
    laptop.sync.pull()  # the delta arrives before the laptop's own write went out

    [conflict] = laptop.sync.conflicts()
    assert conflict.diff_fields == ["prompt_text"]
    assert edit.result(0).outcome == "conflict"
    assert laptop.sync.health().counts["pending"] == 0

    laptop.sync.resolve_conflict(conflict.conflict_id, "keep_remote")
    laptop.sync.sync_now()
    assert scene_on_server(admin_conn, scene_id)[0] == "A lighthouse at night"
    assert laptop.storage.get_scene_drafts(project_id)[0]["prompt_text"] == "A lighthouse at night"
    assert server_rows(
        admin_conn,
        "SELECT issues ->> 'resolution' FROM continuity_logs WHERE scene_draft_id = %s",
        (scene_id,),
    ) == [("keep_remote",)]
