"""The scene editor's ViewModel against the real database: two app instances of one user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from directorstudio_client import ManualClock
from directorstudio_client.viewmodels import FieldDiff, Resolution, SceneEditorViewModel, SyncState
from tests.support.client import create_user, server_rows
from tests.support.viewmodels import App, server_app

Conn = psycopg.Connection[Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def apps(admin_conn: Conn, database_url: str, clock: ManualClock) -> Iterator[tuple[App, App]]:
    user = create_user(admin_conn, "editor@example.com")
    phone, laptop = server_app(database_url, user, clock), server_app(database_url, user, clock)
    yield phone, laptop
    phone.close()
    laptop.close()


def shared_project(phone: App, laptop: App, *prompts: str) -> tuple[str, list[str]]:
    """A project with scenes made on the phone, known to both instances."""
    project_id = phone.session.projects.create_project_quick()
    editor = phone.session.scene_editor(project_id)
    ids = [editor.create_scene_optimistic(p, 3.0) for p in prompts]
    phone.sync.run_once()
    laptop.session.projects.load_list()
    return project_id, ids


def test_an_optimistic_scene_keeps_its_id_when_the_server_confirms_it(
    apps: tuple[App, App], admin_conn: Conn
):
    phone, _ = apps
    project_id = phone.session.projects.create_project_quick()
    editor = phone.session.scene_editor(project_id)
    scene_id = editor.create_scene_optimistic("A car at dusk", 4.0)
    phone.sync.run_once()
    assert [(s.id, s.sync_state) for s in editor.state.scenes] == [(scene_id, SyncState.CONFIRMED)]
    assert server_rows(admin_conn, "SELECT id::text, prompt_text FROM scene_drafts") == [
        (scene_id, "A car at dusk")
    ]


def test_a_reorder_is_persisted_and_visible_on_another_instance_after_sync(
    apps: tuple[App, App], admin_conn: Conn
):
    phone, laptop = apps
    project_id, ids = shared_project(phone, laptop, "a", "b", "c")
    phone_editor = phone.session.scene_editor(project_id)
    phone_editor.move_scene(ids[2], -2)
    assert [s.prompt_text for s in phone_editor.state.scenes] == ["c", "a", "b"]
    phone.sync.run_once()

    laptop_editor = laptop.session.scene_editor(project_id)
    assert [s.prompt_text for s in laptop_editor.state.scenes] == ["a", "b", "c"]
    laptop_editor.load_scenes()

    assert [s.prompt_text for s in laptop_editor.state.scenes] == ["c", "a", "b"]
    assert server_rows(admin_conn, "SELECT prompt_text FROM scene_drafts ORDER BY order_index") == [
        ("c",),
        ("a",),
        ("b",),
    ]


def test_a_scene_placed_at_an_index_is_there_locally_and_on_the_server(
    apps: tuple[App, App], admin_conn: Conn
):
    phone, laptop = apps
    project_id, _ = shared_project(phone, laptop, "a", "b")
    editor = phone.session.scene_editor(project_id)
    editor.create_scene_optimistic("between", 2.0, order_index=1)
    assert [s.prompt_text for s in editor.state.scenes] == ["a", "between", "b"]
    phone.sync.run_once()
    assert server_rows(admin_conn, "SELECT prompt_text FROM scene_drafts ORDER BY order_index") == [
        ("a",),
        ("between",),
        ("b",),
    ]


def test_a_scene_edited_on_two_instances_shows_the_conflict_and_a_merge_converges_and_is_logged(
    apps: tuple[App, App], admin_conn: Conn
):
    phone, laptop = apps
    project_id, [scene_id] = shared_project(phone, laptop, "original")
    phone_editor = phone.session.scene_editor(project_id)
    laptop_editor: SceneEditorViewModel = laptop.session.scene_editor(project_id)
    phone_editor.save_scene(scene_id, {"prompt_text": "phone text", "duration": 5.0})
    phone.sync.run_once()
    laptop_editor.save_scene(scene_id, {"prompt_text": "laptop text", "shot_type": "wide"})

    laptop.sync.run_once()

    [conflict] = laptop_editor.state.conflicts
    assert conflict.fields == (FieldDiff("prompt_text", "laptop text", "phone text"),)
    assert conflict.choices == (Resolution.KEEP_MINE, Resolution.KEEP_THEIRS, Resolution.MERGE)
    assert laptop_editor.state.scenes[0].sync_state == SyncState.CONFLICT

    laptop_editor.resolve_conflict(conflict.conflict_id, "merge", {"prompt_text": "mine"})
    laptop.sync.run_once()
    phone_editor.load_scenes()

    expected = ("laptop text", 5.0, "wide")
    for editor in (phone_editor, laptop_editor):
        [scene] = editor.state.scenes
        assert (scene.prompt_text, scene.duration, scene.shot_type) == expected
        assert scene.sync_state == SyncState.CONFIRMED
        assert editor.state.conflicts == ()
    assert server_rows(
        admin_conn,
        "SELECT kind, scene_draft_id::text, issues->>'resolution', issues->'fields'"
        " FROM continuity_logs",
    ) == [("conflict_resolution", scene_id, "merge", ["prompt_text"])]


def test_keeping_theirs_takes_the_other_instances_value_and_is_logged(
    apps: tuple[App, App], admin_conn: Conn
):
    phone, laptop = apps
    project_id, [scene_id] = shared_project(phone, laptop, "original")
    phone.session.scene_editor(project_id).save_scene(scene_id, {"prompt_text": "phone"})
    phone.sync.run_once()
    laptop_editor = laptop.session.scene_editor(project_id)
    laptop_editor.save_scene(scene_id, {"prompt_text": "laptop"})
    laptop.sync.run_once()

    [conflict] = laptop_editor.state.conflicts
    laptop_editor.resolve_conflict(conflict.conflict_id, Resolution.KEEP_THEIRS)
    laptop.sync.run_once()

    assert [s.prompt_text for s in laptop_editor.state.scenes] == ["phone"]
    assert server_rows(admin_conn, "SELECT prompt_text FROM scene_drafts") == [("phone",)]
    assert server_rows(admin_conn, "SELECT issues->>'resolution' FROM continuity_logs") == [
        ("keep_remote",)
    ]


def test_a_deleted_scene_is_tombstoned_on_the_server_and_leaves_the_other_instance(
    apps: tuple[App, App], admin_conn: Conn
):
    phone, laptop = apps
    project_id, ids = shared_project(phone, laptop, "keep", "drop")
    phone.session.scene_editor(project_id).delete_scene(ids[1])
    phone.sync.run_once()
    laptop_editor = laptop.session.scene_editor(project_id)
    laptop_editor.load_scenes()
    assert [s.id for s in laptop_editor.state.scenes] == [ids[0]]
    assert server_rows(
        admin_conn, "SELECT id::text FROM scene_drafts WHERE deleted_at IS NOT NULL"
    ) == [(ids[1],)]
