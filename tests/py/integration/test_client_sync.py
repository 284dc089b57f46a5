"""The sync engine against a real database: exactly-once push, dead letters, pull, hints."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio_client import ManualClock, SystemClock
from directorstudio_client.storage import EntryState
from tests.support.client import Device, create_user, open_device, server_rows

Conn = psycopg.Connection[Any]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def user(admin_conn: Conn) -> str:
    return create_user(admin_conn, "writer@example.com")


@pytest.fixture
def device(tmp_path: Path, database_url: str, user: str, clock: ManualClock) -> Iterator[Device]:
    dev = open_device(tmp_path / "phone.db", database_url, user, clock)
    yield dev
    dev.sync.stop()
    dev.network.close()


def call(database_url: str, user: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """One API request as the user, committed (another device writing)."""
    with psycopg.connect(database_url) as conn:
        with request_transaction(conn, "authenticated", claims_for_user(user)):
            row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
        return None if row is None else row[0]


def test_a_push_whose_acknowledgement_is_lost_is_replayed_and_applied_once(
    device: Device, admin_conn: Conn, clock: ManualClock
):
    sync = device.sync
    project = sync.create_project("Lost ack")
    scenes = [sync.create_scene_draft(project.row_id, f"scene {n}", 4.0) for n in range(2)]
    device.network.drop_acks = 1

    sync.run_once()
    snapshot = "SELECT (SELECT jsonb_agg(p) FROM project_overview p), (SELECT jsonb_agg(s ORDER BY id) FROM scene_drafts s)"  # noqa: E501
    applied = server_rows(admin_conn, snapshot)
    assert server_rows(admin_conn, "SELECT count(*) FROM scene_drafts")[0][0] == 2
    entries = sync.storage.get_pending_sync_entries()
    assert [e.state for e in entries] == [EntryState.RETRY_WAIT] * 3
    assert not project.done()

    clock.set(max(e.next_attempt_at or 0 for e in entries))
    sync.run_once()
    assert sync.storage.get_pending_sync_entries() == []
    assert [h.result(0).outcome for h in (project, *scenes)] == ["duplicate"] * 3
    assert server_rows(admin_conn, snapshot) == applied
    assert server_rows(admin_conn, "SELECT count(*), max(version) FROM scene_drafts") == [(2, 1)]
    cached = sync.storage.get_row("project_overview", project.row_id)
    assert cached is not None
    assert cached.version == applied[0][0][0]["version"]


def test_a_batch_with_one_rejected_mutation_applies_the_others_and_dead_letters_it(
    device: Device, admin_conn: Conn, clock: ManualClock
):
    sync = device.sync
    project = sync.create_project("Mixed batch")
    good = sync.create_scene_draft(project.row_id, "fine", 5.0)
    bad = sync.create_scene_draft(project.row_id, "too long", 6000.0)
    later = sync.create_scene_draft(project.row_id, "also fine", 2.0)

    report = sync.run_once()
    assert [(p.sent, p.applied, p.dead) for p in report.pushes] == [(4, 3, 1)]
    assert {r[0] for r in server_rows(admin_conn, "SELECT id::text FROM scene_drafts")} == {
        good.row_id,
        later.row_id,
    }
    with pytest.raises(DirectorStudioError) as raised:
        bad.result(0)
    assert raised.value.code == ErrorCode.INVALID_INPUT
    dead = sync.health().dead_entries
    assert [(e.entry_id, e.state, e.last_error["code"]) for e in dead] == [  # type: ignore[index]
        (bad.entry_id, EntryState.DEAD, "invalid_input")
    ]
    assert sync.health().counts["dead"] == 1

    # Never retried by itself.
    pushes = device.network.calls_to("sync_push")
    clock.advance(3600)
    sync.run_once()
    assert device.network.calls_to("sync_push") == pushes

    # The user retries: still invalid, dead again with one more attempt.
    sync.retry_dead(bad.entry_id)
    sync.run_once()
    entry = sync.storage.get_sync_entry(bad.entry_id)
    assert entry is not None
    assert (entry.state, entry.attempts) == (EntryState.DEAD, 2)

    # The user discards it: gone from the queue and from the local view.
    sync.discard_dead(bad.entry_id)
    assert sync.storage.get_sync_entry(bad.entry_id) is None
    assert [s["id"] for s in sync.storage.get_scene_drafts(project.row_id)] == [
        good.row_id,
        later.row_id,
    ]


def test_pull_under_concurrent_late_commits_loses_nothing_through_the_client(
    device: Device, database_url: str, user: str
):
    sync = device.sync
    sync.run_once(force_pull=True)
    early, late = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(database_url) as first, psycopg.connect(database_url) as second:
        with request_transaction(first, "authenticated", claims_for_user(user)):
            first.execute("SELECT public.upsert_project_overview(%s, 'early')", (early,))
            with request_transaction(second, "authenticated", claims_for_user(user)):
                second.execute("SELECT public.upsert_project_overview(%s, 'late')", (late,))
            # The later transaction has committed; the earlier one is still open.
            sync.run_once(force_pull=True)
            assert [p["project_id"] for p in sync.storage.get_project_overviews(user)] == [late]
        sync.run_once(force_pull=True)
    titles = sorted(p["title"] for p in sync.storage.get_project_overviews(user))
    assert titles == ["early", "late"]


def test_a_realtime_hint_makes_the_next_round_pull(
    tmp_path: Path, database_url: str, user: str, clock: ManualClock
):
    dev = open_device(tmp_path / "rt.db", database_url, user, clock, realtime=True)
    try:
        dev.sync.run_once()
        assert dev.sync.health().realtime_active
        project_id = str(uuid.uuid4())
        call(
            database_url,
            user,
            "SELECT public.upsert_project_overview(%s, 'from web')",
            (project_id,),
        )
        assert dev.sync.wait_for_hint(timeout=10)
        dev.sync.run_once()  # the clock has not moved: only the hint makes it pull
        assert [p["title"] for p in dev.sync.storage.get_project_overviews(user)] == ["from web"]
    finally:
        dev.sync.stop()
        dev.network.close()


def test_when_realtime_is_down_the_client_polls_every_ten_seconds(
    device: Device, database_url: str, user: str, clock: ManualClock
):
    sync = device.sync
    sync.realtime_enabled = True
    device.network.realtime_down = True
    sync.run_once()
    call(
        database_url,
        user,
        "SELECT public.upsert_project_overview(%s, 'polled')",
        (str(uuid.uuid4()),),
    )
    clock.advance(5)
    sync.run_once()
    assert sync.storage.get_project_overviews(user) == []
    clock.advance(5)
    sync.run_once()
    assert [p["title"] for p in sync.storage.get_project_overviews(user)] == ["polled"]
    assert not sync.health().realtime_active


def test_a_change_from_elsewhere_wins_when_no_local_write_touches_its_fields(
    device: Device, database_url: str, user: str
):
    sync = device.sync
    project = sync.create_project("Film")
    scene = sync.create_scene_draft(project.row_id, "original", 3.0)
    sync.sync_now()
    call(
        database_url, user,
        "SELECT public.update_scene_draft(%s, 1, %s::jsonb)",
        (scene.row_id, json.dumps({"prompt_text": "edited on the web"})),
    )  # fmt: skip
    device.network.offline = True
    sync.update_scene_draft(scene.row_id, {"duration": 7.5})
    device.network.offline = False
    sync.pull()
    row = sync.storage.get_scene_drafts(project.row_id)[0]
    assert (row["prompt_text"], row["duration"]) == ("edited on the web", 7.5)
    assert sync.conflicts() == []


def test_queue_health_reports_latency_and_last_success(device: Device, clock: ManualClock):
    sync = device.sync
    assert sync.health().last_success_at is None
    sync.create_project("Measured")
    assert sync.health().counts["pending"] == 1
    clock.advance(2)
    assert sync.health().oldest_pending_age == 2
    sync.run_once()
    health = sync.health()
    assert health.counts == {"pending": 0, "in_flight": 0, "retry_wait": 0, "dead": 0}
    assert health.oldest_pending_age is None
    assert health.last_success_at == clock.now()
    assert health.last_latency == 0.0


def test_health_read_when_a_write_is_confirmed_already_shows_that_success(
    device: Device, clock: ManualClock
):
    sync = device.sync
    seen: list[float | None] = []
    handle = sync.create_project("Confirmed")
    handle.future.add_done_callback(lambda _: seen.append(sync.health().last_success_at))
    clock.advance(3)
    sync.run_once()
    assert handle.future.result(timeout=0).outcome == "applied"
    assert seen == [clock.now()]


def test_a_started_service_pushes_a_write_as_soon_as_it_is_made(
    tmp_path: Path, database_url: str, user: str, admin_conn: Conn
):
    dev = open_device(tmp_path / "live.db", database_url, user, SystemClock(), realtime=True)
    dev.sync.start()
    try:
        handle = dev.sync.create_project("Live")
        assert handle.result(timeout=30).outcome == "applied"
        assert server_rows(admin_conn, "SELECT title FROM project_overview") == [("Live",)]
    finally:
        dev.sync.stop()
        dev.network.close()
    assert not dev.sync.health().realtime_active
