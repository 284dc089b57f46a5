"""The gateway's pool checks a connection on checkout without a round trip while it is healthy,
and still finds one whose session the server ended."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from directorstudio.stack.db import check_idle_connection

Conn = psycopg.Connection[Any]


def _state_change(admin_conn: Conn, pid: int) -> Any:
    row = admin_conn.execute(
        "SELECT state_change FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    assert row is not None
    return row[0]


def test_a_healthy_idle_connection_passes_without_a_round_trip(
    database_url: str, admin_conn: Conn
) -> None:
    async def check() -> None:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            await conn.execute("SELECT 1")
            before = _state_change(admin_conn, conn.info.backend_pid)
            await check_idle_connection(conn)
            assert _state_change(admin_conn, conn.info.backend_pid) == before
        finally:
            await conn.close()

    asyncio.run(check())


def test_a_connection_whose_session_the_server_ended_fails_the_check(
    database_url: str, admin_conn: Conn
) -> None:
    async def check() -> None:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            admin_conn.execute("SELECT pg_terminate_backend(%s, 10000)", (conn.info.backend_pid,))
            with pytest.raises(psycopg.OperationalError):
                await check_idle_connection(conn)
        finally:
            await conn.close()

    asyncio.run(check())
