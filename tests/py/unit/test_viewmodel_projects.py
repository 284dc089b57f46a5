"""ProjectListViewModel and ProjectRowViewModel without a server: local first, at once."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client.storage import ConflictRecord
from directorstudio_client.viewmodels import (
    LoadStatus,
    ProjectListState,
    SyncState,
)
from tests.support.viewmodels import offline_app


def test_load_list_publishes_the_cached_projects_before_it_calls_the_server():
    app = offline_app()
    project_id = app.sync.create_project("Cached").row_id
    list_model = app.session.projects
    heard: list[tuple[ProjectListState, int]] = []
    list_model.subscribe(lambda state: heard.append((state, len(app.network.calls))))
    list_model.load_list()
    first, calls_before = heard[0]
    assert calls_before == 0
    assert first.status == LoadStatus.LOADING
    assert [i.project_id for i in first.items] == [project_id]
    assert app.network.calls_to("sync_pull") == 1


def test_load_list_offline_keeps_the_cache_on_screen_and_says_offline():
    app = offline_app()
    app.sync.create_project("Cached")
    state = app.session.projects.load_list()
    assert state.status == LoadStatus.OFFLINE
    assert state.error is not None
    assert state.error.code == ErrorCode.UNAVAILABLE
    assert [i.title for i in state.items] == ["Cached"]
    assert state.last_loaded_at is None
    assert app.telemetry()["library_load"] == (1, 0)


def test_an_empty_cache_is_the_empty_state():
    app = offline_app()
    assert app.session.projects.load_list().empty


def test_a_quick_create_returns_its_id_and_lists_the_project_as_saving_at_once():
    app = offline_app()
    project_id = app.session.projects.create_project_quick()
    [item] = app.session.projects.state.items
    assert item.project_id == project_id
    assert (item.title, item.sync_state, item.saving, item.badge) == (
        "Untitled project",
        SyncState.PENDING,
        True,
        "Saving…",
    )
    assert [(e.op, e.row_id) for e in app.storage.get_pending_sync_entries()] == [
        ("upsert", project_id)
    ]
    assert app.telemetry()["create_initiated"] == (1, 1)


def test_a_quick_create_from_a_prompt_titles_the_project_and_makes_the_prompt_its_first_scene():
    app = offline_app()
    prompt = "A lighthouse keeper relights the lamp during the worst storm in fifty years\nmore"
    project_id = app.session.projects.create_project_quick(prompt)
    [item] = app.session.projects.state.items
    assert item.title == "A lighthouse keeper relights the lamp during the worst storm…"
    [scene] = app.storage.get_scene_drafts(project_id)
    assert scene["prompt_text"] == prompt


def test_importing_the_sample_offline_reports_offline_and_creates_nothing():
    app = offline_app()
    assert app.session.projects.import_sample() is None
    state = app.session.projects.state
    assert state.status == LoadStatus.OFFLINE
    assert state.items == ()
    assert app.storage.get_pending_sync_entries() == []


def test_a_project_with_an_open_conflict_is_listed_in_conflict():
    app = offline_app()
    project_id = app.sync.create_project("Mine").row_id
    app.storage.add_conflict(
        ConflictRecord(
            conflict_id="c1", table="project_overview", id=project_id,
            local={"title": "Mine"}, remote={"title": "Theirs"}, diff_fields=["title"],
            resolution_choices=["keep_local", "keep_remote", "merge"], remote_version=2,
        )
    )  # fmt: skip
    [item] = app.session.projects.state.items
    assert (item.sync_state, item.badge) == (SyncState.CONFLICT, "Conflict")


def test_opening_a_project_gives_its_scene_editor_and_counts_project_open():
    app = offline_app()
    project_id = app.session.projects.create_project_quick("Opening shot")
    editor = app.session.rows.open_project(project_id)
    assert [s.prompt_text for s in editor.state.scenes] == ["Opening shot"]
    assert app.session.rows.state.open_project_id == project_id
    assert app.telemetry()["project_open"] == (1, 1)
    editor.close()


def test_renaming_shows_the_new_title_at_once_and_counts_the_action():
    app = offline_app()
    project_id = app.session.projects.create_project_quick()
    app.session.rows.rename(project_id, "  Road movie ")
    assert app.session.projects.state.items[0].title == "Road movie"
    assert app.telemetry()["project_action_rename"] == (1, 1)


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_a_title_the_server_would_refuse_is_invalid_input_and_changes_nothing(title: str):
    app = offline_app()
    project_id = app.session.projects.create_project_quick()
    before = app.storage.get_pending_sync_entries()
    with pytest.raises(DirectorStudioError) as raised:
        app.session.rows.rename(project_id, title)
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert app.storage.get_pending_sync_entries() == before
    assert app.session.rows.state.error is not None
    assert "project_action_rename" not in app.telemetry()


def test_duplicating_lists_the_copy_at_once_under_a_copy_title():
    app = offline_app()
    project_id = app.sync.create_project("Road movie").row_id
    copy_id = app.session.rows.duplicate(project_id)
    titles = {i.project_id: i.title for i in app.session.projects.state.items}
    assert titles == {project_id: "Road movie", copy_id: "Road movie (copy)"}
    assert app.telemetry()["project_action_duplicate"] == (1, 1)


def test_archiving_takes_the_project_out_of_the_library():
    app = offline_app()
    keep = app.session.projects.create_project_quick()
    drop = app.session.projects.create_project_quick()
    app.session.rows.archive(drop)
    assert [i.project_id for i in app.session.projects.state.items] == [keep]
    assert app.telemetry()["project_action_archive"] == (1, 1)


@pytest.mark.parametrize("action", ["open_project", "duplicate", "archive"])
def test_a_row_action_on_an_unknown_project_is_not_found(action: str):
    app = offline_app()
    with pytest.raises(DirectorStudioError) as raised:
        getattr(app.session.rows, action)("99999999-9999-9999-9999-999999999999")
    assert raised.value.code == ErrorCode.NOT_FOUND
    assert app.storage.get_pending_sync_entries() == []


def test_unsubscribing_stops_the_updates():
    app = offline_app()
    heard: list[ProjectListState] = []
    stop = app.session.projects.subscribe(heard.append)
    app.session.projects.create_project_quick()
    count = len(heard)
    stop()
    app.session.projects.create_project_quick()
    assert count >= 1
    assert len(heard) == count
    assert len(app.session.projects.state.items) == 2


def test_a_quick_create_from_a_prompt_too_long_for_a_scene_is_invalid_input_and_creates_nothing():
    app = offline_app()
    with pytest.raises(DirectorStudioError) as raised:
        app.session.projects.create_project_quick("x" * 10001)
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert app.session.projects.state.items == ()
    assert app.storage.get_pending_sync_entries() == []


def test_a_slow_read_that_started_before_a_newer_one_never_overwrites_it():
    app = offline_app()
    app.sync.create_project("First")
    model = app.session.projects
    read_started, finish_read = threading.Event(), threading.Event()
    real_read = app.storage.list_projects
    reads = 0

    def first_read_held(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        rows = real_read(*args, **kwargs)
        if reads == 1:  # this read saw only "First"; it finishes after the next one
            read_started.set()
            finish_read.wait(10)
        return rows

    app.storage.list_projects = first_read_held  # type: ignore[method-assign]
    slow = threading.Thread(target=model.refresh)
    slow.start()
    assert read_started.wait(10)
    app.sync.create_project("Second")  # its commit refreshes the list on this thread
    finish_read.set()
    slow.join(10)
    assert sorted(i.title for i in model.state.items) == ["First", "Second"]
