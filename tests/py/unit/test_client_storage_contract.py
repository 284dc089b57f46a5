"""One contract for every local store: the SQLite file store and the in-memory store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from directorstudio_client.storage import (
    CachedRow,
    ConflictRecord,
    EntryState,
    MemoryBacking,
    MemoryStorage,
    OutboxEntry,
    ProjectListRow,
    SceneListRow,
    SQLiteStorage,
    Storage,
    TelemetryRecord,
)

USER = "11111111-1111-1111-1111-111111111111"
OTHER = "22222222-2222-2222-2222-222222222222"
PROJECT = "33333333-3333-3333-3333-333333333333"

Opener = Callable[[], Storage]


@pytest.fixture(params=["sqlite", "memory"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """A factory that (re)opens the same store, as an app does after a restart."""
    backing = MemoryBacking()
    opened: list[Storage] = []

    def opener() -> Storage:
        store: Storage
        if request.param == "sqlite":
            store = SQLiteStorage(tmp_path / "cache.db")
        else:
            store = MemoryStorage(backing)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


def entry(entry_id: str, row_id: str = PROJECT, op: str = "upsert") -> OutboxEntry:
    return OutboxEntry(
        entry_id=entry_id,
        table="project_overview",
        op=op,
        row_id=row_id,
        args={"title": entry_id},
        created_at=100.0,
    )


def test_projects_are_listed_per_user_newest_first_without_archived_ones(open_store: Opener):
    store = open_store()
    store.upsert_project_overview(
        {"project_id": "p1", "user_id": USER, "last_updated": "2026-01-01"}
    )
    store.upsert_project_overview(
        {"project_id": "p2", "user_id": USER, "last_updated": "2026-02-01"}
    )
    store.upsert_project_overview(
        {"project_id": "p3", "user_id": OTHER, "last_updated": "2026-03-01"}
    )
    store.upsert_project_overview(
        {"project_id": "p4", "user_id": USER, "last_updated": "2026-04-01", "archived": True}
    )
    assert [p["project_id"] for p in store.get_project_overviews(USER)] == ["p2", "p1"]
    assert [p["project_id"] for p in store.get_project_overviews(USER, include_archived=True)] == [
        "p4",
        "p2",
        "p1",
    ]


def test_scene_drafts_come_in_order_and_archiving_hides_one(open_store: Opener):
    store = open_store()
    for index, scene in enumerate(["s2", "s1", "s3"]):
        store.upsert_scene_draft(
            {
                "id": scene,
                "project_id": PROJECT,
                "order_index": [1, 0, 2][index],
                "prompt_text": scene,
            }
        )
    assert [s["id"] for s in store.get_scene_drafts(PROJECT)] == ["s1", "s2", "s3"]
    store.mark_scene_draft_archived("s2")
    assert [s["id"] for s in store.get_scene_drafts(PROJECT)] == ["s1", "s3"]


def test_the_library_list_is_the_project_read_as_typed_rows(open_store: Opener):
    store = open_store()
    store.upsert_project_overview(
        {"project_id": "p1", "user_id": USER, "title": "One", "last_updated": "2026-01-01",
         "scene_count": 2, "total_duration": 4.5, "archived": False}
    )  # fmt: skip
    store.upsert_project_overview({"project_id": "p2", "user_id": USER, "last_updated": "2026-02"})
    store.upsert_project_overview(
        {"project_id": "p3", "user_id": USER, "last_updated": "2026-03", "archived": True}
    )
    store.upsert_project_overview({"project_id": "p4", "user_id": OTHER, "last_updated": "2026"})
    store.put_row(
        CachedRow("project_overview", "p5", {"project_id": "p5", "user_id": USER}, deleted=True)
    )

    assert store.list_projects(USER) == [
        ProjectListRow("p2", None, False, None, None, "2026-02"),
        ProjectListRow("p1", "One", False, 2, 4.5, "2026-01-01"),
    ]
    archived_too = store.list_projects(USER, include_archived=True)
    assert [(p.project_id, p.archived) for p in archived_too] == [
        ("p3", True), ("p2", False), ("p1", False)
    ]  # fmt: skip
    assert all(type(p.archived) is bool for p in archived_too)
    for include_archived in (False, True):
        views = store.get_project_overviews(USER, include_archived=include_archived)
        assert store.list_projects(USER, include_archived=include_archived) == [
            ProjectListRow.of(v) for v in views
        ]


def test_the_scene_list_is_the_scene_read_as_typed_rows(open_store: Opener):
    store = open_store()
    for scene, order in (("s2", 1), ("s1", 0), ("s3", 2), ("gone", 3)):
        store.upsert_scene_draft(
            {"id": scene, "project_id": PROJECT, "order_index": order, "prompt_text": scene,
             "duration": 2.0, "shot_type": "wide" if scene == "s1" else None}
        )  # fmt: skip
    store.mark_scene_draft_archived("s3")
    store.upsert_scene_draft({"id": "gone", "deleted_at": "2026-05-01"})
    store.upsert_scene_draft({"id": "elsewhere", "project_id": OTHER, "order_index": 0})

    assert store.list_scenes(PROJECT) == [
        SceneListRow("s1", PROJECT, 0, "s1", 2.0, None, "wide"),
        SceneListRow("s2", PROJECT, 1, "s2", 2.0, None, None),
    ]
    assert store.list_scenes(PROJECT) == [
        SceneListRow.of(v) for v in store.get_scene_drafts(PROJECT)
    ]


def test_an_upsert_merges_fields_into_the_cached_row(open_store: Opener):
    store = open_store()
    store.upsert_clip_job({"id": "j1", "user_id": USER, "prompt": "a", "status": "queued"})
    store.upsert_clip_job({"id": "j1", "status": "processing"})
    assert store.get_clip_jobs(USER) == [
        {"id": "j1", "user_id": USER, "prompt": "a", "status": "processing"}
    ]


def test_enqueued_entries_get_strictly_increasing_mutation_ids(open_store: Opener):
    store = open_store()
    first = store.enqueue_sync(entry("e1"))
    second = store.enqueue_sync(entry("e2"))
    reserved = store.next_mutation_id()
    third = store.enqueue_sync(entry("e3"))
    assert first.mutation_id < second.mutation_id < reserved < third.mutation_id
    assert [e.entry_id for e in store.get_pending_sync_entries()] == ["e1", "e2", "e3"]


def test_the_outbox_survives_reopening_the_store(open_store: Opener):
    store = open_store()
    stored = store.enqueue_sync(entry("e1"))
    stored.state = EntryState.RETRY_WAIT
    stored.attempts = 2
    stored.next_attempt_at = 123.5
    stored.last_error = {"code": "unavailable", "message": "offline"}
    store.update_sync_entry(stored)
    store.enqueue_sync(entry("e2"))
    store.set_cursor("cursor-1")
    store.close()

    reopened = open_store()
    entries = reopened.get_pending_sync_entries()
    assert [e.entry_id for e in entries] == ["e1", "e2"]
    assert entries[0] == stored
    assert reopened.get_cursor() == "cursor-1"
    assert reopened.enqueue_sync(entry("e3")).mutation_id > entries[1].mutation_id


def test_removed_and_done_entries_are_no_longer_pending(open_store: Opener):
    store = open_store()
    store.enqueue_sync(entry("e1"))
    done = store.enqueue_sync(entry("e2"))
    store.enqueue_sync(entry("e3"))
    store.remove_sync_entry("e1")
    done.state = EntryState.DONE
    store.update_sync_entry(done)
    assert [e.entry_id for e in store.get_pending_sync_entries()] == ["e3"]
    assert store.get_sync_entry("e1") is None


def test_entries_marked_in_flight_change_only_their_state(open_store: Opener):
    store = open_store()
    first = store.enqueue_sync(entry("e1"))
    store.enqueue_sync(entry("e2"))
    store.mark_in_flight(["e1", "missing"])
    marked = store.get_sync_entry("e1")
    assert marked is not None
    first.state = EntryState.IN_FLIGHT
    assert marked == first
    assert store.get_sync_entry("e2").state == EntryState.PENDING  # type: ignore[union-attr]
    assert [e.entry_id for e in store.get_open_entries_for_row("project_overview", PROJECT)] == [
        "e1",
        "e2",
    ]


def test_open_entries_leave_out_the_excluded_ones_and_keep_the_limit(open_store: Opener):
    store = open_store()
    for name in ("e1", "e2", "e3", "e4"):
        store.enqueue_sync(entry(name))
    found = store.get_open_entries(2, exclude=["e1", "e3"])
    assert [e.entry_id for e in found] == ["e2", "e4"]
    assert [e.entry_id for e in store.get_open_entries(2)] == ["e1", "e2"]


def test_removing_several_entries_removes_only_those(open_store: Opener):
    store = open_store()
    for name in ("e1", "e2", "e3"):
        store.enqueue_sync(entry(name))
    store.remove_sync_entries(["e1", "e3"])
    assert [e.entry_id for e in store.get_pending_sync_entries()] == ["e2"]
    assert [e.entry_id for e in store.get_open_entries_for_row("project_overview", PROJECT)] == [
        "e2"
    ]


def test_the_oldest_open_entry_and_dead_letters_are_told_without_a_summary(
    open_store: Opener,
):
    store = open_store()
    assert store.oldest_open_created_at() is None
    assert not store.has_dead_entries()
    for name, created, state in (
        ("e1", 50.0, EntryState.DEAD),
        ("e2", 70.0, EntryState.RETRY_WAIT),
        ("e3", 60.0, EntryState.IN_FLIGHT),
        ("e4", 80.0, EntryState.PENDING),
    ):
        stored = store.enqueue_sync(entry(name))
        stored.created_at, stored.state = created, state
        store.update_sync_entry(stored)
    assert store.oldest_open_created_at() == 60.0 == store.outbox_summary().oldest_open_created_at
    assert store.has_dead_entries()


def test_a_failed_transaction_leaves_nothing_behind(open_store: Opener):
    store = open_store()

    def crash_between_two_writes() -> None:
        with store.transaction():
            store.enqueue_sync(entry("e1"))
            store.upsert_project_overview({"project_id": "p1", "user_id": USER})
            raise RuntimeError("crash between the two writes")

    with pytest.raises(RuntimeError):
        crash_between_two_writes()
    assert store.get_pending_sync_entries() == []
    assert store.get_project_overviews(USER) == []


def test_a_failed_transaction_puts_back_every_kind_of_state_it_changed(open_store: Opener):
    store = open_store()
    store.upsert_project_overview({"project_id": "p1", "user_id": USER, "title": "Before"})
    store.enqueue_sync(entry("kept"))
    store.set_cursor("cursor before")
    store.set_meta("setting", "before")
    store.add_telemetry(TelemetryRecord("t1", "library_load", 1, 1, "2026-12-01", 1.0))
    conflict = ConflictRecord("c1", "project_overview", "p1", {}, {}, ["title"], [], 2)
    store.add_conflict(conflict)

    def crash_after_changing_everything() -> None:
        with store.transaction():
            store.upsert_project_overview({"project_id": "p1", "title": "After"})
            store.upsert_project_overview({"project_id": "p2", "user_id": USER})
            store.remove_sync_entry("kept")
            store.enqueue_sync(entry("new"))
            store.set_cursor("cursor after")
            store.set_meta("setting", "after")
            store.claim_telemetry_batch("batch", 10)
            store.remove_conflict("c1")
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash_after_changing_everything()
    assert [p["title"] for p in store.get_project_overviews(USER)] == ["Before"]
    assert [e.entry_id for e in store.get_pending_sync_entries()] == ["kept"]
    assert store.get_cursor() == "cursor before"
    assert store.get_meta("setting") == "before"
    assert [c.conflict_id for c in store.get_conflicts()] == ["c1"]
    batch_id, records = store.claim_telemetry_batch("fresh", 10)
    assert (batch_id, [r.event_id for r in records]) == ("fresh", ["t1"])
    assert store.enqueue_sync(entry("next")).mutation_id == 2  # the rolled-back id never existed


def test_a_memory_transaction_touches_only_what_it_changes():
    store = MemoryStorage()
    for n in range(1000):
        store.upsert_project_overview({"project_id": f"p{n}", "user_id": USER})
    untouched = store.backing.rows["project_overview"]["p500"]

    def crash_after_one_write() -> None:
        with store.transaction():
            store.upsert_project_overview({"project_id": "p1", "title": "Changed"})
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        crash_after_one_write()
    # Neither the transaction nor its rollback copied the rows it did not change.
    assert store.backing.rows["project_overview"]["p500"] is untouched
    assert store.get_row("project_overview", "p1") is not None
    assert "title" not in store.get_row("project_overview", "p1").row  # type: ignore[union-attr]


def test_subscribers_hear_local_changes_until_they_unsubscribe(open_store: Opener):
    store = open_store()
    heard: list[str] = []
    stop = store.subscribe("scene_drafts", heard.append)
    store.subscribe("outbox", heard.append)
    store.upsert_scene_draft({"id": "s1", "project_id": PROJECT, "order_index": 0})
    store.enqueue_sync(entry("e1"))
    stop()
    store.upsert_scene_draft({"id": "s2", "project_id": PROJECT, "order_index": 1})
    assert heard == ["scene_drafts", "outbox"]


def test_notifications_wait_for_the_transaction_to_commit(open_store: Opener):
    store = open_store()
    seen: list[int] = []
    store.subscribe(
        "project_overview", lambda _k: seen.append(len(store.get_project_overviews(USER)))
    )
    with store.transaction():
        store.upsert_project_overview({"project_id": "p1", "user_id": USER})
        store.upsert_project_overview({"project_id": "p2", "user_id": USER})
        assert seen == []
    assert seen == [2]


def test_a_conflict_replaces_the_open_one_for_the_same_row(open_store: Opener):
    store = open_store()

    def conflict(conflict_id: str, remote_version: int) -> ConflictRecord:
        return ConflictRecord(
            conflict_id=conflict_id,
            table="scene_drafts",
            id="s1",
            local={"prompt_text": "mine"},
            remote={"prompt_text": "theirs"},
            diff_fields=["prompt_text"],
            resolution_choices=["keep_local", "keep_remote", "merge"],
            remote_version=remote_version,
            created_at=float(remote_version),
        )

    store.add_conflict(conflict("c1", 2))
    store.add_conflict(conflict("c2", 3))
    assert [(c.conflict_id, c.remote_version) for c in store.get_conflicts()] == [("c2", 3)]
    assert store.get_conflicts()[0].to_event() == {
        "table": "scene_drafts",
        "id": "s1",
        "local": {"prompt_text": "mine"},
        "remote": {"prompt_text": "theirs"},
        "diffFields": ["prompt_text"],
        "resolutionChoices": ["keep_local", "keep_remote", "merge"],
    }
    store.remove_conflict("c2")
    assert store.get_conflicts() == []


def test_an_unacknowledged_telemetry_batch_is_claimed_again_under_its_id(open_store: Opener):
    store = open_store()
    for n in range(3):
        store.add_telemetry(
            TelemetryRecord(f"t{n}", "library_load", 1, 1, "2026-11-25", created_at=float(n))
        )
    batch_id, records = store.claim_telemetry_batch("b1", limit=2)
    assert (batch_id, [r.event_id for r in records]) == ("b1", ["t0", "t1"])
    store.close()
    reopened = open_store()
    assert reopened.claim_telemetry_batch("b2", limit=2)[0] == "b1"
    reopened.remove_telemetry_batch("b1")
    batch_id, records = reopened.claim_telemetry_batch("b3", limit=2)
    assert (batch_id, [r.event_id for r in records]) == ("b3", ["t2"])


def test_a_server_assigned_id_replaces_the_local_one_in_rows_and_open_entries(open_store: Opener):
    store = open_store()
    store.put_row(CachedRow("project_overview", "tmp", {"project_id": "tmp", "user_id": USER}))
    store.upsert_scene_draft({"id": "s1", "project_id": "tmp", "order_index": 0})
    scene_entry = OutboxEntry(
        entry_id="e-scene",
        table="scene_drafts",
        op="create",
        row_id="s1",
        args={"project_id": "tmp", "prompt_text": "x"},
    )
    store.enqueue_sync(scene_entry)
    store.enqueue_sync(entry("e-rename", row_id="tmp", op="rename"))
    store.remap_id("project_overview", "tmp", "srv")
    assert store.get_row("project_overview", "tmp") is None
    assert [p["project_id"] for p in store.get_project_overviews(USER)] == ["srv"]
    assert [s["id"] for s in store.get_scene_drafts("srv")] == ["s1"]
    by_id = {e.entry_id: e for e in store.get_pending_sync_entries()}
    assert by_id["e-scene"].args["project_id"] == "srv"
    assert by_id["e-rename"].row_id == "srv"


def test_server_versions_are_told_only_for_cached_rows_that_have_a_server_row(open_store: Opener):
    store = open_store()
    server = {"project_id": "pulled", "user_id": USER, "title": "Film", "version": 7}
    store.put_rows([
        CachedRow("project_overview", "pulled", dict(server), dict(server), 7),
        CachedRow("project_overview", "local", {"project_id": "local", "user_id": USER}),
    ])  # fmt: skip
    ids = ["pulled", "local", "unknown", *(f"other-{n}" for n in range(600))]
    assert store.server_versions("project_overview", ids) == {"pulled": 7}
    assert store.server_versions("scene_drafts", ["pulled"]) == {}


def test_the_sqlite_store_refuses_an_in_memory_database():
    with pytest.raises(ValueError, match="file path"):
        SQLiteStorage(":memory:")
