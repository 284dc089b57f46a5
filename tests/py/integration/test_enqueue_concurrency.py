"""Concurrent enqueues, replays and refunds against a real PostgreSQL, one connection per caller."""

from __future__ import annotations

import uuid
from collections import Counter
from functools import partial
from typing import Any

import psycopg

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from tests.support.clips import (
    Conn,
    Row,
    call_as_service,
    call_as_user,
    create_user,
    enqueue,
    grant,
    run_concurrently,
)


def _ledger(admin_conn: Conn, user_key: str) -> tuple[int, bool]:
    row = admin_conn.execute(
        "SELECT credits, first_clip_consumed FROM public.credits_ledger WHERE user_key = %s",
        (user_key,),
    ).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def _transactions(admin_conn: Conn, user_key: str) -> list[tuple[Any, ...]]:
    return admin_conn.execute(
        "SELECT kind, delta, balance_after, clip_job_id FROM public.credit_transactions"
        " WHERE user_key = %s ORDER BY id",
        (user_key,),
    ).fetchall()


def test_sixteen_concurrent_enqueues_on_five_credits_create_exactly_six_jobs(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "racer@example.com")
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert grant(conn, str(user), 5, "grant:racer")["credits"] == 5
    job_ids = [uuid.uuid4() for _ in range(16)]

    outcomes = run_concurrently(
        database_url, [partial(_enqueue_one, user, job_id) for job_id in job_ids]
    )

    jobs = [o for o in outcomes if not isinstance(o, DirectorStudioError)]
    errors = [o for o in outcomes if isinstance(o, DirectorStudioError)]
    assert Counter(job["charge"] for job in jobs) == {"free": 1, "credit": 5}
    assert [e.code for e in errors] == [ErrorCode.INSUFFICIENT_CREDITS] * 10
    assert _ledger(admin_conn, str(user)) == (0, True)
    stored = admin_conn.execute(
        "SELECT count(*) FROM public.clip_jobs WHERE user_key = %s", (str(user),)
    ).fetchone()
    assert stored == (6,)

    history = _transactions(admin_conn, str(user))
    assert all(balance >= 0 for _, _, balance, _ in history)
    assert sum(delta for _, delta, _, _ in history) == 0
    assert Counter(kind for kind, *_ in history) == {"grant": 1, "first_clip": 1, "consume": 5}
    paid = [balance for kind, _, balance, _ in history if kind == "consume"]
    assert paid == [4, 3, 2, 1, 0]
    assert {job_id for *_, job_id in history if job_id is not None} == {j["id"] for j in jobs}


def _enqueue_one(user: uuid.UUID, job_id: uuid.UUID, conn: Conn) -> Row:
    return enqueue(conn, user, job_id, f"clip {job_id}")


def test_eight_concurrent_replays_of_one_enqueue_create_one_job_and_charge_once(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "replayer@example.com")
    with psycopg.connect(database_url, autocommit=True) as conn:
        grant(conn, str(user), 3, "grant:replayer")
        first = enqueue(conn, user, uuid.uuid4(), "the free one")
    assert first["charge"] == "free"
    job_id = uuid.uuid4()

    outcomes = run_concurrently(database_url, [partial(_enqueue_one, user, job_id)] * 8)

    assert not [o for o in outcomes if isinstance(o, DirectorStudioError)]
    rows = [o for o in outcomes if not isinstance(o, DirectorStudioError)]
    assert {(r["id"], r["charge"], r["version"], r["submitted_at"]) for r in rows} == {
        (job_id, "credit", 1, rows[0]["submitted_at"])
    }
    assert _ledger(admin_conn, str(user)) == (2, True)
    consumed = admin_conn.execute(
        "SELECT count(*) FROM public.credit_transactions WHERE clip_job_id = %s", (job_id,)
    ).fetchone()
    assert consumed == (1,)


def test_a_replayed_enqueue_charges_nothing(database_url: str, admin_conn: Conn) -> None:
    user = create_user(admin_conn, "again@example.com")
    job_id = uuid.uuid4()
    with psycopg.connect(database_url, autocommit=True) as conn:
        grant(conn, str(user), 1, "grant:again")
        enqueue(conn, user, uuid.uuid4(), "free")
        original = enqueue(conn, user, job_id, "paid once")
        before = _transactions(admin_conn, str(user))
        replayed = enqueue(conn, user, job_id, "paid once")
    assert replayed == original
    assert _ledger(admin_conn, str(user)) == (0, True)
    assert _transactions(admin_conn, str(user)) == before


def test_a_concurrent_cancel_and_failure_refund_a_job_exactly_once(
    database_url: str, admin_conn: Conn
) -> None:
    user = create_user(admin_conn, "refunds@example.com")
    with psycopg.connect(database_url, autocommit=True) as conn:
        grant(conn, str(user), 5, "grant:refunds")
        enqueue(conn, user, uuid.uuid4(), "free")
        job_ids = [uuid.uuid4() for _ in range(5)]
        for job_id in job_ids:
            enqueue(conn, user, job_id, "doomed")
    assert _ledger(admin_conn, str(user)) == (0, True)

    for job_id in job_ids:
        cancel, failure = run_concurrently(
            database_url, [partial(_cancel, user, job_id), partial(_fail, job_id)]
        )
        status = _status(admin_conn, job_id)
        if status == "canceled":
            assert not isinstance(cancel, DirectorStudioError)
            assert not isinstance(failure, DirectorStudioError)
            assert failure["outcome"]["outcome"] == "stale"
        else:
            assert status == "failed"
            assert isinstance(cancel, DirectorStudioError)
            assert cancel.code == ErrorCode.INVALID_TRANSITION
        refunds = admin_conn.execute(
            "SELECT count(*) FROM public.credit_transactions"
            " WHERE clip_job_id = %s AND kind = 'refund'",
            (job_id,),
        ).fetchone()
        assert refunds == (1,)

    assert _ledger(admin_conn, str(user)) == (5, True)
    assert sum(delta for _, delta, _, _ in _transactions(admin_conn, str(user))) == 5


def _cancel(user: uuid.UUID, job_id: uuid.UUID, conn: Conn) -> Row:
    return call_as_user(conn, user, "SELECT * FROM public.cancel_clip_job(%s)", (job_id,))


def _fail(job_id: uuid.UUID, conn: Conn) -> Row:
    return call_as_service(
        conn,
        "SELECT public.apply_clip_event(%s, %s, 'failed', NULL, NULL, 'render crashed') AS outcome",
        (f"fail-{job_id}", job_id),
    )


def _status(admin_conn: Conn, job_id: uuid.UUID) -> str:
    row = admin_conn.execute("SELECT status FROM public.clip_jobs WHERE id = %s", (job_id,))
    found = row.fetchone()
    assert found is not None
    return str(found[0])
