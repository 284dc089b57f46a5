"""The gateway's pool of async PostgreSQL connections (psycopg_pool).

Each connection is checked when it is handed out, so one found broken (e.g. after PostgreSQL
restarted) is replaced by a new one instead of failing the request that drew it. The check costs
a round trip only when the idle connection has something to read (a server that ended the
session says so, or closes the socket): a healthy idle connection has nothing. A database that
cannot be reached, or a connection lost during a request, is :class:`DatabaseUnavailable`:
PostgREST's retryable JSON 503.
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

AsyncConn = psycopg.AsyncConnection[Any]
CHECKOUT_TIMEOUT = 10.0


class DatabaseUnavailable(psycopg.OperationalError):
    """PostgreSQL could not be reached, or the connection was lost during the request (a
    restart): PostgREST's retryable 503 ``PGRST000``/``PGRST001``, never a 4xx or a bare 500.
    A psycopg error, so callers that handle database failures handle this one too."""

    def __init__(self, code: str, message: str, details: str) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "hint": None, "message": self.message}


def has_input(socket: int) -> bool:
    """Whether the socket has bytes (or its end) to read, without waiting."""
    readable, _, _ = select.select([socket], [], [], 0)
    return bool(readable)


async def check_idle_connection(conn: AsyncConn) -> None:
    """Raise unless ``conn`` still works: a closed or broken one fails at once; one with input
    waiting while idle (a termination notice, the socket's end) gets psycopg_pool's round-trip
    check."""
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    if has_input(conn.pgconn.socket):
        await AsyncConnectionPool.check_connection(conn)


class ConnectionPool:
    """At most ``size`` autocommit connections to ``url``, opened on demand and reused."""

    def __init__(self, url: str, size: int = 10, timeout: float = CHECKOUT_TIMEOUT) -> None:
        self.url = url
        self._timeout = timeout
        self._pool: AsyncConnectionPool[AsyncConn] = AsyncConnectionPool(
            url,
            min_size=0,
            max_size=size,
            open=False,
            kwargs={"autocommit": True},
            check=check_idle_connection,
            name="gateway",
        )
        self._opened = False
        self._closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConn]:
        """A healthy connection in autocommit mode; use ``conn.transaction()`` for a request."""
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        if not self._opened:
            self._opened = True
            await self._pool.open(wait=False)
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                try:
                    yield conn
                except psycopg.Error as error:
                    if not conn.broken:
                        raise
                    raise DatabaseUnavailable(
                        "PGRST001", "Database client error. Retrying the connection.", str(error)
                    ) from error
        except PoolTimeout as error:
            raise DatabaseUnavailable(
                "PGRST000", "Database connection error. Retrying the connection.", str(error)
            ) from error

    async def close(self) -> None:
        """Close every connection; the pool refuses further use."""
        self._closed = True
        if self._opened:
            await self._pool.close()
