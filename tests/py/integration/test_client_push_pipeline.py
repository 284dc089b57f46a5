"""A long replay goes out as pipelined batches (the next batch is sent while the last answer is
recorded); faults on the way keep the order of the mutations and apply each exactly once."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio_client import ManualClock
from directorstudio_client.storage import EntryState, SQLiteStorage
from directorstudio_client.sync.service import SyncService
from directorstudio_client.transport.postgres import PostgresTransport
from tests.support.client import Device, create_user, server_rows
from tests.support.client_network import FlakyNetwork

Conn = psycopg.Connection[Any]
PROJECTS = 6
SCENES = 3
BATCH = 4


@dataclass
class FaultsByPush(FlakyNetwork):
    """The network fake, with a fault on chosen ``sync_push`` calls (numbered from 1): the
    request lost (``unreachable``), a proxy's 502 (``gateway_error``) or the answer lost after
    the server committed (``lost_ack``)."""

    faults: dict[int, str] = field(default_factory=dict)
    pushes: list[list[int]] = field(default_factory=list)
    failed: set[int] = field(default_factory=set)
    senders: list[str] = field(default_factory=list)

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        if name != "sync_push":
            return super().rpc(name, args)
        self.pushes.append([int(m["mutation_id"]) for m in args["p_mutations"]])
        self.senders.append(threading.current_thread().name)
        fault = self.faults.get(len(self.pushes))
        if fault is not None:
            self.failed.add(len(self.pushes))
        if fault == "unreachable":
            raise DirectorStudioError("network unreachable", code=ErrorCode.UNAVAILABLE)
        self.gateway_errors = 1 if fault == "gateway_error" else 0
        self.drop_acks = 1 if fault == "lost_ack" else 0
        return super().rpc(name, args)


@pytest.fixture
def user(admin_conn: Conn) -> str:
    return create_user(admin_conn, "replayer@example.com")


def offline_work(device: Device) -> tuple[list[Any], list[list[str]]]:
    """Per project: a create, its scenes, an edit, a reorder and a delete; the handles and the
    scene ids."""
    sync = device.sync
    handles: list[Any] = []
    scene_ids: list[list[str]] = []
    for n in range(PROJECTS):
        project = sync.create_project(f"Replayed {n}")
        scenes = [sync.create_scene_draft(project.row_id, f"Scene {k}", 2.0) for k in range(SCENES)]
        ids = [s.row_id for s in scenes]
        handles += [project, *scenes]
        handles.append(sync.update_scene_draft(ids[0], {"prompt_text": "Edited offline"}))
        handles.append(sync.reorder_scene_drafts(project.row_id, list(reversed(ids))))
        handles.append(sync.delete_scene_draft(ids[-1]))
        scene_ids.append(ids)
    return handles, scene_ids


def faulty_device(
    tmp_path: Path, database_url: str, user: str, clock: ManualClock, faults: dict[int, str]
) -> tuple[Device, FaultsByPush]:
    """An offline device whose pushes meet ``faults``, pushing batches of ``BATCH``."""
    transport = PostgresTransport.for_user(database_url, user)
    network = FaultsByPush(transport, url=database_url, offline=True, faults=faults)
    sync = SyncService(
        SQLiteStorage(tmp_path / "phone.db"), network, user_id=user,
        client_id=str(uuid.uuid4()), clock=clock, rng=random.Random(1), batch_size=BATCH,
    )  # fmt: skip
    sync.realtime_enabled = False
    return Device(tmp_path / "phone.db", network, sync, sync.client_id), network


def replay(device: Device, clock: ManualClock) -> None:
    """Rounds until the outbox is empty, waiting out each retry."""
    for _ in range(50):
        device.sync.run_once()
        entries = device.sync.storage.get_pending_sync_entries()
        if not entries:
            return
        clock.set(max([clock.now(), *(e.next_attempt_at or 0 for e in entries)]))
    raise AssertionError("the outbox did not drain")


@pytest.mark.parametrize(
    "faults",
    [
        {},
        {2: "lost_ack", 4: "gateway_error"},
        {3: "unreachable", 5: "lost_ack", 6: "lost_ack"},
    ],
    ids=["no-fault", "ack-lost-then-502", "unreachable-then-acks-lost"],
)
def test_a_pipelined_replay_keeps_the_order_and_applies_each_mutation_once(
    tmp_path: Path, database_url: str, user: str, admin_conn: Conn, faults: dict[int, str]
) -> None:
    clock = ManualClock()
    device, network = faulty_device(tmp_path, database_url, user, clock, faults)
    handles, scene_ids = offline_work(device)
    sync = device.sync
    queued = [e.mutation_id for e in device.sync.storage.get_pending_sync_entries()]
    network.offline = False

    replay(device, clock)

    # In order: a batch is the queue's next mutations, and nothing acknowledged goes out again.
    acknowledged: list[int] = []
    for number, sent in enumerate(network.pushes, start=1):
        assert sent == sorted(sent)
        assert not set(sent) & set(acknowledged)
        assert min(sent) > max(acknowledged, default=0)
        if number not in network.failed:
            acknowledged += sent
    assert acknowledged == queued
    # Pipelined: batches after the first went out from the push thread, behind a recording.
    assert sum(name.startswith("directorstudio-push") for name in network.senders) >= 2
    # Exactly once: one recorded outcome per mutation, and every effect once.
    recorded = server_rows(
        admin_conn,
        "SELECT mutation_id FROM private.sync_mutations WHERE client_id = %s ORDER BY 1",
        (device.client_id,),
    )
    assert [r[0] for r in recorded] == queued
    assert all(h.result(0).outcome in ("applied", "duplicate") for h in handles)
    projects = server_rows(
        admin_conn,
        "SELECT count(*), max(version) FROM project_overview WHERE user_id = %s",
        (user,),
    )
    assert projects[0][0] == PROJECTS
    for ids in scene_ids:
        scenes = server_rows(
            admin_conn,
            "SELECT id::text, order_index, prompt_text, deleted_at IS NOT NULL"
            " FROM scene_drafts WHERE id = ANY (%s::uuid[]) ORDER BY order_index",
            (ids,),
        )
        assert [s[0] for s in scenes] == list(reversed(ids))
        assert [s[2] for s in scenes if s[0] == ids[0]] == ["Edited offline"]
        assert [s[3] for s in scenes] == [True] + [False] * (SCENES - 1)
    assert device.sync.storage.get_conflicts() == []
    sync.stop()
    device.storage.close()
    network.close()


@pytest.mark.parametrize("fault", ["unreachable", "lost_ack", "gateway_error"])
def test_the_batch_claimed_behind_a_failed_one_goes_back_to_waiting_unsent(
    tmp_path: Path, database_url: str, user: str, fault: str
) -> None:
    device, network = faulty_device(tmp_path, database_url, user, ManualClock(), {2: fault})
    offline_work(device)
    network.offline = False
    before = device.sync.storage.get_pending_sync_entries()

    device.sync.run_once()

    assert network.pushes == [
        [e.mutation_id for e in before[:BATCH]],
        [e.mutation_id for e in before[BATCH : 2 * BATCH]],
    ]
    states = [e.state for e in device.sync.storage.get_pending_sync_entries()]
    assert states == [EntryState.RETRY_WAIT] * BATCH + [EntryState.PENDING] * (
        len(before) - 2 * BATCH
    )
    device.sync.stop()
    device.storage.close()
    network.close()
