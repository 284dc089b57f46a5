"""SceneEditorViewModel without a server: optimistic scene edits and the conflict choices."""

from __future__ import annotations

import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client.storage import ConflictRecord
from directorstudio_client.viewmodels import (
    FieldDiff,
    LoadStatus,
    Resolution,
    SceneEditorState,
    SceneEditorViewModel,
    SyncState,
)
from tests.support.viewmodels import App, offline_app


def editor_with_scenes(*prompts: str) -> tuple[App, SceneEditorViewModel, list[str]]:
    app = offline_app()
    project_id = app.session.projects.create_project_quick()
    editor = app.session.scene_editor(project_id)
    ids = [editor.create_scene_optimistic(p) for p in prompts]
    return app, editor, ids


def conflict_on(app: App, scene_id: str, project_id: str) -> ConflictRecord:
    conflict = ConflictRecord(
        conflict_id="conflict-1", table="scene_drafts", id=scene_id,
        local={"id": scene_id, "project_id": project_id, "prompt_text": "mine", "duration": 3.0},
        remote={"id": scene_id, "project_id": project_id, "prompt_text": "theirs",
                "duration": 5.0, "version": 4},
        diff_fields=["duration", "prompt_text"],
        resolution_choices=["keep_local", "keep_remote", "merge"], remote_version=4,
    )  # fmt: skip
    app.storage.add_conflict(conflict)
    return conflict


def test_an_optimistic_scene_gets_its_id_is_queued_and_is_visible_at_once():
    app = offline_app()
    project_id = app.session.projects.create_project_quick()
    editor = app.session.scene_editor(project_id)
    heard: list[SceneEditorState] = []
    editor.subscribe(heard.append)
    scene_id = editor.create_scene_optimistic("A car at dusk", 4.5, shot_type="wide")
    [scene] = editor.state.scenes
    assert (scene.id, scene.prompt_text, scene.duration, scene.shot_type, scene.sync_state) == (
        scene_id,
        "A car at dusk",
        4.5,
        "wide",
        SyncState.PENDING,
    )
    assert heard
    assert heard[-1].scenes == editor.state.scenes
    [create] = [e for e in app.storage.get_pending_sync_entries() if e.table == "scene_drafts"]
    assert (create.op, create.row_id, create.args["project_id"]) == ("create", scene_id, project_id)
    assert app.telemetry()["scene_create_initiated"] == (1, 1)


def test_scenes_are_appended_in_order_unless_placed():
    _app, editor, ids = editor_with_scenes("one", "two")
    first = editor.create_scene_optimistic("zero", order_index=0)
    assert [s.id for s in editor.state.scenes] == [first, *ids]
    assert [s.order_index for s in editor.state.scenes] == [0, 1, 2]


@pytest.mark.parametrize(("prompt", "duration"), [("", 3.0), ("  ", 3.0), ("ok", 0.0)])
def test_a_scene_without_text_or_length_is_invalid_input_and_queues_nothing(
    prompt: str, duration: float
):
    app, editor, _ = editor_with_scenes()
    before = app.storage.get_pending_sync_entries()
    with pytest.raises(DirectorStudioError) as raised:
        editor.create_scene_optimistic(prompt, duration)
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert app.storage.get_pending_sync_entries() == before
    assert editor.state.scenes == ()


def test_saving_a_scene_shows_the_edit_at_once():
    _app, editor, [scene_id] = editor_with_scenes("draft")
    editor.save_scene(scene_id, {"prompt_text": "final", "duration": 6.0})
    scene = editor.state.scene(scene_id)
    assert scene is not None
    assert (scene.prompt_text, scene.duration) == ("final", 6.0)


def test_saving_a_field_scenes_do_not_have_is_invalid_input():
    _app, editor, [scene_id] = editor_with_scenes("draft")
    with pytest.raises(DirectorStudioError) as raised:
        editor.save_scene(scene_id, {"order_index": 3})
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert editor.state.error is not None


def test_reordering_shows_the_new_order_at_once_and_queues_it():
    app, editor, ids = editor_with_scenes("a", "b", "c")
    editor.reorder_scenes([ids[2], ids[0], ids[1]])
    assert [s.prompt_text for s in editor.state.scenes] == ["c", "a", "b"]
    assert app.storage.get_pending_sync_entries()[-1].op == "reorder"


def test_moving_a_scene_by_one_place_reorders_and_at_the_edge_does_nothing():
    _app, editor, ids = editor_with_scenes("a", "b", "c")
    assert editor.move_scene(ids[0], -1) is None
    editor.move_scene(ids[0], 1)
    assert [s.prompt_text for s in editor.state.scenes] == ["b", "a", "c"]


