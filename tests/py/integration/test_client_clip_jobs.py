"""Clip jobs through the client: the render's progress reaches the cache, cancel refunds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from directorstudio.db.context import request_transaction
from directorstudio_client import ManualClock
from tests.support.client import create_user, open_device, server_rows

Conn = psycopg.Connection[Any]


def render_event(database_url: str, event_id: str, job_id: str, status: str, **extra: Any) -> None:
    """What the render provider's webhook does on the server."""
    with psycopg.connect(database_url) as conn, request_transaction(conn, "service_role"):
        conn.execute(
            "SELECT public.apply_clip_event(p_event_id => %s, p_job_id => %s::uuid,"
            " p_status => %s, p_download_url => %s)",
            (event_id, job_id, status, extra.get("download_url")),
        )


def test_a_completed_render_reaches_the_cache_with_its_download_url(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "viewer@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock, realtime=True)
    try:
        job = phone.sync.submit_clip_job("a lighthouse at dusk")
        assert phone.storage.get_clip_jobs(user)[0]["status"] == "queued"
        phone.sync.sync_now()
        assert job.result(0).outcome == "applied"

        render_event(database_url, "ev-1", job.row_id, "processing")
        render_event(
            database_url, "ev-2", job.row_id, "completed", download_url="https://cdn.example/c.mp4"
        )
        assert phone.sync.wait_for_hint(timeout=10)
        phone.sync.run_once()
        [cached] = phone.storage.get_clip_jobs(user)
        assert (cached["status"], cached["download_url"]) == (
            "completed",
            "https://cdn.example/c.mp4",
        )
        phone.sync.flush_telemetry()
        assert server_rows(
            admin_conn,
            "SELECT attempts FROM continuity_telemetry WHERE element = 'clip_job_completed'",
        ) == [(1,)]
    finally:
        phone.sync.stop()
        phone.network.close()


def test_canceling_a_queued_clip_from_the_client_refunds_it_once(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "canceler@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock)
    job = phone.sync.submit_clip_job("never mind")
    phone.sync.sync_now()
    phone.network.drop_acks = 1
    cancel = phone.sync.cancel_clip_job(job.row_id)
    assert phone.storage.get_clip_jobs(user)[0]["status"] == "canceled"
    phone.sync.run_once()
    clock.advance(60)
    phone.sync.run_once()
    assert cancel.result(0).outcome == "duplicate"
    assert server_rows(admin_conn, "SELECT status FROM clip_jobs") == [("canceled",)]
    assert server_rows(admin_conn, "SELECT kind FROM credit_transactions ORDER BY id") == [
        ("first_clip",),
        ("first_clip_refund",),
    ]
    assert server_rows(
        admin_conn, "SELECT first_clip_consumed FROM credits_ledger WHERE user_key = %s", (user,)
    ) == [(False,)]
