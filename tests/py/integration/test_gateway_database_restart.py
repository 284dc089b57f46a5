"""When PostgreSQL restarts or cannot be reached, the gateway answers PostgREST's retryable 503
with a JSON body (never a 4xx or a text/plain 500), and recovers on the next request."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
import pytest

from directorstudio.pgcluster import free_port
from directorstudio.stack.db import ConnectionPool, DatabaseUnavailable
from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    clock_fixture,
    gateway_fixture,
)

Conn = psycopg.Connection[Any]


def _pull(gateway: RunningGateway) -> httpx.Response:
    key = gateway.keys.service_role_key
    return httpx.post(
        f"{gateway.url}/rest/v1/rpc/sync_pull",
        json={},
        headers={"apikey": key, "Authorization": f"Bearer {key}"},
        timeout=30,
    )


def _drop_gateway_connections(admin_conn: Conn) -> None:
    admin_conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend'"
    )


def test_a_request_after_the_database_dropped_the_pooled_connections_succeeds(
    gateway: RunningGateway, admin_conn: Conn
) -> None:
    assert _pull(gateway).status_code == 200  # a pooled connection now exists
    _drop_gateway_connections(admin_conn)

    assert _pull(gateway).status_code == 200  # the dead connection is replaced on checkout
    assert _pull(gateway).status_code == 200


def test_a_pool_that_cannot_reach_the_database_reports_it_unavailable() -> None:
    pool = ConnectionPool(f"postgresql://postgres@127.0.0.1:{free_port()}/none", timeout=1.0)

    async def use() -> None:
        try:
            async with pool.connection():
                pass
        finally:
            await pool.close()

    with pytest.raises(DatabaseUnavailable) as raised:
        asyncio.run(use())
    assert raised.value.body()["code"] == "PGRST000"
