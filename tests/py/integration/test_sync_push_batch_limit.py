"""The server takes a push of as many mutations as the client sends at most (``MAX_PUSH_BATCH``),
and refuses a larger one whole."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.contracts.sync import MAX_PUSH_BATCH
from tests.support.sync import create_user, push


def _creates(count: int) -> list[dict[str, Any]]:
    return [
        {
            "mutation_id": n + 1,
            "table": "project_overview",
            "op": "upsert",
            "id": str(uuid.uuid4()),
            "base_version": None,
            "args": {"title": f"Film {n}"},
        }
        for n in range(count)
    ]


def _projects(admin: psycopg.Connection[Any], user: uuid.UUID) -> int:
    row = admin.execute(
        "SELECT count(*) FROM public.project_overview WHERE user_id = %s", (user,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_push_of_the_clients_largest_batch_is_applied_whole(
    admin_conn: psycopg.Connection[Any], database_url: str
) -> None:
    user = create_user(admin_conn)
    with psycopg.connect(database_url, autocommit=True) as conn:
        results = push(conn, user, uuid.uuid4(), _creates(MAX_PUSH_BATCH))

    assert [r["outcome"] for r in results] == ["applied"] * MAX_PUSH_BATCH
    assert _projects(admin_conn, user) == MAX_PUSH_BATCH


def test_a_push_of_one_more_than_the_largest_batch_is_refused_and_changes_nothing(
    admin_conn: psycopg.Connection[Any], database_url: str
) -> None:
    user = create_user(admin_conn)
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        pytest.raises(DirectorStudioError, match="at most") as raised,
    ):
        push(conn, user, uuid.uuid4(), _creates(MAX_PUSH_BATCH + 1))

    assert raised.value.code == ErrorCode.INVALID_INPUT
    assert _projects(admin_conn, user) == 0
