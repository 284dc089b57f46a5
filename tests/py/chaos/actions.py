"""Operations as data, applied to a client through its public write API.

The generator produces these dicts; the in-process clients and the client subprocess apply
them with :func:`apply_op`, so the op log is the same whichever process ran it.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directorstudio_client import ManualClock, SQLiteStorage, SyncHandle, SyncService
from directorstudio_client.transport.supabase import SupabaseTransport

PASSWORD = "correct horse battery staple"
OPEN_STATES = ("pending", "in_flight", "retry_wait")
RETRY_STEP = 61.0  # past any backoff delay and any retry window: every entry is due again


def apply_op(sync: SyncService, op: dict[str, Any]) -> SyncHandle:
    """Apply one generated operation locally (it reaches the server with the next push)."""
    kind = op["kind"]
    if kind == "create_project":
        return sync.create_project(op["title"], project_id=op["id"])
    if kind == "rename_project":
        return sync.rename_project(op["id"], op["title"])
    if kind == "duplicate_project":
        return sync.duplicate_project(op["source"], op["title"], new_project_id=op["id"])
    if kind == "create_scene":
        return sync.create_scene_draft(
            op["project_id"], op["prompt_text"], op["duration"], scene_id=op["id"]
        )
    if kind == "edit_scene":
        return sync.update_scene_draft(op["id"], op["patch"])
    if kind == "reorder_scenes":
        return sync.reorder_scene_drafts(op["project_id"], op["ordered_ids"])
    if kind == "delete_scene":
        return sync.delete_scene_draft(op["id"])
    if kind == "submit_clip":
        return sync.submit_clip_job(op["prompt"], project_id=op["project_id"], job_id=op["id"])
    if kind == "cancel_clip":
        return sync.cancel_clip_job(op["id"])
    raise ValueError(f"unknown operation {kind}")


@dataclass
class Device:
    """One app install: a cache file, its own signed-in transport, its own clock."""

    name: str
    user_id: str
    email: str
    cache: Path
    client_id: str
    sync: SyncService
    clock: ManualClock

    @property
    def storage(self) -> SQLiteStorage:
        store = self.sync.storage
        assert isinstance(store, SQLiteStorage)
        return store

    def open_entries(self) -> int:
        counts = self.sync.health().counts
        return sum(counts.get(state, 0) for state in OPEN_STATES)

    def close(self) -> None:
        self.sync.stop()
        self.storage.close()


def sign_in(url: str, anon_key: str, email: str, *, sign_up: bool) -> tuple[SupabaseTransport, str]:
    """A transport signed in as ``email`` (created first when ``sign_up``)."""
    transport = SupabaseTransport(url, anon_key, auto_refresh_token=False)
    if sign_up:
        user_id = transport.sign_up(email, PASSWORD)
    else:
        user_id = transport.sign_in_with_password(email, PASSWORD)
    return transport, user_id


def open_device(
    name: str,
    url: str,
    anon_key: str,
    email: str,
    cache: Path,
    *,
    client_id: str | None = None,
    seed: int = 0,
    sign_up: bool = False,
) -> Device:
    """Sign in and open a sync service on ``cache``; realtime off, time manual."""
    transport, user_id = sign_in(url, anon_key, email, sign_up=sign_up)
    storage = SQLiteStorage(cache)
    client_id = client_id or storage.get_meta("client_id") or str(uuid.uuid4())
    storage.set_meta("client_id", client_id)
    clock = ManualClock()
    sync = SyncService(
        storage, transport, user_id=user_id, client_id=client_id, clock=clock,
        rng=random.Random(seed),
    )  # fmt: skip
    sync.realtime_enabled = False  # the suite drives every round itself
    return Device(name, user_id, email, cache, client_id, sync, clock)


def drive_until_settled(device: Device, rounds: int, deadline: float) -> bool:
    """Push and pull until nothing is open (bounded by rounds and a wall-clock deadline)."""
    for _ in range(rounds):
        if time.monotonic() > deadline:
            return False
        device.clock.advance(RETRY_STEP)
        device.sync.run_once(force_pull=True)
        if device.open_entries() == 0:
            return True
    return False
