"""A small pool of async PostgreSQL connections for the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

AsyncConn = psycopg.AsyncConnection[Any]


class DatabaseUnavailable(psycopg.OperationalError):
    """PostgreSQL could not be reached, or the connection was lost during the request (a
    restart): PostgREST's retryable 503 ``PGRST000``/``PGRST001``, never a 4xx or a bare 500.
    A psycopg error, so callers that handle database failures handle this one too."""

    def __init__(self, code: str, message: str, details: str) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "hint": None, "message": self.message}


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
                conn = await self._connect()
            healthy = False
            try:
                yield conn
                healthy = True
            except psycopg.Error as error:
                if not conn.broken:
                    raise
                # The server went away: the idle connections were opened to it too.
                await self._close_idle()
                raise DatabaseUnavailable(
                    "PGRST001", "Database client error. Retrying the connection.", str(error)
                ) from error
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

    async def _connect(self) -> AsyncConn:
        try:
            return await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        except psycopg.OperationalError as error:
            raise DatabaseUnavailable(
                "PGRST000", "Database connection error. Retrying the connection.", str(error)
            ) from error

    async def _close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()

    async def close(self) -> None:
        """Close every idle connection; connections in use close when returned."""
        self._closed = True
        await self._close_idle()
