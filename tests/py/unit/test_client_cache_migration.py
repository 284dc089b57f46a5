"""An app update keeps the cache and the queue: a file written by the first release's schema
(copied here as it was shipped) opens with the current code and loses nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from directorstudio_client.storage import EntryState, SQLiteStorage
from directorstudio_client.storage.sqlite_schema import SCHEMA_VERSION

USER = "11111111-1111-1111-1111-111111111111"
PROJECT = "33333333-3333-3333-3333-333333333333"
SCENE = "55555555-5555-5555-5555-555555555555"

# The schema of the first release, exactly as it created a cache file.
RELEASE_1_SCHEMA = [
    *(
        f"""CREATE TABLE IF NOT EXISTS {table} (
            id TEXT PRIMARY KEY,
            version INTEGER NOT NULL DEFAULT 0,
            deleted INTEGER NOT NULL DEFAULT 0,
            row TEXT NOT NULL,
            server_row TEXT
        )"""
        for table in (
            "project_overview",
            "scene_drafts",
            "screenplays",
            "screenplay_sections",
            "clip_jobs",
        )
    ),
    """CREATE TABLE IF NOT EXISTS outbox (
        entry_id TEXT PRIMARY KEY,
        mutation_id INTEGER NOT NULL UNIQUE,
        table_name TEXT NOT NULL,
        op TEXT NOT NULL,
        row_id TEXT NOT NULL,
        base_version INTEGER,
        args TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('pending', 'in_flight', 'retry_wait', 'dead', 'done')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        last_error TEXT,
        created_at REAL NOT NULL,
        window_started_at REAL,
        window_attempts INTEGER NOT NULL DEFAULT 0,
        requeues INTEGER NOT NULL DEFAULT 0,
        outcome TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, mutation_id)",
    """CREATE TABLE IF NOT EXISTS sync_cursor (
        only_one INTEGER PRIMARY KEY CHECK (only_one = 1),
        cursor TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS conflict_inbox (
        conflict_id TEXT PRIMARY KEY,
        table_name TEXT NOT NULL,
        row_id TEXT NOT NULL,
        local TEXT NOT NULL,
        remote TEXT NOT NULL,
        diff_fields TEXT NOT NULL,
        resolution_choices TEXT NOT NULL,
        remote_version INTEGER NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (table_name, row_id)
    )""",
    """CREATE TABLE IF NOT EXISTS telemetry_buffer (
        event_id TEXT PRIMARY KEY,
        element TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        successes INTEGER NOT NULL,
        day TEXT NOT NULL,
        created_at REAL NOT NULL,
        batch_id TEXT
    )""",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]

SERVER_PROJECT = {
    "project_id": PROJECT, "user_id": USER, "title": "On the server", "archived": False,
    "scene_count": 1, "total_duration": 4.0, "last_updated": "2026-11-20T10:00:00+00:00",
    "version": 3, "field_versions": {"title": 3}, "sync_txid": "900", "deleted_at": None,
}  # fmt: skip
LOCAL_PROJECT = {**SERVER_PROJECT, "title": "Renamed offline"}
LOCAL_SCENE = {
    "id": SCENE, "project_id": PROJECT, "user_id": USER, "prompt_text": "Dawn", "duration": 4.0,
    "order_index": 0, "archived": False, "created_at": "2026-11-20T10:01:00+00:00",
}  # fmt: skip


