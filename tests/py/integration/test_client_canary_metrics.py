"""Canary metrics from the client: each sync outcome and the create-to-confirm latency histogram,
recorded where a write's handle resolves and delivered per day and release channel."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg

from directorstudio.contracts.telemetry import CREATE_TO_CONFIRM_BOUNDS_MS
from directorstudio_client import ManualClock
from tests.support.client import create_user, open_device, server_rows

Conn = psycopg.Connection[Any]


def metrics(admin: Conn, user: str) -> dict[tuple[str, str], int]:
    rows = server_rows(
        admin, "SELECT metric, bucket, count FROM sync_metrics WHERE user_id = %s", (user,)
    )
    return {(metric, bucket): count for metric, bucket, count in rows}


def channel_of(admin: Conn, user: str) -> str:
    rows = server_rows(
        admin,
        "SELECT private.release_channel_for(%s, canary_percent) FROM private.release_settings",
        (user,),
    )
    return str(rows[0][0])


def test_confirmed_creates_record_their_latency_bucket_and_outcome_in_the_users_channel(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "latency@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock)
    project = phone.sync.create_project("Timed")
    clock.advance(0.4)
    phone.sync.create_scene_draft(project.row_id, "first", 3.0)
    clock.advance(1.3)  # the project waited 1.7 s, the scene 1.3 s
    phone.sync.sync_now()
    project.result(0)

    assert metrics(admin_conn, user) == {
        ("sync_outcome", "confirmed"): 2,
        ("create_to_confirm_ms", "2000"): 2,
    }
    channels = server_rows(
        admin_conn, "SELECT DISTINCT channel FROM sync_metrics WHERE user_id = %s", (user,)
    )
    assert channels == [(channel_of(admin_conn, user),)]


def test_a_slow_confirmation_lands_in_the_open_bucket(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "slow@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock)
    phone.sync.create_project("Waited")
    clock.advance(CREATE_TO_CONFIRM_BOUNDS_MS[-1] / 1000 + 1)
    phone.sync.sync_now()
    assert metrics(admin_conn, user)[("create_to_confirm_ms", "inf")] == 1


def test_rejected_writes_count_dead_and_server_errors_count_retried_but_offline_does_not(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "outcomes@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock)
    project = phone.sync.create_project("Outcomes")
    phone.sync.create_scene_draft(project.row_id, "too long", 6000.0)

    phone.network.offline = True
    phone.sync.run_once()  # unreachable: not a release failure
    phone.network.offline = False
    phone.network.gateway_errors = 1
    clock.advance(120)
    phone.sync.run_once()  # a server error: both entries are retried
    clock.advance(120)
    phone.sync.sync_now()

    assert metrics(admin_conn, user) == {
        ("sync_outcome", "retried"): 2,
        ("sync_outcome", "confirmed"): 1,
        ("sync_outcome", "dead"): 1,
        ("create_to_confirm_ms", "inf"): 1,
    }


def test_sync_metrics_are_counted_once_when_an_acknowledgement_is_lost(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "replayed@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock)
    phone.sync.telemetry.sync_outcome("confirmed", 3)
    phone.sync.telemetry.create_to_confirm(0.1)
    phone.network.drop_acks = 1  # record_sync_metrics applied, its answer lost
    assert phone.sync.flush_telemetry() == 0
    assert phone.sync.flush_telemetry() == 2
    assert metrics(admin_conn, user) == {
        ("sync_outcome", "confirmed"): 3,
        ("create_to_confirm_ms", "250"): 1,
    }

    phone.sync.telemetry.emit("library_load")
    phone.sync.telemetry.sync_outcome("dead")
    phone.network.drop_acks = 1  # batch_upsert_telemetry applied, its answer lost
    assert phone.sync.flush_telemetry() == 0
    assert phone.sync.flush_telemetry() == 2
    assert metrics(admin_conn, user)[("sync_outcome", "dead")] == 1
    telemetry = server_rows(
        admin_conn, "SELECT element, attempts FROM continuity_telemetry WHERE user_id = %s", (user,)
    )
    assert telemetry == [("library_load", 1)]
    assert phone.network.calls_to("record_sync_metrics") == 3


def test_the_client_histogram_bounds_are_the_servers(admin_conn: Conn):
    rows = server_rows(admin_conn, "SELECT private.create_to_confirm_bounds()")
    assert tuple(rows[0][0]) == CREATE_TO_CONFIRM_BOUNDS_MS


def test_settling_a_batch_buffers_one_record_per_metric_and_the_counts_stay_exact(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "batched@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock)
    for n in range(40):
        phone.sync.create_project(f"Batched {n}")
    clock.advance(0.2)
    phone.sync.run_once()  # the push of all 40, without the telemetry flush of a sync_now

    # Claimed under a batch id the flush below then sends.
    _, buffered = phone.sync.storage.claim_telemetry_batch(str(uuid.uuid4()), 1000)
    per_element: dict[str, list[tuple[int, int]]] = {}
    for record in buffered:
        per_element.setdefault(record.element, []).append((record.attempts, record.successes))
    assert per_element["sync_outcome:confirmed"] == [(40, 40)]
    assert per_element["create_confirmed"] == [(40, 40)]
    assert sum(a for a, _ in per_element["create_to_confirm_ms:250"]) == 40
    assert len(per_element["create_to_confirm_ms:250"]) == 1

    phone.sync.flush_telemetry()
    assert metrics(admin_conn, user) == {
        ("sync_outcome", "confirmed"): 40,
        ("create_to_confirm_ms", "250"): 40,
    }
