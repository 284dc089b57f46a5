"""A contract call in one round trip (``call_at_once``) against a real PostgreSQL: the request
context and the call are one transaction, committed when the call returns, rolled back when it
fails, and nothing of one caller's context stays on the connection for the next call."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.db.context import call_at_once, claims_for_user
from tests.support.clips import Conn, create_user, grant

# Without a SET clause of its own, so that it sees the caller's search path.
WHO_AM_I = """
CREATE FUNCTION public.who_am_i() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'role', current_user, 'uid', auth.uid(),
        'claims', current_setting('request.jwt.claims', true),
        'search_path', current_setting('search_path'))
$$;
GRANT EXECUTE ON FUNCTION public.who_am_i() TO authenticated, service_role;
"""


def _enqueue(conn: Conn, user: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    args = {"p_job_id": job_id, "p_user_key": str(user), "p_prompt": "A clip"}
    job = call_at_once(conn, "authenticated", claims_for_user(str(user)), "enqueue_clip_job", args)
    assert isinstance(job, dict)
    return job


def _session_state(conn: Conn) -> tuple[Any, ...]:
    # A transaction-local setting of a custom name leaves the name defined, empty.
    row = conn.execute(
        "SELECT current_user, nullif(current_setting('request.jwt.claims', true), ''),"
        " current_setting('search_path')"
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_call_runs_as_the_role_with_the_callers_claims_and_the_api_search_path(
    database_url: str, admin_conn: Conn
) -> None:
    admin_conn.execute(WHO_AM_I)
    user = create_user(admin_conn)
    with psycopg.connect(database_url, autocommit=True) as conn:
        seen = call_at_once(
            conn, "authenticated", claims_for_user(str(user)), "who_am_i", {}, "value"
        )
    assert seen["role"] == "authenticated"
    assert seen["uid"] == str(user)
    assert seen["search_path"] == '"public", "extensions"'


def test_after_a_call_the_connection_keeps_neither_its_role_nor_its_claims(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn)
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _session_state(conn)
        _enqueue(conn, user, uuid.uuid4())
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert _session_state(conn) == before


def test_a_call_is_committed_when_it_returns_and_holds_no_lock(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn)
    job_id = uuid.uuid4()
    with psycopg.connect(database_url, autocommit=True) as conn:
        _enqueue(conn, user, job_id)
        # Another session sees the job and takes the account row at once: the call's
        # transaction ended when the call returned.
        with psycopg.connect(database_url) as other, other.transaction():
            other.execute("SET LOCAL lock_timeout = '1s'")
            assert other.execute(
                "SELECT count(*) FROM public.clip_jobs WHERE id = %s", (job_id,)
            ).fetchone() == (1,)
            other.execute(
                "SELECT FROM public.credits_ledger WHERE user_key = %s FOR UPDATE NOWAIT",
                (str(user),),
            )


def test_a_failed_call_rolls_back_and_the_next_call_on_the_connection_runs_as_its_own_caller(
    database_url: str, admin_conn: Conn
) -> None:
    broke = create_user(admin_conn)
    other = create_user(admin_conn)
    with psycopg.connect(database_url, autocommit=True) as conn:
        _enqueue(conn, broke, uuid.uuid4())  # the free first clip
        before = _session_state(conn)
        refused = uuid.uuid4()
        with pytest.raises(DirectorStudioError) as raised:
            _enqueue(conn, broke, refused)
        assert raised.value.code == ErrorCode.INSUFFICIENT_CREDITS
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert _session_state(conn) == before

        job = _enqueue(conn, other, uuid.uuid4())

    assert job["user_id"] == str(other)
    assert admin_conn.execute(
        "SELECT count(*) FROM public.clip_jobs WHERE id = %s", (refused,)
    ).fetchone() == (0,)
    assert admin_conn.execute(
        "SELECT count(*) FROM public.credit_transactions WHERE clip_job_id = %s", (refused,)
    ).fetchone() == (0,)


def test_successive_calls_of_different_callers_on_one_connection_each_charge_their_own_account(
    database_url: str, admin_conn: Conn
) -> None:
    users = [create_user(admin_conn) for _ in range(3)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        for user in users:
            grant(conn, str(user), 2, f"grant:{user}")
        jobs = [_enqueue(conn, user, uuid.uuid4()) for user in users * 2]
    assert [job["user_id"] for job in jobs] == [str(user) for user in users * 2]
    for user in users:
        row = admin_conn.execute(
            "SELECT count(*) FROM public.credit_transactions"
            " WHERE user_key = %s AND kind IN ('first_clip', 'consume')",
            (str(user),),
        ).fetchone()
        assert row == (2,)
