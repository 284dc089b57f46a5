"""Consecutive offline edits of one row never conflict with each other: each entry is rebased on
the previous open entry of the same row, whatever the two operations are."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio_client import ManualClock, SyncService
from tests.support.client import Device, create_user, open_device, server_rows

Conn = psycopg.Connection[Any]
Edit = Callable[[SyncService, dict[str, str]], Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def device(
    tmp_path: Path, database_url: str, admin_conn: Conn, clock: ManualClock
) -> Iterator[Device]:
    user = create_user(admin_conn, "editor@example.com")
    dev = open_device(tmp_path / "phone.db", database_url, user, clock)
    yield dev
    dev.network.close()


def confirmed_project_with_scenes(device: Device) -> dict[str, str]:
    sync = device.sync
    project = sync.create_project("Start")
    first = sync.create_scene_draft(project.row_id, "one", 2.0)
    second = sync.create_scene_draft(project.row_id, "two", 3.0)
    job = sync.submit_clip_job("a harbour at dawn", project_id=project.row_id)
    sync.run_once()
    return {"project": project.row_id, "a": first.row_id, "b": second.row_id, "job": job.row_id}


def edit_offline_with_a_failed_push_between(device: Device, clock: ManualClock, *edits: Edit):
    """Each edit while offline, each followed by a push attempt that fails (so the entries
    are separate, not folded into one), then back online until the queue is empty."""
    ids = confirmed_project_with_scenes(device)
    device.network.offline = True
    for edit in edits:
        edit(device.sync, ids)
        device.sync.run_once()
        clock.advance(5)
    device.network.offline = False
    for _ in range(10):
        clock.advance(120)
        device.sync.run_once()
        if not device.storage.get_pending_sync_entries():
            break
    return ids


def rename(title: str) -> Edit:
    return lambda sync, ids: sync.rename_project(ids["project"], title)


def archive(sync: SyncService, ids: dict[str, str]) -> Any:
    return sync.archive_project(ids["project"])


def update(text: str) -> Edit:
    return lambda sync, ids: sync.update_scene_draft(ids["a"], {"prompt_text": text})


def reorder(order: str) -> Edit:
    return lambda sync, ids: sync.reorder_scene_drafts(ids["project"], [ids[k] for k in order])


def delete(sync: SyncService, ids: dict[str, str]) -> Any:
    return sync.delete_scene_draft(ids["b"])


def cancel(sync: SyncService, ids: dict[str, str]) -> Any:
    return sync.cancel_clip_job(ids["job"])


PAIRS: dict[str, tuple[Edit, ...]] = {
    "rename, rename": (rename("First"), rename("Second")),
    "rename, archive": (rename("First"), archive),
    "archive, rename": (archive, rename("After archive")),
    "update, update": (update("first"), update("second")),
    "update, reorder": (update("first"), reorder("ba")),
    "reorder, update": (reorder("ba"), update("after reorder")),
    "reorder, reorder": (reorder("ba"), reorder("ab")),
    "update, delete": (update("first"), delete),
    "delete, update": (delete, update("after delete")),
    "rename, update": (rename("First"), update("first")),
    "cancel, cancel": (cancel, cancel),
    "cancel, rename": (cancel, rename("After cancel")),
}


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_two_consecutive_offline_edits_reach_the_server_as_the_local_view_shows_them(
    device: Device, clock: ManualClock, admin_conn: Conn, pair: str
):
    ids = edit_offline_with_a_failed_push_between(device, clock, *PAIRS[pair])
    assert device.sync.conflicts() == []
    assert device.sync.health().dead_entries == []
    assert device.storage.get_pending_sync_entries() == []
    [(title, archived)] = server_rows(
        admin_conn,
        "SELECT title, archived FROM project_overview WHERE project_id = %s",
        (ids["project"],),
    )
    local_project = device.storage.get_row("project_overview", ids["project"])
    assert local_project is not None
    assert (title, archived) == (local_project.row["title"], local_project.row["archived"])
    scenes = server_rows(
        admin_conn,
        "SELECT id::text, prompt_text FROM scene_drafts"
        " WHERE project_id = %s AND deleted_at IS NULL ORDER BY order_index",
        (ids["project"],),
    )
    local_scenes = device.storage.get_scene_drafts(ids["project"])
    assert scenes == [(s["id"], s["prompt_text"]) for s in local_scenes]
    [status] = server_rows(admin_conn, "SELECT status FROM clip_jobs WHERE id = %s", (ids["job"],))
    assert device.storage.get_clip_jobs(device.sync.user_id)[0]["status"] == status[0]


def test_create_rename_rename_offline_ends_with_the_second_rename_and_no_conflict(
    device: Device, clock: ManualClock, admin_conn: Conn
):
    sync = device.sync
    device.network.offline = True
    project = sync.create_project("Draft")
    sync.run_once()
    sync.rename_project(project.row_id, "First rename")
    sync.run_once()
    clock.advance(5)
    sync.rename_project(project.row_id, "Second rename")
    device.network.offline = False
    for _ in range(5):
        clock.advance(120)
        sync.run_once()
    assert sync.conflicts() == []
    assert server_rows(
        admin_conn, "SELECT title FROM project_overview WHERE project_id = %s", (project.row_id,)
    ) == [("Second rename",)]
    assert [p["title"] for p in sync.storage.get_project_overviews(sync.user_id)] == [
        "Second rename"
    ]


def edit_offline_without_a_push_between(device: Device, clock: ManualClock, *edits: Edit):
    """Each edit while offline with no push attempt in between, then back online until the
    queue is empty; returns the ids and the outbox length seen before going online."""
    ids = confirmed_project_with_scenes(device)
    device.network.offline = True
    for edit in edits:
        edit(device.sync, ids)
        clock.advance(5)
    queued = len(device.storage.get_pending_sync_entries())
    device.network.offline = False
    for _ in range(10):
        clock.advance(120)
        device.sync.run_once()
        if not device.storage.get_pending_sync_entries():
            break
    return ids, queued


SAME_KIND_REPEATS: dict[str, Edit] = {
    "rename": rename("Again"),
    "archive": archive,
    "update": update("again"),
    "reorder": reorder("ba"),
    "delete": delete,
    "cancel": cancel,
}


@pytest.mark.parametrize("kind", sorted(SAME_KIND_REPEATS))
def test_repeated_never_sent_edits_of_one_kind_fold_into_one_entry_that_reaches_the_server(
    device: Device, clock: ManualClock, admin_conn: Conn, kind: str
):
    edits = {
        "rename": (rename("First"), rename("Second"), rename("Third")),
        "archive": (archive, archive, archive),
        "update": (update("first"), update("second"), update("third")),
        "reorder": (reorder("ba"), reorder("ab"), reorder("ba")),
        "delete": (delete, delete, delete),
        "cancel": (cancel, cancel, cancel),
    }[kind]
    ids, queued = edit_offline_without_a_push_between(device, clock, *edits)
    assert queued == 1
    assert device.sync.conflicts() == []
    assert device.sync.health().dead_entries == []
    [(title, archived)] = server_rows(
        admin_conn,
        "SELECT title, archived FROM project_overview WHERE project_id = %s",
        (ids["project"],),
    )
    local_project = device.storage.get_row("project_overview", ids["project"])
    assert local_project is not None
    assert (title, archived) == (local_project.row["title"], local_project.row["archived"])
    scenes = server_rows(
        admin_conn,
        "SELECT id::text, prompt_text FROM scene_drafts"
        " WHERE project_id = %s AND deleted_at IS NULL ORDER BY order_index",
        (ids["project"],),
    )
    assert scenes == [
        (s["id"], s["prompt_text"]) for s in device.storage.get_scene_drafts(ids["project"])
    ]
    [status] = server_rows(admin_conn, "SELECT status FROM clip_jobs WHERE id = %s", (ids["job"],))
    assert device.storage.get_clip_jobs(device.sync.user_id)[0]["status"] == status[0]


def test_many_offline_renames_of_a_new_project_leave_one_entry_holding_the_last_title(
    device: Device, clock: ManualClock, admin_conn: Conn
):
    sync = device.sync
    device.network.offline = True
    project = sync.create_project("Draft")
    for n in range(50):
        sync.rename_project(project.row_id, f"Rename {n}")
    [entry] = device.storage.get_open_entries_for_row("project_overview", project.row_id)
    assert (entry.op, entry.args["title"]) == ("upsert", "Rename 49")
    device.network.offline = False
    sync.run_once()
    assert project.result(timeout=5).outcome == "applied"
    assert server_rows(
        admin_conn, "SELECT title FROM project_overview WHERE project_id = %s", (project.row_id,)
    ) == [("Rename 49",)]


def test_an_edit_after_a_failed_push_is_not_folded_into_the_entry_that_was_sent(
    device: Device, clock: ManualClock
):
    ids = confirmed_project_with_scenes(device)
    device.network.offline = True
    device.sync.rename_project(ids["project"], "Sent once")
    device.sync.run_once()
    device.sync.rename_project(ids["project"], "After the failure")
    entries = device.storage.get_open_entries_for_row("project_overview", ids["project"])
    assert [e.args["title"] for e in entries] == ["Sent once", "After the failure"]
    assert entries[1].base_mutation_id == entries[0].mutation_id
