"""Helpers for the client library tests: users, clients on their own cache files, server reads."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from directorstudio_client import Clock, ManualClock, SQLiteStorage, SyncService
from directorstudio_client.transport.postgres import PostgresTransport
from tests.support import users
from tests.support.client_network import FlakyNetwork

Conn = psycopg.Connection[Any]


def create_user(admin: Conn, email: str) -> str:
    """A signed-up user's id as the client library names users (text)."""
    return str(users.create_user(admin, email))


@dataclass
class Device:
    """One app install: its cache file, its network and its sync service."""

    path: Path
    network: FlakyNetwork
    sync: SyncService
    client_id: str

    @property
    def storage(self) -> SQLiteStorage:
        store = self.sync.storage
        assert isinstance(store, SQLiteStorage)
        return store

    def restart(self, clock: ManualClock) -> Device:
        """Close everything and start again from the same cache file (a process restart)."""
        self.sync.stop()
        self.storage.close()
        self.network.close()
        return open_device(
            self.path, self.network.url, self.sync.user_id, clock,
            client_id=self.client_id, offline=self.network.offline,
        )  # fmt: skip


def open_device(
    path: Path,
    database_url: str,
    user_id: str,
    clock: Clock,
    *,
    client_id: str | None = None,
    offline: bool = False,
    realtime: bool = False,
) -> Device:
    """A client for ``user_id`` on the cache file ``path``, talking to the test database."""
    network = FlakyNetwork(PostgresTransport.for_user(database_url, user_id), offline=offline)
    network.url = database_url
    client_id = client_id or str(uuid.uuid4())
    sync = SyncService(
        SQLiteStorage(path),
        network,
        user_id=user_id,
        client_id=client_id,
        clock=clock,
        rng=random.Random(1),
    )
    sync.realtime_enabled = realtime
    return Device(path, network, sync, client_id)


def server_rows(admin: Conn, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows read as superuser (what really is on the server)."""
    return admin.execute(sql, params).fetchall()  # type: ignore[arg-type]
