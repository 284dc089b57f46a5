"""Offline create: work done without a network survives a restart and reaches the server once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from directorstudio.db.context import request_transaction
from directorstudio_client import ManualClock
from tests.support.client import create_user, open_device, server_rows

Conn = psycopg.Connection[Any]


def grant(database_url: str, user: str, amount: int) -> None:
    with psycopg.connect(database_url) as conn, request_transaction(conn, "service_role"):
        conn.execute(
            "SELECT public.grant_credits(%s, %s, %s, %s::uuid)",
            (user, amount, f"test-grant-{user}", user),
        )


def test_offline_projects_scenes_and_clips_reach_the_server_after_a_restart(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "traveller@example.com")
    grant(database_url, user, 2)
    phone = open_device(tmp_path / "phone.db", database_url, user, clock, offline=True)

    project = phone.sync.create_project("Road movie")
    first = phone.sync.create_scene_draft(project.row_id, "A car at dusk", 4.0, shot_type="wide")
    second = phone.sync.create_scene_draft(project.row_id, "The motel sign", 2.5)
    clips = [
        phone.sync.submit_clip_job(prompt, project_id=project.row_id, scene_draft_id=scene.row_id)
        for prompt, scene in (("dusk", first), ("sign", second))
    ]
    phone.sync.run_once()
    assert server_rows(admin_conn, "SELECT count(*) FROM project_overview") == [(0,)]
    assert phone.sync.health().counts["retry_wait"] == 5

    # The app is killed and started again, still offline: everything is still there.
    phone = phone.restart(clock)
    assert [p["title"] for p in phone.storage.get_project_overviews(user)] == ["Road movie"]
    assert [s["prompt_text"] for s in phone.storage.get_scene_drafts(project.row_id)] == [
        "A car at dusk",
        "The motel sign",
    ]
    assert [e.op for e in phone.storage.get_pending_sync_entries()] == [
        "upsert", "create", "create", "enqueue", "enqueue",
    ]  # fmt: skip

    # Back online.
    phone.network.offline = False
    clock.advance(120)
    phone.sync.run_once()

    assert phone.sync.health().counts == {"pending": 0, "in_flight": 0, "retry_wait": 0, "dead": 0}
    assert server_rows(
        admin_conn,
        "SELECT title, scene_count, total_duration FROM project_overview WHERE project_id = %s",
        (project.row_id,),
    ) == [("Road movie", 2, 6.5)]
    assert server_rows(
        admin_conn,
        "SELECT id::text, order_index, shot_type FROM scene_drafts ORDER BY order_index",
    ) == [(first.row_id, 0, "wide"), (second.row_id, 1, None)]
    assert server_rows(
        admin_conn,
        "SELECT id::text, status, charge FROM clip_jobs ORDER BY submitted_at, charge DESC",
    ) == [(clips[0].row_id, "queued", "free"), (clips[1].row_id, "queued", "credit")]
    assert server_rows(
        admin_conn,
        "SELECT credits, first_clip_consumed FROM credits_ledger WHERE user_key = %s",
        (user,),
    ) == [(1, True)]
    assert server_rows(admin_conn, "SELECT kind, delta FROM credit_transactions ORDER BY id") == [
        ("grant", 2),
        ("first_clip", 0),
        ("consume", -1),
    ]

    # The cache now holds the server's rows.
    cached = phone.storage.get_row("project_overview", project.row_id)
    assert cached is not None
    assert cached.server_row is not None
    assert cached.row["scene_count"] == 2
    assert [j["status"] for j in phone.storage.get_clip_jobs(user)] == ["queued", "queued"]


def test_a_replayed_offline_queue_charges_nothing_twice(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    user = create_user(admin_conn, "twice@example.com")
    phone = open_device(tmp_path / "phone.db", database_url, user, clock, offline=True)
    phone.sync.submit_clip_job("one free clip")
    phone = phone.restart(clock)
    phone.network.offline = False
    phone.network.drop_acks = 1
    phone.sync.run_once()
    phone = phone.restart(clock)
    clock.advance(120)
    phone.sync.run_once()
    assert phone.sync.health().counts["retry_wait"] == 0
    assert server_rows(admin_conn, "SELECT count(*) FROM clip_jobs") == [(1,)]
    assert server_rows(admin_conn, "SELECT kind FROM credit_transactions") == [("first_clip",)]
