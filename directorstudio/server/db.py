"""Database access for the functions: a small connection pool and contract-function calls.

Every call runs in one transaction with PostgREST's request context
(:mod:`directorstudio.contracts.postgrest.context`): as ``authenticated`` with the caller's verified
claims, or as ``service_role``. Function names are constants of the calling code; arguments are
always bound parameters (:func:`directorstudio.contracts.postgrest.statements.bound_call`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.postgrest.statements import bound_call
from directorstudio.db.context import call_at_once, request_transaction
from directorstudio.server.auth import Caller

SERVICE_CLAIMS: Mapping[str, Any] = {"role": "service_role"}


class ConnectionPool:
    """At most ``size`` autocommit connections (psycopg_pool), opened lazily and reused.

    Each connection is checked when handed out, so one found broken (e.g. after PostgreSQL
    restarted) is replaced instead of failing the call that drew it. No free connection within
    ``timeout``, or an unreachable database, is ``unavailable``.
    """

    def __init__(self, url: str, *, size: int = 4, timeout: float = 30.0) -> None:
        self._timeout = timeout
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Any]] = (
            psycopg_pool.ConnectionPool(
                url,
                min_size=0,
                max_size=size,
                open=False,
                kwargs={"autocommit": True, "connect_timeout": 10},
                check=psycopg_pool.ConnectionPool.check_connection,
                name="functions",
            )
        )
        self._open_lock = threading.Lock()
        self._opened = False
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A healthy connection for the duration of the block."""
        if self._closed:
            raise DirectorStudioError("the connection pool is closed", code=ErrorCode.UNAVAILABLE)
        with self._open_lock:
            if not self._opened:
                self._pool.open(wait=False)
                self._opened = True
        try:
            with self._pool.connection(timeout=self._timeout) as conn:
                yield conn
        except psycopg_pool.PoolTimeout:
            raise DirectorStudioError(
                "no database connection could be had", code=ErrorCode.UNAVAILABLE
            ) from None

    def close(self) -> None:
        """Close every connection; later checkouts fail."""
        self._closed = True
        if self._opened:
            self._pool.close()


class Database:
    """Contract-function calls over a :class:`ConnectionPool`."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    @classmethod
    def from_url(cls, url: str, *, size: int = 4) -> Database:
        """A database reached at ``url`` (PostgREST's ``authenticator``-like login role)."""
        return cls(ConnectionPool(url, size=size))

    @contextmanager
    def transaction(
        self, role: str, claims: Mapping[str, Any] | None = None
    ) -> Iterator[psycopg.Connection[Any]]:
        """One request transaction as ``role`` with ``claims``; errors come out translated."""
        with self.pool.connection() as conn, request_transaction(conn, role, claims):
            yield conn

    def call(
        self,
        conn: psycopg.Connection[Any],
        function: str,
        args: Mapping[str, Any],
        shape: str = "row",
    ) -> Any:
        """Call ``public.<function>`` inside ``conn``'s open request transaction."""
        row = conn.execute(bound_call(function, tuple(args), shape=shape), dict(args)).fetchone()
        return None if row is None else row[0]

    def call_once(
        self,
        role: str,
        claims: Mapping[str, Any] | None,
        function: str,
        args: Mapping[str, Any],
        shape: str = "row",
    ) -> Any:
        """Call ``public.<function>`` in a transaction of its own as ``role`` with ``claims``, in
        one round trip (:func:`directorstudio.db.context.call_at_once`)."""
        with self.pool.connection() as conn:
            return call_at_once(conn, role, claims, function, args, shape)

    def call_as_user(
        self, caller: Caller, function: str, args: Mapping[str, Any], *, shape: str = "row"
    ) -> Any:
        """Call ``public.<function>`` as the signed-in ``caller``.

        ``shape`` is ``row`` (a composite result as a dict), ``rows`` (a set as a list),
        ``value`` (a scalar or jsonb result as is) or ``row_created`` (``[row, created by this
        call]``).
        """
        return self.call_once("authenticated", caller.claims, function, args, shape)

    def call_as_service(
        self,
        function: str,
        args: Mapping[str, Any],
        *,
        shape: str = "row",
        conn: psycopg.Connection[Any] | None = None,
    ) -> Any:
        """Call ``public.<function>`` as ``service_role`` (inside ``conn``'s open transaction
        when given, else in a transaction of its own)."""
        if conn is not None:
            return self.call(conn, function, args, shape)
        return self.call_once("service_role", SERVICE_CLAIMS, function, args, shape)

    def close(self) -> None:
        """Release the pool's connections."""
        self.pool.close()
