"""Run SQL the way PostgREST does: as a role, with the caller's JWT claims, per transaction
(the context itself: :mod:`directorstudio.contracts.postgrest.context`)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from directorstudio.contracts.postgrest.context import (
    API_ROLES,
    CONTEXT_SQL,
    RequestContext,
    apply,
    claims_for_user,
    context_params,
)
from directorstudio.contracts.postgrest.errors import translate
from directorstudio.contracts.postgrest.statements import bound_call

__all__ = ["API_ROLES", "call_at_once", "claims_for_user", "request_transaction"]


@contextmanager
def request_transaction(
    conn: psycopg.Connection[Any], role: str, claims: Mapping[str, Any] | None = None
) -> Iterator[psycopg.Connection[Any]]:
    """One API request: a transaction with PostgREST's context; errors come out translated."""
    try:
        with conn.transaction():
            apply(conn, RequestContext(role, claims))
            yield conn
    except psycopg.Error as error:
        raise translate(error) from error


@functools.lru_cache(maxsize=512)
def _at_once_sql(function: str, names: tuple[str, ...], shape: str) -> bytes:
    """The request context and the call as one multi-statement query (composed once)."""
    call = bound_call(function, names, shape=shape)
    return sql.SQL("{}; {}").format(sql.SQL(CONTEXT_SQL), call).as_bytes(None)


def call_at_once(
    conn: psycopg.Connection[Any],
    role: str,
    claims: Mapping[str, Any] | None,
    function: str,
    args: Mapping[str, Any],
    shape: str = "row",
) -> Any:
    """Call ``public.<function>`` in a request transaction of its own on the autocommit
    connection ``conn``, in one round trip: the context and the call go as one multi-statement
    query, which PostgreSQL runs as one implicit transaction (committed at its end, rolled back
    on an error), so no row lock the call takes is held while the caller waits for the network
    or the interpreter. Errors come out translated."""
    query = _at_once_sql(function, tuple(args), shape)
    params = {**args, **context_params(RequestContext(role, claims))}
    try:
        cursor = psycopg.ClientCursor(conn)
        cursor.execute(query, params)
        cursor.nextset()
        row = cursor.fetchone()
    except psycopg.Error as error:
        raise translate(error) from error
    return None if row is None else row[0]
