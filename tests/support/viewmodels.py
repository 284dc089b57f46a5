"""Helpers for the ViewModel tests: an app session on the in-memory store with a manual clock,
offline (no server) or talking to the test database through PostgresTransport."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import psycopg

from directorstudio.db.context import request_transaction
from directorstudio_client import ManualClock, MemoryStorage, SyncService
from directorstudio_client.transport.postgres import PostgresTransport
from directorstudio_client.viewmodels import AppSession, build_viewmodels
from tests.support.client_network import FlakyNetwork

OFFLINE_USER = "11111111-1111-1111-1111-111111111111"


@dataclass
class App:
    """One app install: in-memory cache, its network, its sync service and ViewModels."""

    network: FlakyNetwork
    sync: SyncService
    session: AppSession
    clock: ManualClock

    @property
    def storage(self) -> MemoryStorage:
        store = self.sync.storage
        assert isinstance(store, MemoryStorage)
        return store

    def telemetry(self) -> dict[str, tuple[int, int]]:
        """Buffered telemetry by element: (attempts, successes)."""
        totals: dict[str, tuple[int, int]] = {}
        for record in self.storage.backing.telemetry.values():
            attempts, successes = totals.get(record.element, (0, 0))
            totals[record.element] = (attempts + record.attempts, successes + record.successes)
        return totals

    def close(self) -> None:
        self.session.close()
        self.network.close()


def _app(network: FlakyNetwork, user_id: str, clock: ManualClock | None, realtime: bool) -> App:
    clock = clock or ManualClock()
    sync = SyncService(
        MemoryStorage(), network, user_id=user_id, client_id=str(uuid.uuid4()),
        clock=clock, rng=random.Random(1),
    )  # fmt: skip
    sync.realtime_enabled = realtime
    return App(network, sync, build_viewmodels(sync), clock)


def offline_app(clock: ManualClock | None = None) -> App:
    """An app whose network is down (no server behind it)."""
    return _app(FlakyNetwork(offline=True), OFFLINE_USER, clock, realtime=False)


def server_app(
    database_url: str, user_id: str, clock: ManualClock | None = None, *, realtime: bool = False
) -> App:
    """An app of ``user_id`` talking to the test database as PostgREST would."""
    network = FlakyNetwork(PostgresTransport.for_user(database_url, user_id))
    return _app(network, user_id, clock, realtime)


def render_event(
    database_url: str, event_id: str, job_id: str, status: str, *, progress: int | None = None,
    download_url: str | None = None,
) -> None:  # fmt: skip
    """What the render provider's webhook does on the server."""
    with psycopg.connect(database_url) as conn, request_transaction(conn, "service_role"):
        conn.execute(
            "SELECT public.apply_clip_event(p_event_id => %s, p_job_id => %s::uuid,"
            " p_status => %s, p_progress => %s, p_download_url => %s)",
            (event_id, job_id, status, progress, download_url),
        )
