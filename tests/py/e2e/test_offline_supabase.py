"""Offline create through the production transport: supabase-py against the local gateway."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import psycopg

from directorstudio_client import ManualClock, SQLiteStorage, SyncService
from directorstudio_client.transport.supabase import SupabaseTransport
from tests.support.client import server_rows
from tests.support.client_network import FlakyNetwork
from tests.support.gateway import running_gateway

Conn = psycopg.Connection[Any]


def test_work_done_offline_reaches_the_server_through_supabase_after_a_restart(
    tmp_path: Path, database_url: str, admin_conn: Conn
):
    clock = ManualClock()
    cache = tmp_path / "phone.db"
    client_id = str(uuid.uuid4())
    with running_gateway(database_url, render_dir=tmp_path / "renders") as gateway:
        supabase = SupabaseTransport(gateway.url, gateway.keys.anon_key, auto_refresh_token=False)
        user_id = supabase.sign_up("roamer@example.com", "correct horse battery")

        def open_service(network: FlakyNetwork) -> SyncService:
            sync = SyncService(
                SQLiteStorage(cache), network, user_id=user_id, client_id=client_id,
                clock=clock, rng=random.Random(5),
            )  # fmt: skip
            return sync

        offline = FlakyNetwork(supabase, offline=True)
        sync = open_service(offline)
        project = sync.create_project("Over the air")
        scene = sync.create_scene_draft(project.row_id, "Radio tower", 3.0)
        sync.run_once()
        assert sync.health().counts["retry_wait"] == 2
        sync.stop()
        sync.storage.close()

        online = FlakyNetwork(supabase)
        sync = open_service(online)
        clock.advance(120)
        sync.run_once()
        try:
            assert sync.health().realtime_active
            assert sync.health().counts["retry_wait"] == 0
            assert server_rows(
                admin_conn, "SELECT id::text, project_id::text, prompt_text FROM scene_drafts"
            ) == [(scene.row_id, project.row_id, "Radio tower")]
            cached = sync.storage.get_row("project_overview", project.row_id)
            assert cached is not None
            assert cached.row["scene_count"] == 1
        finally:
            sync.stop()
            sync.storage.close()
