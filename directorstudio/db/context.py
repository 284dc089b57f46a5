"""Run SQL the way PostgREST does: as a role, with the caller's JWT claims, per transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg

from directorstudio.db.errors import translate

API_ROLES = frozenset({"anon", "authenticated", "service_role"})


def claims_for_user(user_id: str, *, email: str | None = None) -> dict[str, Any]:
    """Minimal Supabase access-token claims for a signed-in user."""
    return {"sub": user_id, "role": "authenticated", "aud": "authenticated", "email": email}


REQUEST_CONTEXT_SQL = (
    "SELECT set_config('role', %(request_role)s, true),"
    " set_config('request.jwt.claims', %(request_claims)s, true)"
)


def request_context_params(role: str, claims: Mapping[str, Any] | None) -> dict[str, str]:
    """The parameters of :data:`REQUEST_CONTEXT_SQL`: the role and the claims as JSON."""
    if role not in API_ROLES:
        raise ValueError(f"not an API role: {role}")
    return {
        "request_role": role,
        "request_claims": json.dumps(dict(claims or {"role": role})),
    }


def apply_request_context(
    conn: psycopg.Connection[Any], role: str, claims: Mapping[str, Any] | None
) -> None:
    """Set role and ``request.jwt.claims`` for the current transaction only."""
    conn.execute(REQUEST_CONTEXT_SQL, request_context_params(role, claims))


@contextmanager
def request_transaction(
    conn: psycopg.Connection[Any], role: str, claims: Mapping[str, Any] | None = None
) -> Iterator[psycopg.Connection[Any]]:
    """One API request: a transaction with PostgREST's context; errors come out translated."""
    try:
        with conn.transaction():
            apply_request_context(conn, role, claims)
            yield conn
    except psycopg.Error as error:
        raise translate(error) from error
