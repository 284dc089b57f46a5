"""An app update keeps the cache and the queue: a file written by the schema of an earlier
release (the first, the second; copied here as they were shipped) opens with the current code
and loses nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from directorstudio_client.storage import EntryState, ProjectListRow, SceneListRow, SQLiteStorage
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


# The schema of release 2 (tables mirroring the server's, plain app indexes), as it created a
# cache file; release 3 replaced its project and scene indexes with covering list indexes.
_ROW_META = (
    "_server_version INTEGER NOT NULL DEFAULT 0, _deleted INTEGER NOT NULL DEFAULT 0,"
    " _server_row TEXT, _extra TEXT"
)
RELEASE_2_SCHEMA = [
    "CREATE TABLE project_overview (project_id TEXT PRIMARY KEY, user_id TEXT, title TEXT,"
    " archived INTEGER, scene_count INTEGER, total_duration REAL, project_created_at TEXT,"
    f" last_updated TEXT, duplicated_from TEXT, deleted_at TEXT, version INTEGER, {_ROW_META})",
    "CREATE INDEX project_overview_by_user_id_last_updated"
    " ON project_overview (user_id, last_updated)",
    "CREATE TABLE scene_drafts (id TEXT PRIMARY KEY, user_id TEXT, project_id TEXT,"
    " order_index INTEGER, prompt_text TEXT, duration REAL, scene_type TEXT, shot_type TEXT,"
    " archived INTEGER, created_at TEXT, updated_at TEXT, deleted_at TEXT, version INTEGER,"
    f" {_ROW_META})",
    "CREATE INDEX scene_drafts_by_project_id_order_index ON scene_drafts (project_id, order_index)",
    "CREATE TABLE screenplays (id TEXT PRIMARY KEY, user_id TEXT, title TEXT, content TEXT,"
    " archived INTEGER, created_at TEXT, updated_at TEXT, deleted_at TEXT, version INTEGER,"
    f" {_ROW_META})",
    "CREATE TABLE screenplay_sections (id TEXT PRIMARY KEY, screenplay_id TEXT, user_id TEXT,"
    " heading TEXT, content TEXT, order_index INTEGER, archived INTEGER, created_at TEXT,"
    f" updated_at TEXT, deleted_at TEXT, version INTEGER, {_ROW_META})",
    "CREATE INDEX screenplay_sections_by_screenplay_id_order_index"
    " ON screenplay_sections (screenplay_id, order_index)",
    "CREATE TABLE clip_jobs (id TEXT PRIMARY KEY, user_id TEXT, user_key TEXT, project_id TEXT,"
    " scene_draft_id TEXT, prompt TEXT, status TEXT, progress INTEGER, charge TEXT,"
    " attempts INTEGER, provider_job_id TEXT, submitted_at TEXT, started_at TEXT,"
    " completed_at TEXT, canceled_at TEXT, refunded_at TEXT, download_url TEXT,"
    " error_message TEXT, created_at TEXT, updated_at TEXT, deleted_at TEXT, version INTEGER,"
    f" {_ROW_META})",
    "CREATE INDEX clip_jobs_by_user_id_submitted_at ON clip_jobs (user_id, submitted_at)",
    RELEASE_1_SCHEMA[5].replace("outcome TEXT", "outcome TEXT, base_mutation_id INTEGER"),
    "CREATE INDEX outbox_by_state ON outbox (state, next_attempt_at)",
    "CREATE INDEX outbox_by_age ON outbox (state, created_at)",
    "CREATE INDEX outbox_open ON outbox (mutation_id)"
    " WHERE state IN ('in_flight', 'pending', 'retry_wait')",
    "CREATE INDEX outbox_errors ON outbox (mutation_id) WHERE last_error IS NOT NULL",
    "CREATE TABLE outbox_rows (table_name TEXT NOT NULL, row_id TEXT NOT NULL,"
    " entry_id TEXT NOT NULL, mutation_id INTEGER NOT NULL,"
    " PRIMARY KEY (table_name, row_id, mutation_id)) WITHOUT ROWID",
    "CREATE INDEX outbox_rows_by_entry ON outbox_rows (entry_id)",
    *RELEASE_1_SCHEMA[7:],
    "PRAGMA user_version = 2",
]
ARCHIVED_SCENE = "77777777-7777-7777-7777-777777777777"
DELETED_SCENE = "88888888-8888-8888-8888-888888888888"


def write_release_2_cache(path: Path) -> None:
    conn = sqlite3.connect(str(path))
    for statement in RELEASE_2_SCHEMA:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO project_overview VALUES (?, ?, 'Renamed offline', 0, 1, 4.0, NULL,"
        " '2026-11-20T10:00:00+00:00', NULL, NULL, 3, 3, 0, ?, NULL)",
        (PROJECT, USER, json.dumps(SERVER_PROJECT)),
    )
    scenes = [
        (SCENE, 0, "Dawn", 0, None, 0), (ARCHIVED_SCENE, 1, "Noon", 1, None, 0),
        (DELETED_SCENE, 2, "Dusk", 0, "2026-11-21T00:00:00+00:00", 1),
    ]  # fmt: skip
    for scene_id, order, text, archived, deleted_at, deleted in scenes:
        conn.execute(
            "INSERT INTO scene_drafts VALUES (?, ?, ?, ?, ?, 4.0, NULL, 'wide', ?,"
            " '2026-11-20T10:01:00+00:00', NULL, ?, NULL, 0, ?, NULL, NULL)",
            (scene_id, USER, PROJECT, order, text, archived, deleted_at, deleted),
        )
    conn.execute(
        "INSERT INTO outbox (entry_id, mutation_id, table_name, op, row_id, base_version, args,"
        " state, created_at) VALUES ('e-rename', 1, 'project_overview', 'rename', ?, 3, ?,"
        " 'pending', 100.0)",
        (PROJECT, json.dumps({"title": "Renamed offline"})),
    )
    conn.execute(
        "INSERT INTO outbox_rows VALUES ('project_overview', ?, 'e-rename', 1)", (PROJECT,)
    )
    conn.execute("INSERT INTO meta VALUES ('last_mutation_id', '1')")
    conn.commit()
    conn.close()


def test_a_release_2_cache_opens_with_its_rows_and_queue_and_lists_from_the_new_indexes(
    tmp_path: Path,
):
    path = tmp_path / "cache.db"
    write_release_2_cache(path)
    store = SQLiteStorage(path)

    assert store.list_projects(USER) == [
        ProjectListRow(PROJECT, "Renamed offline", False, 1, 4.0, "2026-11-20T10:00:00+00:00")
    ]
    assert store.list_scenes(PROJECT) == [
        SceneListRow(SCENE, PROJECT, 0, "Dawn", 4.0, None, "wide")
    ]
    assert [s["id"] for s in store.get_scene_drafts(PROJECT)] == [SCENE]
    project = store.get_row("project_overview", PROJECT)
    assert project is not None
    assert (project.server_row, project.version) == (SERVER_PROJECT, 3)
    assert [e.entry_id for e in store.get_open_entries_for_row("project_overview", PROJECT)] == [
        "e-rename"
    ]
    assert store.next_mutation_id() == 2
    store.close()
    conn = sqlite3.connect(str(path))
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert {"project_overview_list", "scene_drafts_list"} <= indexes
    assert "project_overview_by_user_id_last_updated" not in indexes
    assert "scene_drafts_by_project_id_order_index" not in indexes
