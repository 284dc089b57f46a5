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


def apply_request_context(
    conn: psycopg.Connection[Any], role: str, claims: Mapping[str, Any] | None
) -> None:
    """Set role and ``request.jwt.claims`` for the current transaction only."""
    if role not in API_ROLES:
        raise ValueError(f"not an API role: {role}")
    conn.execute(
        "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
        (role, json.dumps(dict(claims or {"role": role}))),
    )


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
