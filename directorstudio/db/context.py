"""Run SQL the way PostgREST does: as a role, with the caller's JWT claims, per transaction
(the context itself: :mod:`directorstudio.contracts.postgrest.context`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg

from directorstudio.contracts.postgrest.context import (
    API_ROLES,
    RequestContext,
    apply,
    claims_for_user,
)
from directorstudio.contracts.postgrest.errors import translate

__all__ = ["API_ROLES", "claims_for_user", "request_transaction"]


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
