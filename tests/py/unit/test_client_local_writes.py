"""Optimistic local writes: visible at once, queued durably, announced to the UI."""

from __future__ import annotations

import random

import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client import ManualClock, MemoryStorage, SyncService
from directorstudio_client.storage import ConflictRecord
from tests.support.client_network import FlakyNetwork

USER = "11111111-1111-1111-1111-111111111111"
CLIENT = "44444444-4444-4444-4444-444444444444"


def offline_service() -> SyncService:
    sync = SyncService(
        MemoryStorage(),
        FlakyNetwork(offline=True),
        user_id=USER,
        client_id=CLIENT,
        clock=ManualClock(),
        rng=random.Random(1),
    )
    sync.realtime_enabled = False
    return sync


def test_an_optimistic_create_is_visible_queued_and_announced_at_once():
    sync = offline_service()
    heard: list[str] = []
    sync.storage.subscribe("project_overview", heard.append)
    sync.storage.subscribe("outbox", heard.append)
    handle = sync.create_project("Quick")
    assert [p["title"] for p in sync.storage.get_project_overviews(USER)] == ["Quick"]
    assert [(e.op, e.row_id) for e in sync.storage.get_pending_sync_entries()] == [
        ("upsert", handle.row_id)
    ]
    assert set(heard) == {"project_overview", "outbox"}
    assert not handle.done()


def test_the_handoffs_upsert_then_enqueue_flow_creates_once_and_folds_later_edits():
    sync = offline_service()
    project = sync.create_project("P")
    scene = {
        "id": "55555555-5555-5555-5555-555555555555",
        "project_id": project.row_id,
        "prompt_text": "first",
        "duration": 3.0,
        "order_index": 0,
    }
    sync.storage.upsert_scene_draft(scene)
    created = sync.enqueue_remote_upsert("scene_drafts", scene)
    edited = sync.enqueue_remote_upsert("scene_drafts", {**scene, "prompt_text": "second"})
    entries = sync.storage.get_pending_sync_entries()
    assert [(e.op, e.args.get("prompt_text")) for e in entries] == [
        ("upsert", None),
        ("create", "second"),
    ]
    assert edited.entry_id == created.entry_id
    assert sync.storage.get_scene_drafts(project.row_id)[0]["prompt_text"] == "second"


def test_a_local_delete_hides_the_scene_and_queues_its_tombstone():
    sync = offline_service()
    project = sync.create_project("P")
    keep = sync.create_scene_draft(project.row_id, "keep", 2.0)
    drop = sync.create_scene_draft(project.row_id, "drop", 2.0)
    sync.enqueue_remote_delete("scene_drafts", drop.row_id)
    assert [s["id"] for s in sync.storage.get_scene_drafts(project.row_id)] == [keep.row_id]
    assert [e.op for e in sync.storage.get_pending_sync_entries()][-1] == "delete"


def test_a_local_reorder_shows_the_new_order_before_it_is_sent():
    sync = offline_service()
    project = sync.create_project("P")
    first = sync.create_scene_draft(project.row_id, "one", 2.0)
    second = sync.create_scene_draft(project.row_id, "two", 2.0)
    sync.reorder_scene_drafts(project.row_id, [second.row_id, first.row_id])
    assert [s["prompt_text"] for s in sync.storage.get_scene_drafts(project.row_id)] == [
        "two",
        "one",
    ]


def test_a_resolution_queues_the_chosen_values_on_the_remote_version_and_a_log_entry():
    sync = offline_service()
    project = sync.create_project("P")
    scene = sync.create_scene_draft(project.row_id, "mine", 2.0)
    conflict = ConflictRecord(
        conflict_id="c1",
        table="scene_drafts",
        id=scene.row_id,
        local={"prompt_text": "mine", "shot_type": "wide"},
        remote={"prompt_text": "theirs", "shot_type": "close", "version": 4},
        diff_fields=["prompt_text", "shot_type"],
        resolution_choices=["keep_local", "keep_remote", "merge"],
        remote_version=4,
    )
    sync.storage.add_conflict(conflict)
    with pytest.raises(DirectorStudioError) as raised:
        sync.resolve_conflict("c1", "merge", {"prompt_text": "local"})
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert [c.conflict_id for c in sync.conflicts()] == ["c1"]

    sync.resolve_conflict("c1", "merge", {"prompt_text": "local", "shot_type": "remote"})
    assert sync.conflicts() == []
    update, log = sync.storage.get_pending_sync_entries()[-2:]
    assert (update.op, update.base_version, update.args) == (
        "update",
        4,
        {"patch": {"prompt_text": "mine"}},
    )
    assert (log.table, log.op, log.args) == (
        "continuity_logs",
        "resolve_conflict",
        {
            "table": "scene_drafts",
            "row_id": scene.row_id,
            "resolution": "merge",
            "fields": ["prompt_text", "shot_type"],
        },
    )