def write_release_1_cache(path: Path) -> None:
    conn = sqlite3.connect(str(path))
    for statement in RELEASE_1_SCHEMA:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO project_overview VALUES (?, 3, 0, ?, ?)",
        (PROJECT, json.dumps(LOCAL_PROJECT), json.dumps(SERVER_PROJECT)),
    )
    conn.execute(
        "INSERT INTO scene_drafts VALUES (?, 0, 0, ?, NULL)", (SCENE, json.dumps(LOCAL_SCENE))
    )
    outbox = [
        ("e-rename", 1, "project_overview", "rename", PROJECT, 3, {"title": "Renamed offline"},
         "retry_wait", 2, 150.0, {"code": "unavailable", "message": "offline"}),
        ("e-scene", 2, "scene_drafts", "create", SCENE, None,
         {"project_id": PROJECT, "prompt_text": "Dawn", "duration": 4.0, "order_index": 0},
         "pending", 0, None, None),
        ("e-reorder", 3, "scene_drafts", "reorder", PROJECT, None,
         {"project_id": PROJECT, "ordered_ids": [SCENE]}, "pending", 0, None, None),
        ("e-dead", 4, "clip_jobs", "enqueue", "66666666-6666-6666-6666-666666666666", None,
         {"prompt": "x"}, "dead", 1, None, {"code": "insufficient_credits", "message": "no"}),
    ]  # fmt: skip
    for entry_id, mid, table, op, row_id, base, args, state, attempts, nxt, error in outbox:
        conn.execute(
            "INSERT INTO outbox (entry_id, mutation_id, table_name, op, row_id, base_version,"
            " args, state, attempts, next_attempt_at, last_error, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 100.0)",
            (entry_id, mid, table, op, row_id, base, json.dumps(args), state, attempts, nxt,
             None if error is None else json.dumps(error)),
        )  # fmt: skip
    conn.execute("INSERT INTO sync_cursor VALUES (1, 'cursor-7')")
    conn.execute(
        "INSERT INTO conflict_inbox VALUES ('c1', 'scene_drafts', ?, ?, ?, ?, ?, 4, 90.0)",
        (SCENE, '{"prompt_text": "Dawn"}', '{"prompt_text": "Dusk"}', '["prompt_text"]',
         '["keep_local", "keep_remote", "merge"]'),
    )  # fmt: skip
    conn.execute(
        "INSERT INTO telemetry_buffer VALUES ('t1', 'library_load', 1, 1, '2026-11-25', 1.0, NULL)"
    )
    conn.execute("INSERT INTO meta VALUES ('last_mutation_id', '4'), ('client_id', 'c-1')")
    conn.commit()
    conn.close()


def test_a_release_1_cache_opens_with_its_rows_queue_cursor_conflicts_and_telemetry(
    tmp_path: Path,
):
    path = tmp_path / "cache.db"
    write_release_1_cache(path)
    store = SQLiteStorage(path)

    project = store.get_row("project_overview", PROJECT)
    assert project is not None
    assert (project.row["title"], project.server_row, project.version) == (
        "Renamed offline", SERVER_PROJECT, 3,
    )  # fmt: skip
    assert [p["title"] for p in store.get_project_overviews(USER)] == ["Renamed offline"]
    assert store.get_scene_drafts(PROJECT) == [LOCAL_SCENE]
    entries = store.get_pending_sync_entries()
    assert [(e.entry_id, e.state) for e in entries] == [
        ("e-rename", EntryState.RETRY_WAIT),
        ("e-scene", EntryState.PENDING),
        ("e-reorder", EntryState.PENDING),
        ("e-dead", EntryState.DEAD),
    ]
    assert entries[0].last_error == {"code": "unavailable", "message": "offline"}
    assert [e.entry_id for e in store.get_open_entries_for_row("scene_drafts", SCENE)] == [
        "e-scene",
        "e-reorder",
    ]
    assert store.get_cursor() == "cursor-7"
    assert [c.conflict_id for c in store.get_conflicts()] == ["c1"]
    assert store.claim_telemetry_batch("b1", 10)[1][0].event_id == "t1"
    assert store.get_meta("client_id") == "c-1"
    assert store.next_mutation_id() == 5
    store.close()


def test_a_migrated_cache_records_the_current_schema_version_and_reopens_unchanged(
    tmp_path: Path,
):
    path = tmp_path / "cache.db"
    write_release_1_cache(path)
    SQLiteStorage(path).close()
    conn = sqlite3.connect(str(path))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    reopened = SQLiteStorage(path)
    assert len(reopened.get_pending_sync_entries()) == 4
    assert [s["id"] for s in reopened.get_scene_drafts(PROJECT)] == [SCENE]
    reopened.close()
