"""StatusViewModel without a server: offline, the queue by state, rounds announced."""

from __future__ import annotations

import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client import ManualClock, MemoryStorage
from directorstudio_client.storage import Storage
from directorstudio_client.viewmodels import Observable, StatusState, open_session
from tests.support.client_network import FlakyNetwork
from tests.support.viewmodels import OFFLINE_USER, offline_app


def test_before_any_round_the_status_is_unknown_with_the_local_queue_counted():
    app = offline_app()
    app.session.projects.create_project_quick()
    state = app.session.status.state
    assert (state.online, state.realtime, state.last_sync_at) == (None, False, None)
    assert state.counts["pending"] == 1
    assert state.queued == 1


def test_a_round_that_cannot_reach_the_server_shows_offline_with_the_reason():
    app = offline_app()
    app.session.projects.create_project_quick()
    heard: list[StatusState] = []
    app.session.status.subscribe(heard.append)
    app.sync.run_once()
    state = app.session.status.state
    assert heard
    assert heard[-1] == state
    assert state.online is False
    assert state.last_error is not None
    assert state.last_error.code == ErrorCode.UNAVAILABLE
    assert state.counts["retry_wait"] == 1
    assert state.dead_letters == ()


def test_sync_now_from_the_status_bar_runs_a_round():
    app = offline_app()
    state = app.session.status.sync_now()
    assert state.online is False
    assert app.network.calls_to("sync_pull") == 1


@pytest.mark.parametrize("action", ["retry", "discard"])
def test_retrying_or_discarding_what_is_not_a_dead_letter_is_not_found(action: str):
    app = offline_app()
    app.session.projects.create_project_quick()
    [entry] = app.storage.get_pending_sync_entries()
    with pytest.raises(DirectorStudioError) as raised:
        getattr(app.session.status, action)(entry.entry_id)
    assert raised.value.code == ErrorCode.NOT_FOUND


def test_every_sync_round_is_announced_under_the_sync_key_even_when_it_fails():
    app = offline_app()
    heard: list[str] = []
    app.storage.subscribe("sync", heard.append)
    app.sync.run_once()
    app.sync.run_once()
    assert heard == ["sync", "sync"]


def test_a_status_notification_inside_a_transaction_waits_for_its_commit():
    app = offline_app()
    heard: list[str] = []
    app.storage.subscribe("sync", heard.append)
    with app.storage.transaction():
        app.storage.notify("sync")
        assert heard == []
    assert heard == ["sync"]


def test_a_session_keeps_the_devices_client_id_in_the_cache():
    storage = MemoryStorage()
    first = open_session(storage, FlakyNetwork(offline=True), OFFLINE_USER, clock=ManualClock())
    second = open_session(storage, FlakyNetwork(offline=True), OFFLINE_USER, clock=ManualClock())
    assert first.sync.client_id == second.sync.client_id == storage.get_meta("client_id")
    assert first.user_id == OFFLINE_USER
    first.close()
    second.close()


class CommitCounter(Observable[int]):
    """Counts the refreshes a ViewModel watching several keys would make."""

    def __init__(self, storage: Storage, keys: tuple[str, ...]) -> None:
        super().__init__(0)
        self._watch(storage, keys, lambda: self._publish(self.state + 1))


def test_a_viewmodel_refreshes_once_per_commit_however_many_of_its_keys_it_notifies():
    app = offline_app()
    project_id = app.sync.create_project("P").row_id
    counter = CommitCounter(app.storage, ("scene_drafts", "outbox", "sync"))
    heard: list[str] = []
    app.storage.subscribe("scene_drafts", heard.append)
    app.storage.subscribe("outbox", heard.append)
    app.sync.create_scene_draft(project_id, "one commit", 2.0)
    assert sorted(heard) == ["outbox", "scene_drafts"]
    assert counter.state == 1
    app.storage.notify("sync")
    assert counter.state == 2
