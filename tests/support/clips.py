"""Helpers for the clip job and credits tests: users, API-role calls and concurrent callers."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.users import create_user as create_user

Conn = psycopg.Connection[Any]
Row = dict[str, Any]
T = TypeVar("T")


def call_as_user(conn: Conn, user_id: uuid.UUID, query: str, params: tuple[Any, ...]) -> Row:
    """One rpc call as the signed-in user, returning its single row."""
    with request_transaction(conn, "authenticated", claims_for_user(str(user_id))):
        row = conn.cursor(row_factory=dict_row).execute(query, params).fetchone()
    assert row is not None
    return row


def call_as_service(conn: Conn, query: str, params: tuple[Any, ...]) -> Row:
    """One rpc call as service_role, returning its single row."""
    with request_transaction(conn, "service_role"):
        row = conn.cursor(row_factory=dict_row).execute(query, params).fetchone()
    assert row is not None
    return row


def enqueue(conn: Conn, user_id: uuid.UUID, job_id: uuid.UUID, prompt: str) -> Row:
    """enqueue_clip_job on the user's own account (keyed by their id)."""
    return call_as_user(
        conn,
        user_id,
        "SELECT * FROM public.enqueue_clip_job(%s, %s, %s)",
        (job_id, str(user_id), prompt),
    )


def grant(conn: Conn, user_key: str, amount: int, key: str) -> Row:
    """grant_credits as the service role."""
    return call_as_service(
        conn, "SELECT * FROM public.grant_credits(%s, %s, %s)", (user_key, amount, key)
    )


def run_concurrently(
    database_url: str, calls: list[Callable[[Conn], T]]
) -> list[T | DirectorStudioError]:
    """Run each call on its own connection, all released together by a barrier.

    A call's DirectorStudioError is returned in its place, so every outcome can be inspected.
    """
    barrier = threading.Barrier(len(calls))

    def worker(call: Callable[[Conn], T]) -> T | DirectorStudioError:
        with psycopg.connect(database_url, autocommit=True) as conn:
            barrier.wait(timeout=30)
            try:
                return call(conn)
            except DirectorStudioError as error:
                return error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(worker, calls))