def test_a_reorder_that_does_not_list_every_scene_once_is_invalid_input():
    _app, editor, ids = editor_with_scenes("a", "b")
    with pytest.raises(DirectorStudioError) as raised:
        editor.reorder_scenes([ids[0], ids[0]])
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert [s.prompt_text for s in editor.state.scenes] == ["a", "b"]


def test_deleting_a_scene_takes_it_out_of_the_editor():
    _app, editor, ids = editor_with_scenes("keep", "drop")
    editor.delete_scene(ids[1])
    assert [s.id for s in editor.state.scenes] == [ids[0]]


def test_editing_a_scene_of_another_project_is_not_found():
    app, editor, _ = editor_with_scenes()
    other = app.session.scene_editor(app.session.projects.create_project_quick())
    foreign = other.create_scene_optimistic("elsewhere")
    with pytest.raises(DirectorStudioError) as raised:
        editor.save_scene(foreign, {"prompt_text": "x"})
    assert raised.value.code == ErrorCode.NOT_FOUND


def test_an_open_conflict_shows_its_differing_fields_and_the_three_choices():
    app, editor, [scene_id] = editor_with_scenes("mine")
    conflict_on(app, scene_id, editor.project_id)
    [view] = editor.state.conflicts
    assert view.fields == (
        FieldDiff("duration", 3.0, 5.0),
        FieldDiff("prompt_text", "mine", "theirs"),
    )
    assert [c.label for c in view.choices] == ["Keep mine", "Keep theirs", "Merge"]
    assert editor.state.scene(scene_id) is not None
    assert editor.state.scenes[0].sync_state == SyncState.CONFLICT


def test_merging_field_by_field_sends_the_chosen_values_and_records_the_resolution():
    app, editor, [scene_id] = editor_with_scenes("mine")
    conflict_on(app, scene_id, editor.project_id)
    editor.resolve_conflict(
        "conflict-1", Resolution.MERGE, {"prompt_text": "mine", "duration": "theirs"}
    )
    assert editor.state.conflicts == ()
    update, log = app.storage.get_pending_sync_entries()[-2:]
    assert (update.op, update.args, update.base_version) == (
        "update", {"patch": {"prompt_text": "mine"}}, 4,
    )  # fmt: skip
    assert (log.table, log.op, log.args["resolution"], log.args["row_id"]) == (
        "continuity_logs", "resolve_conflict", "merge", scene_id,
    )  # fmt: skip


def test_keeping_theirs_sends_no_value_and_still_records_the_resolution():
    app, editor, [scene_id] = editor_with_scenes("mine")
    conflict_on(app, scene_id, editor.project_id)
    before = len(app.storage.get_pending_sync_entries())
    editor.resolve_conflict("conflict-1", "keep_remote")
    added = app.storage.get_pending_sync_entries()[before:]
    assert [(e.table, e.op, e.args["resolution"]) for e in added] == [
        ("continuity_logs", "resolve_conflict", "keep_remote")
    ]


def test_a_merge_without_a_choice_for_every_field_is_invalid_input_and_keeps_the_conflict():
    app, editor, [scene_id] = editor_with_scenes("mine")
    conflict_on(app, scene_id, editor.project_id)
    with pytest.raises(DirectorStudioError) as raised:
        editor.resolve_conflict("conflict-1", "merge", {"prompt_text": "mine"})
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert len(editor.state.conflicts) == 1


@pytest.mark.parametrize(("resolution", "fields"), [("both", None), ("merge", {"duration": "x"})])
def test_an_unknown_choice_is_invalid_input(resolution: str, fields: dict[str, str] | None):
    app, editor, [scene_id] = editor_with_scenes("mine")
    conflict_on(app, scene_id, editor.project_id)
    with pytest.raises(DirectorStudioError) as raised:
        editor.resolve_conflict("conflict-1", resolution, fields)
    assert raised.value.code == ErrorCode.INVALID_INPUT


def test_loading_scenes_offline_keeps_them_on_screen():
    _app, editor, ids = editor_with_scenes("a")
    state = editor.load_scenes()
    assert state.status == LoadStatus.OFFLINE
    assert [s.id for s in state.scenes] == ids


@pytest.mark.parametrize(
    "patch",
    [
        {"prompt_text": "x" * 10001},
        {"prompt_text": ""},
        {"duration": 601.0},
        {"duration": float("nan")},
        {"duration": "long"},
        {"shot_type": "w" * 101},
    ],
)
def test_an_edit_scene_drafts_would_refuse_is_invalid_input_and_changes_nothing(
    patch: dict[str, object],
):
    app, editor, [scene_id] = editor_with_scenes("draft")
    before = app.storage.get_pending_sync_entries()
    with pytest.raises(DirectorStudioError) as raised:
        editor.save_scene(scene_id, patch)
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert app.storage.get_pending_sync_entries() == before
    assert editor.state.scenes[0].prompt_text == "draft"
