"""Push batches: as many queued mutations as the server takes and the request size allows."""

from __future__ import annotations

import json
import random
from pathlib import Path

from directorstudio.contracts.sync import MAX_PUSH_BATCH, MAX_PUSH_BYTES
from directorstudio.server.limits import MAX_BODY_BYTES
from directorstudio_client import ManualClock, MemoryStorage, SQLiteStorage, SyncService
from directorstudio_client.sync.outbox import wire_mutation
from tests.support.client_network import FlakyNetwork
from tests.support.statement_spy import statements

USER = "11111111-1111-1111-1111-111111111111"
CLIENT = "44444444-4444-4444-4444-444444444444"


def offline_service() -> SyncService:
    sync = SyncService(
        MemoryStorage(),
        FlakyNetwork(offline=True),
        user_id=USER,
        client_id=CLIENT,
        clock=ManualClock(),
        rng=random.Random(1),
    )
    sync.realtime_enabled = False
    return sync


def test_small_mutations_fill_a_batch_up_to_the_servers_count_limit():
    sync = offline_service()
    for n in range(MAX_PUSH_BATCH + 20):
        sync.create_project(f"Project {n}")
    assert len(sync.drainer.next_batch()) == MAX_PUSH_BATCH


def test_large_mutations_make_a_batch_that_fits_the_request_size_limit():
    sync = offline_service()
    project = sync.create_project("Long scenes").row_id
    for n in range(60):
        sync.create_scene_draft(project, f"{n} " + "x" * 30_000, duration=2.0)
    batch = sync.drainer.next_batch()
    body = json.dumps({"p_client_id": CLIENT, "p_mutations": [wire_mutation(e) for e in batch]})
    assert 1 < len(batch) < 61
    assert len(body) <= MAX_PUSH_BYTES < MAX_BODY_BYTES
    assert [e.mutation_id for e in batch] == sorted(e.mutation_id for e in batch)


def test_one_mutation_larger_than_the_budget_is_still_sent_alone():
    sync = offline_service()
    project = sync.create_project("Huge").row_id
    sync.storage.get_open_entries(10)[0].args["title"] = "y" * (MAX_PUSH_BYTES + 1)
    sync.create_scene_draft(project, "after", duration=1.0)
    assert len(sync.drainer.next_batch()) >= 1


def test_choosing_a_batch_reads_the_first_open_entries_without_sorting_the_queue(
    tmp_path: Path,
) -> None:
    store = SQLiteStorage(tmp_path / "cache.db")
    sync = SyncService(store, FlakyNetwork(offline=True), user_id=USER, client_id=CLIENT)
    sync.realtime_enabled = False
    for n in range(30):
        sync.create_project(f"Project {n}")
    in_flight = frozenset(e.entry_id for e in sync.drainer.claim()[:5])
    with statements(store) as seen:
        sync.drainer.next_batch(in_flight)
    reads = [s for s in seen if s.startswith("SELECT") and "FROM outbox" in s]
    assert len(reads) == 1
    plan = " ".join(str(step[3]) for step in store._conn.execute(f"EXPLAIN QUERY PLAN {reads[0]}"))
    assert "outbox_open" in plan
    assert "TEMP B-TREE" not in plan
    store.close()
