"""Helpers for the sync tests: users, and sync_pull / sync_push called the PostgREST way."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.users import create_user as create_user

Conn = psycopg.Connection[Any]


def call_as(conn: Conn, user_id: uuid.UUID, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row of one statement, run as the user in its own request."""
    with request_transaction(conn, "authenticated", claims_for_user(str(user_id))):
        row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def pull_once(
    conn: Conn, user_id: uuid.UUID, cursor: str | None, limit: int = 500
) -> dict[str, Any]:
    """One sync_pull request."""
    result: dict[str, Any] = call_as(
        conn, user_id, "SELECT public.sync_pull(%s, %s)", (cursor, limit)
    )
    return result


def pull_cycle(
    conn: Conn, user_id: uuid.UUID, cursor: str | None, limit: int = 500
) -> tuple[list[dict[str, Any]], str]:
    """Every change of one pull cycle (pulling again while has_more), and the cursor after it."""
    changes: list[dict[str, Any]] = []
    while True:
        page = pull_once(conn, user_id, cursor, limit)
        changes.extend(page["changes"])
        cursor = page["cursor"]
        if not page["has_more"]:
            assert cursor is not None
            return changes, cursor


def push(
    conn: Conn, user_id: uuid.UUID, client_id: uuid.UUID, mutations: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One sync_push request; the per-mutation results."""
    result: dict[str, Any] = call_as(
        conn,
        user_id,
        "SELECT public.sync_push(%s, %s)",
        (client_id, Jsonb(mutations)),
    )
    results: list[dict[str, Any]] = result["results"]
    return results
