"""The project library's ViewModels against the real database (PostgresTransport)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import ErrorCode
from directorstudio_client import ManualClock
from directorstudio_client.viewmodels import LoadStatus, ProjectListState, SyncState
from tests.support.client import create_user, server_rows
from tests.support.viewmodels import App, server_app

Conn = psycopg.Connection[Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def user(admin_conn: Conn) -> str:
    return create_user(admin_conn, "director@example.com")


@pytest.fixture
def app(database_url: str, user: str, clock: ManualClock) -> Iterator[App]:
    opened = server_app(database_url, user, clock)
    yield opened
    opened.close()


def test_load_list_shows_the_cache_first_then_the_reconciled_server_list(
    app: App, admin_conn: Conn, database_url: str, user: str, clock: ManualClock
):
    laptop = server_app(database_url, user, clock)
    try:
        elsewhere = laptop.session.projects.create_project_quick("Made on the laptop")
        laptop.sync.run_once()
    finally:
        laptop.close()
    local = app.session.projects.create_project_quick("Made here, offline")
    app.network.offline = True
    app.session.projects.load_list()
    app.network.offline = False
    heard: list[ProjectListState] = []
    app.session.projects.subscribe(heard.append)
    clock.advance(5)

    state = app.session.projects.load_list()

    assert heard[0].status == LoadStatus.LOADING
    assert [i.project_id for i in heard[0].items] == [local]
    assert state.status == LoadStatus.READY
    assert {i.project_id: i.sync_state for i in state.items} == {
        local: SyncState.CONFIRMED,
        elsewhere: SyncState.CONFIRMED,
    }
    assert state.last_loaded_at == clock.now()
    app.sync.flush_telemetry()
    assert server_rows(
        admin_conn,
        "SELECT attempts, successes FROM continuity_telemetry WHERE element = 'library_load'",
    ) == [(2, 1)]


def test_a_quick_create_is_saving_until_the_server_confirms_it(app: App, admin_conn: Conn):
    project_id = app.session.projects.create_project_quick("A road movie")
    item = app.session.projects.state.item(project_id)
    assert item is not None
    assert item.saving
    app.sync.run_once()
    item = app.session.projects.state.item(project_id)
    assert item is not None
    assert (item.sync_state, item.badge, item.error) == (SyncState.CONFIRMED, "", None)
    assert server_rows(admin_conn, "SELECT project_id::text, title FROM project_overview") == [
        (project_id, "A road movie")
    ]
    assert server_rows(admin_conn, "SELECT prompt_text FROM scene_drafts") == [("A road movie",)]
    assert app.telemetry()["create_confirmed"] == (2, 2)  # the project and its first scene


def test_a_create_the_server_refuses_is_listed_as_failed_with_the_reason(
    app: App, admin_conn: Conn, database_url: str, clock: ManualClock
):
    other = server_app(database_url, create_user(admin_conn, "other@example.com"), clock)
    try:
        taken = other.session.projects.create_project_quick()
        other.sync.run_once()
    finally:
        other.close()
    app.sync.create_project("Mine", project_id=taken)

    app.sync.run_once()

    item = app.session.projects.state.item(taken)
    assert item is not None
    assert (item.sync_state, item.badge) == (SyncState.DEAD, "Failed")
    assert item.error is not None
    assert item.error.code == ErrorCode.ID_CONFLICT
    assert app.telemetry()["create_failed"] == (1, 0)


def test_importing_the_sample_brings_its_project_and_four_scenes_once(app: App, admin_conn: Conn):
    project_id = app.session.projects.import_sample()
    assert project_id is not None
    state = app.session.projects.state
    assert state.status == LoadStatus.READY
    [item] = state.items
    assert (item.project_id, item.title, item.sync_state) == (
        project_id,
        "Sample: The Lighthouse Keeper",
        SyncState.CONFIRMED,
    )
    assert len(app.storage.get_scene_drafts(project_id)) == 4
    assert app.session.projects.import_sample() == project_id
    assert server_rows(admin_conn, "SELECT count(*) FROM project_overview") == [(1,)]
    assert server_rows(admin_conn, "SELECT count(*) FROM scene_drafts") == [(4,)]


def test_rename_duplicate_and_archive_reach_the_server(app: App, admin_conn: Conn):
    project_id = app.session.projects.create_project_quick("First scene")
    app.sync.run_once()
    rows = app.session.rows
    rows.rename(project_id, "Renamed")
    copy_id = rows.duplicate(project_id)
    rows.archive(project_id)

    app.sync.run_once()

    assert server_rows(
        admin_conn, "SELECT project_id::text, title, archived FROM project_overview ORDER BY title"
    ) == [(project_id, "Renamed", True), (copy_id, "Renamed (copy)", False)]
    counts = app.telemetry()
    assert [counts[f"project_action_{a}"] for a in ("rename", "duplicate", "archive")] == [
        (1, 1)
    ] * 3
    [item] = app.session.projects.load_list().items  # the copy's scenes come with a pull
    assert (item.project_id, item.sync_state) == (copy_id, SyncState.CONFIRMED)
    assert [s["prompt_text"] for s in app.storage.get_scene_drafts(copy_id)] == ["First scene"]


def test_a_projects_id_is_the_one_the_client_gave_it(app: App, admin_conn: Conn):
    project_id = app.session.projects.create_project_quick()
    app.sync.run_once()
    assert uuid.UUID(project_id)
    assert server_rows(admin_conn, "SELECT project_id::text FROM project_overview") == [
        (project_id,)
    ]
