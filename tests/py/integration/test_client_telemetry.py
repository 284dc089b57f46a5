"""Telemetry from the client: buffered durably, flushed in batches, counted once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from directorstudio_client import ManualClock
from tests.support.client import create_user, open_device, server_rows

Conn = psycopg.Connection[Any]


def counters(admin: Conn) -> dict[str, tuple[int, int]]:
    rows = server_rows(admin, "SELECT element, attempts, successes FROM continuity_telemetry")
    return {element: (attempts, successes) for element, attempts, successes in rows}


def test_buffered_events_survive_a_restart_and_a_lost_acknowledgement_counts_once(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "metrics@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock, offline=True)
    for _ in range(3):
        phone.sync.telemetry.emit("library_load")
    phone.sync.telemetry.emit("create_failed")
    phone = phone.restart(clock)

    phone.network.offline = False
    phone.network.drop_acks = 1
    assert phone.sync.flush_telemetry() == 0
    assert counters(admin_conn) == {"library_load": (3, 3), "create_failed": (1, 0)}
    assert phone.sync.flush_telemetry() == 4
    assert counters(admin_conn) == {"library_load": (3, 3), "create_failed": (1, 0)}
    assert phone.sync.flush_telemetry() == 0


def test_creating_and_syncing_emits_the_handoff_events_and_queue_health(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "events@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock)
    project = phone.sync.create_project("Measured")
    phone.sync.create_scene_draft(project.row_id, "first", 3.0)
    phone.sync.sync_now()
    assert counters(admin_conn) == {
        "create_initiated": (2, 2),
        "create_confirmed": (2, 2),
        "sync_latency": (1, 1),
        "sync_push": (2, 2),
        "outbox_health": (1, 1),
    }
