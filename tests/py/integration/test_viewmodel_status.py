"""The status ViewModel against the real database: online, last sync, dead letters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import ErrorCode
from directorstudio_client import ManualClock
from directorstudio_client.viewmodels import StatusState, SyncState
from tests.support.client import create_user, server_rows
from tests.support.clips import grant
from tests.support.viewmodels import App, server_app

Conn = psycopg.Connection[Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(admin_conn: Conn, database_url: str, clock: ManualClock) -> Iterator[App]:
    opened = server_app(database_url, create_user(admin_conn, "status@example.com"), clock)
    yield opened
    opened.close()


def refused_clip(app: App) -> str:
    """A clip the server refuses (the free first clip is taken): a dead letter."""
    app.session.clips.submit_clip("free one")
    refused = app.session.clips.submit_clip("one too many")
    app.sync.run_once()
    return refused


def test_the_status_follows_the_network_going_down_and_coming_back(app: App, clock: ManualClock):
    heard: list[StatusState] = []
    app.session.status.subscribe(heard.append)
    app.sync.run_once()
    assert app.session.status.state.online is True
    assert app.session.status.state.last_sync_at == clock.now()

    app.network.offline = True
    app.session.projects.create_project_quick()
    clock.advance(10)
    app.sync.run_once()
    state = app.session.status.state
    assert (state.online, state.counts["retry_wait"], state.queued) == (False, 1, 1)
    assert state.last_error is not None
    assert state.last_error.code == ErrorCode.UNAVAILABLE

    app.network.offline = False
    clock.advance(60)
    app.sync.run_once()
    state = app.session.status.state
    assert (state.online, state.queued, state.last_error) == (True, 0, None)
    assert heard[-1] == state


def test_a_dead_letter_is_shown_with_its_reason_and_a_retry_sends_it_again(
    app: App, admin_conn: Conn, clock: ManualClock
):
    refused = refused_clip(app)
    [dead] = app.session.status.state.dead_letters
    assert (dead.table, dead.op, dead.row_id) == ("clip_jobs", "enqueue", refused)
    assert dead.error is not None
    assert dead.error.code == ErrorCode.INSUFFICIENT_CREDITS
    assert app.session.status.state.counts["dead"] == 1

    grant(admin_conn, app.sync.user_id, 1, "grant-1")
    app.session.status.retry(dead.entry_id)
    assert app.session.status.state.dead_letters == ()
    app.sync.run_once()

    job = app.session.clips.state.job(refused)
    assert job is not None
    assert job.sync_state == SyncState.CONFIRMED
    assert server_rows(admin_conn, "SELECT count(*) FROM clip_jobs") == [(2,)]


def test_discarding_a_dead_letter_undoes_its_local_effect(app: App, admin_conn: Conn):
    refused = refused_clip(app)
    [dead] = app.session.status.state.dead_letters
    app.session.status.discard(dead.entry_id)
    assert app.session.status.state.dead_letters == ()
    assert app.session.clips.state.job(refused) is None
    assert server_rows(admin_conn, "SELECT count(*) FROM clip_jobs") == [(1,)]


def test_open_conflicts_are_counted(app: App, database_url: str, clock: ManualClock):
    project_id = app.session.projects.create_project_quick()
    app.sync.run_once()
    laptop = server_app(database_url, app.sync.user_id, clock)
    try:
        laptop.session.projects.load_list()
        laptop.session.rows.rename(project_id, "Laptop title")
        laptop.sync.run_once()
    finally:
        laptop.close()
    app.session.rows.rename(project_id, "Phone title")
    app.sync.run_once()
    assert app.session.status.state.open_conflicts == 1
    item = app.session.projects.state.item(project_id)
    assert item is not None
    assert item.sync_state == SyncState.CONFLICT
