"""Discarding a dead-lettered write undoes its local effect on every row it touched."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg

from directorstudio.db.context import claims_for_user, request_transaction
from directorstudio_client import ManualClock
from tests.support.client import create_user, open_device, server_rows

Conn = psycopg.Connection[Any]


def test_discarding_a_stale_reorder_puts_every_scene_back_in_the_server_order(
    tmp_path: Path, database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "orderer@example.com")
    device = open_device(tmp_path / "phone.db", database_url, user, ManualClock())
    sync = device.sync
    try:
        project = sync.create_project("Order")
        scenes = [sync.create_scene_draft(project.row_id, f"scene {n}", 2.0) for n in range(2)]
        sync.run_once()
        with request_transaction(admin_conn, "authenticated", claims_for_user(user)):
            admin_conn.execute(  # another device appends a scene the phone has not seen
                "SELECT public.create_scene_draft(%s, %s, 'elsewhere', 1.0)",
                (str(uuid.uuid4()), project.row_id),
            )
        reorder = sync.reorder_scene_drafts(project.row_id, [s.row_id for s in reversed(scenes)])
        sync.run_once()
        [dead] = sync.health().dead_entries
        assert (dead.entry_id, (dead.last_error or {})["code"]) == (reorder.entry_id, "stale_order")

        sync.discard_dead(reorder.entry_id)

        local = {s["id"]: s["order_index"] for s in sync.storage.get_scene_drafts(project.row_id)}
        on_server = dict(
            server_rows(
                admin_conn,
                "SELECT id::text, order_index FROM scene_drafts WHERE id = ANY(%s::uuid[])",
                ([s.row_id for s in scenes],),
            )
        )
        assert local == on_server
    finally:
        sync.stop()
        device.network.close()
