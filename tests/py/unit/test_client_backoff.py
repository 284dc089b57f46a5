"""Retry schedule of the outbox with an injected clock and random source (nothing sleeps)."""

from __future__ import annotations

import random
from pathlib import Path

import tenacity

from directorstudio_client import ManualClock, SQLiteStorage, SyncService
from directorstudio_client.storage import EntryState
from directorstudio_client.sync.backoff import BackoffPolicy
from tests.support.client_network import FlakyNetwork

USER = "11111111-1111-1111-1111-111111111111"
CLIENT = "44444444-4444-4444-4444-444444444444"


def service(
    tmp_path: Path, network: FlakyNetwork, clock: ManualClock, seed: int = 7
) -> SyncService:
    sync = SyncService(
        SQLiteStorage(tmp_path / "cache.db"),
        network,
        user_id=USER,
        client_id=CLIENT,
        clock=clock,
        rng=random.Random(seed),
    )
    sync.realtime_enabled = False
    return sync


def test_the_jittered_delay_is_tenaciys_wait_random_exponential_with_our_random_source():
    policy = BackoffPolicy(initial=1.0, maximum=30.0)
    ours = random.Random(3)
    random.seed(3)
    theirs = tenacity.wait_random_exponential(multiplier=1.0, max=30.0)
    for attempt in range(1, 9):
        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        state.attempt_number = attempt
        assert policy.delay(attempt, ours) == theirs(state)
        assert policy.upper_bound(attempt) == min(30.0, 2.0 ** (attempt - 1))


def test_failed_pushes_back_off_exponentially_with_jitter_until_the_window_ends(tmp_path: Path):
    clock = ManualClock()
    network = FlakyNetwork(offline=True)
    sync = service(tmp_path, network, clock)
    start = clock.now()
    handle = sync.create_project("Offline film")
    expected = random.Random(7)
    policy = BackoffPolicy()

    sync.run_once()
    attempts, due = 1, start + policy.delay(1, expected)
    while True:
        entry = sync.storage.get_sync_entry(handle.entry_id)
        assert entry is not None
        if entry.state == EntryState.PENDING:
            break
        assert entry.state == EntryState.RETRY_WAIT
        assert entry.attempts == attempts
        assert entry.next_attempt_at == due
        assert entry.last_error == {
            "code": "unavailable",
            "message": "network unreachable (request not sent)",
        }
        # Not due yet: nothing is sent.
        clock.set(due - 0.001)
        before = network.calls_to("sync_push")
        sync.run_once()
        assert network.calls_to("sync_push") == before
        clock.set(due)
        sync.run_once()
        assert network.calls_to("sync_push") == before + 1
        attempts += 1
        due = clock.now() + policy.delay(attempts, expected)
        if due > start + policy.retry_window:
            break

    entry = sync.storage.get_sync_entry(handle.entry_id)
    assert entry is not None
    assert entry.state == EntryState.PENDING
    assert entry.requeues == 1
    assert entry.attempts == attempts
    assert entry.last_error is not None
    assert clock.now() - start <= policy.retry_window
    assert not handle.done()
    health = sync.health()
    assert health.counts["pending"] == 1
    assert health.oldest_pending_age == clock.now() - start
    assert health.last_error == entry.last_error


def test_a_requeued_entry_starts_a_new_window_on_the_next_round(tmp_path: Path):
    clock = ManualClock()
    network = FlakyNetwork(offline=True)
    sync = service(tmp_path, network, clock)
    handle = sync.create_project("Offline film")
    for _ in range(200):
        sync.run_once()
        entry = sync.storage.get_sync_entry(handle.entry_id)
        assert entry is not None
        if entry.state == EntryState.PENDING and entry.requeues == 1:
            break
        clock.set(entry.next_attempt_at or clock.now())
    sent = network.calls_to("sync_push")
    clock.advance(1)
    sync.run_once()
    entry = sync.storage.get_sync_entry(handle.entry_id)
    assert entry is not None
    assert network.calls_to("sync_push") == sent + 1
    assert entry.state == EntryState.RETRY_WAIT
    assert entry.window_started_at == clock.now()
    assert entry.window_attempts == 1


def test_without_realtime_the_client_polls_every_poll_interval(tmp_path: Path):
    clock = ManualClock()
    network = FlakyNetwork(offline=True)
    sync = service(tmp_path, network, clock)
    sync.realtime_enabled = True
    network.realtime_down = True
    sync.run_once()
    assert network.calls_to("sync_pull") == 1
    clock.advance(9.9)
    sync.run_once()
    assert network.calls_to("sync_pull") == 1
    clock.advance(0.1)
    sync.run_once()
    assert network.calls_to("sync_pull") == 2
    assert not sync.health().realtime_active


def test_the_outbox_and_its_retry_state_survive_a_restart(tmp_path: Path):
    clock = ManualClock()
    network = FlakyNetwork(offline=True)
    first = service(tmp_path, network, clock)
    handle = first.create_project("Before restart")
    first.run_once()
    before = first.storage.get_sync_entry(handle.entry_id)
    first.storage.close()

    second = service(tmp_path, network, clock)
    after = second.storage.get_sync_entry(handle.entry_id)
    assert after == before
    assert [p["title"] for p in second.storage.get_project_overviews(USER)] == ["Before restart"]
