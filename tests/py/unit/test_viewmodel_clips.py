"""ClipJobViewModel without a server: a submission is a queued local job at once."""

from __future__ import annotations

import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client.viewmodels import ClipJobState, ClipJobViewModel, Credits, SyncState
from tests.support.viewmodels import OFFLINE_USER, offline_app


def test_submitting_a_clip_lists_a_queued_local_job_at_once_and_queues_its_enqueue():
    app = offline_app()
    heard: list[ClipJobState] = []
    app.session.clips.subscribe(heard.append)
    job_id = app.session.clips.submit_clip("a lighthouse at dusk", "account-1")
    [job] = app.session.clips.state.jobs
    assert (job.id, job.prompt, job.status, job.sync_state, job.label) == (
        job_id,
        "a lighthouse at dusk",
        "queued",
        SyncState.PENDING,
        "queued (not sent yet)",
    )
    assert heard
    assert heard[-1].jobs == (job,)
    [entry] = app.storage.get_pending_sync_entries()
    assert (entry.table, entry.op, entry.row_id, entry.args["user_key"]) == (
        "clip_jobs",
        "enqueue",
        job_id,
        "account-1",
    )
    assert app.telemetry()["clip_job_submitted"] == (1, 1)


def test_a_clip_is_charged_to_the_users_own_account_by_default():
    app = offline_app()
    app.session.clips.submit_clip("x")
    assert app.storage.get_pending_sync_entries()[0].args["user_key"] == OFFLINE_USER


@pytest.mark.parametrize("prompt", ["", "   ", "p" * 2001])
def test_a_prompt_the_server_would_refuse_is_invalid_input_and_queues_nothing(prompt: str):
    app = offline_app()
    with pytest.raises(DirectorStudioError) as raised:
        app.session.clips.submit_clip(prompt)
    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert app.storage.get_pending_sync_entries() == []
    assert app.session.clips.state.jobs == ()


def test_canceling_a_queued_job_shows_it_canceled_at_once():
    app = offline_app()
    job_id = app.session.clips.submit_clip("never mind")
    app.session.clips.cancel_job(job_id)
    job = app.session.clips.state.job(job_id)
    assert job is not None
    assert (job.status, job.cancelable, job.final) == ("canceled", False, True)


def test_canceling_a_final_or_unknown_job_is_refused_with_its_code():
    app = offline_app()
    job_id = app.session.clips.submit_clip("never mind")
    app.session.clips.cancel_job(job_id)
    with pytest.raises(DirectorStudioError) as final:
        app.session.clips.cancel_job(job_id)
    with pytest.raises(DirectorStudioError) as unknown:
        app.session.clips.cancel_job("99999999-9999-9999-9999-999999999999")
    assert (final.value.code, unknown.value.code) == (
        ErrorCode.INVALID_TRANSITION,
        ErrorCode.NOT_FOUND,
    )


def test_a_projects_clip_view_shows_only_that_projects_jobs():
    app = offline_app()
    project_id = app.session.projects.create_project_quick()
    project_clips = app.session.clip_jobs(project_id)
    mine = project_clips.submit_clip("in the project")
    app.session.clips.submit_clip("elsewhere")
    assert [j.id for j in project_clips.state.jobs] == [mine]
    assert len(app.session.clips.state.jobs) == 2
    project_clips.close()


def test_offline_the_credits_read_last_stay_shown_with_the_reason():
    app = offline_app()
    app.storage.set_meta(f"credits:{OFFLINE_USER}", "3 1 1800000000.0")
    clips = ClipJobViewModel(app.sync)
    assert clips.state.credits == Credits(OFFLINE_USER, 3, True, 1_800_000_000.0)
    assert clips.state.credits is not None
    assert clips.state.credits.clips_left == 4
    assert clips.refresh_credits() == clips.state.credits
    assert clips.state.error is not None
    assert clips.state.error.offline
    clips.close()


def test_loading_jobs_offline_keeps_them_on_screen():
    app = offline_app()
    job_id = app.session.clips.submit_clip("x")
    state = app.session.clips.load_jobs()
    assert state.status == "offline"
    assert [j.id for j in state.jobs] == [job_id]
