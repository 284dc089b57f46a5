"""A small pool of async PostgreSQL connections for the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

AsyncConn = psycopg.AsyncConnection[Any]


class ConnectionPool:
    """At most ``size`` connections to ``url``, opened on demand and reused while healthy."""

    def __init__(self, url: str, size: int = 10) -> None:
        self.url = url
        self._idle: list[AsyncConn] = []
        self._slots = asyncio.Semaphore(size)
        self._closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConn]:
        """A connection in autocommit mode; use ``conn.transaction()`` for one request."""
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            healthy = False
            try:
                yield conn
                healthy = True
            finally:
                if (
                    healthy
                    and not self._closed
                    and not conn.closed
                    and conn.info.transaction_status == TransactionStatus.IDLE
                ):
                    self._idle.append(conn)
                else:
                    await conn.close()

    async def close(self) -> None:
        """Close every idle connection; connections in use close when returned."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
