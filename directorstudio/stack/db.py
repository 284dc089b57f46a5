"""The gateway's pool of async PostgreSQL connections (psycopg_pool).

Each connection is checked when it is handed out, so one found broken (e.g. after PostgreSQL
restarted) is replaced by a new one instead of failing the request that drew it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

AsyncConn = psycopg.AsyncConnection[Any]
CHECKOUT_TIMEOUT = 30.0


class ConnectionPool:
    """At most ``size`` autocommit connections to ``url``, opened on demand and reused."""

    def __init__(self, url: str, size: int = 10) -> None:
        self.url = url
        self._pool: AsyncConnectionPool[AsyncConn] = AsyncConnectionPool(
            url,
            min_size=0,
            max_size=size,
            open=False,
            kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection,
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
        async with self._pool.connection(timeout=CHECKOUT_TIMEOUT) as conn:
            yield conn

    async def close(self) -> None:
        """Close every connection; the pool refuses further use."""
        self._closed = True
        if self._opened:
            await self._pool.close()
