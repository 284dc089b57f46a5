"""The clip jobs' ViewModel against the real database: charge, progress, completion, refunds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import ErrorCode
from directorstudio_client import ManualClock
from directorstudio_client.viewmodels import ClipJobState, SyncState
from tests.support.client import create_user, server_rows
from tests.support.clips import grant
from tests.support.viewmodels import App, render_event, server_app

Conn = psycopg.Connection[Any]
URL = "https://cdn.example/clip.mp4"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def user(admin_conn: Conn) -> str:
    return create_user(admin_conn, "renderer@example.com")


@pytest.fixture
def app(database_url: str, user: str, clock: ManualClock) -> Iterator[App]:
    opened = server_app(database_url, user, clock)
    yield opened
    opened.close()


def test_a_submitted_clip_is_enqueued_on_the_server_and_charged_the_free_first_clip(
    app: App, admin_conn: Conn, user: str
):
    clips = app.session.clips
    assert clips.load_jobs().credits is not None
    assert clips.state.credits is not None
    assert clips.state.credits.clips_left == 1

    job_id = clips.submit_clip("a lighthouse at dusk")
    app.sync.run_once()

    job = clips.state.job(job_id)
    assert job is not None
    assert (job.status, job.sync_state, job.label) == ("queued", SyncState.CONFIRMED, "queued")
    assert server_rows(admin_conn, "SELECT id::text, user_key, charge FROM clip_jobs") == [
        (job_id, user, "free")
    ]
    assert clips.state.credits is not None
    assert (clips.state.credits.free_clip_available, clips.state.credits.clips_left) == (
        False,
        0,
    )


def test_without_credits_a_clip_is_shown_as_refused_for_insufficient_credits(
    app: App, admin_conn: Conn
):
    clips = app.session.clips
    clips.submit_clip("free one")
    refused = clips.submit_clip("one too many")
    app.sync.run_once()

    job = clips.state.job(refused)
    assert job is not None
    assert job.sync_state == SyncState.DEAD
    assert job.error is not None
    assert job.error.code == ErrorCode.INSUFFICIENT_CREDITS
    assert (job.insufficient_credits, job.label, job.cancelable) == (
        True,
        "insufficient credits",
        False,
    )
    assert server_rows(admin_conn, "SELECT count(*) FROM clip_jobs") == [(1,)]


def test_status_and_progress_arrive_by_polling_every_ten_seconds_when_realtime_is_down(
    app: App, database_url: str, clock: ManualClock
):
    clips = app.session.clips
    job_id = clips.submit_clip("a storm at sea")
    app.sync.run_once()
    heard: list[ClipJobState] = []
    clips.subscribe(heard.append)

    render_event(database_url, "ev-1", job_id, "processing", progress=40)
    clock.advance(9)
    app.sync.run_once()
    job = clips.state.job(job_id)
    assert job is not None
    assert job.status == "queued"  # not polled yet

    clock.advance(1)
    app.sync.run_once()
    job = clips.state.job(job_id)
    assert job is not None
    assert (job.status, job.progress) == ("processing", 40)
    assert heard[-1].job(job_id) == job

    render_event(database_url, "ev-2", job_id, "completed", download_url=URL)
    clock.advance(10)
    app.sync.run_once()
    job = clips.state.job(job_id)
    assert job is not None
    assert (job.status, job.completed, job.download_url, job.final) == (
        "completed",
        True,
        URL,
        True,
    )
    assert app.telemetry()["clip_job_completed"] == (1, 1)


def test_status_arrives_through_a_realtime_hint(database_url: str, user: str, clock: ManualClock):
    app = server_app(database_url, user, clock, realtime=True)
    try:
        job_id = app.session.clips.submit_clip("a storm at sea")
        app.sync.run_once()
        assert app.session.status.refresh().realtime
        render_event(database_url, "ev-1", job_id, "processing", progress=10)
        assert app.sync.wait_for_hint(timeout=10)
        app.sync.run_once()
        job = app.session.clips.state.job(job_id)
        assert job is not None
        assert (job.status, job.progress) == ("processing", 10)
    finally:
        app.close()


def test_canceling_a_job_refunds_it_and_the_credits_show_it(app: App, admin_conn: Conn, user: str):
    grant(admin_conn, user, 2, "grant-1")
    clips = app.session.clips
    clips.submit_clip("free one")
    paid = clips.submit_clip("paid one")
    app.sync.run_once()
    assert clips.state.credits is not None
    assert clips.state.credits.credits == 1

    clips.cancel_job(paid)
    job = clips.state.job(paid)
    assert job is not None
    assert (job.status, job.sync_state) == ("canceled", SyncState.PENDING)
    app.sync.run_once()

    job = clips.state.job(paid)
    assert job is not None
    assert (job.status, job.sync_state) == ("canceled", SyncState.CONFIRMED)
    assert clips.state.credits is not None
    assert clips.state.credits.credits == 2
    assert server_rows(admin_conn, "SELECT status FROM clip_jobs WHERE id = %s", (paid,)) == [
        ("canceled",)
    ]


def test_a_failed_render_is_refunded_and_the_credits_are_read_again(
    app: App, admin_conn: Conn, database_url: str, clock: ManualClock, user: str
):
    grant(admin_conn, user, 1, "grant-1")
    clips = app.session.clips
    clips.submit_clip("free one")
    paid = clips.submit_clip("paid one")
    app.sync.run_once()
    assert clips.state.credits is not None
    assert clips.state.credits.credits == 0

    render_event(database_url, "ev-1", paid, "failed")
    clock.advance(10)
    app.sync.run_once()

    job = clips.state.job(paid)
    assert job is not None
    assert job.status == "failed"
    assert clips.state.credits is not None
    assert clips.state.credits.credits == 1
