"""AppSession: the ViewModels of one user, built together and closed together."""

from __future__ import annotations

from directorstudio_client.viewmodels import ProjectListState
from tests.support.viewmodels import offline_app


def test_closing_the_session_stops_every_viewmodel_it_opened():
    app = offline_app()
    project_id = app.session.projects.create_project_quick()
    editor = app.session.scene_editor(project_id)
    clips = app.session.clip_jobs(project_id)
    heard: list[object] = []
    for model in (app.session.projects, app.session.status, editor, clips):
        model.subscribe(heard.append)
    app.session.close()
    app.sync.create_scene_draft(project_id, "after closing", 2.0)
    app.sync.submit_clip_job("after closing", project_id=project_id)
    assert heard == []
    assert editor.state.scenes == ()
    assert clips.state.jobs == ()


def test_viewmodels_share_the_sync_services_clock_and_telemetry_by_default():
    app = offline_app()
    app.clock.advance(30)
    heard: list[ProjectListState] = []
    app.session.projects.subscribe(heard.append)
    app.session.projects.load_list()
    assert app.session.clock is app.sync.clock
    assert app.session.telemetry is app.sync.telemetry
    assert app.telemetry()["library_load"] == (1, 0)
    assert [s.status for s in heard] == ["loading", "offline"]
