"""Credit buckets against a real PostgreSQL with real concurrent connections: an account charged
by many requests at once spreads its credits over bucket rows and stays exact.

The balance is the account row's credits plus its buckets'; every charge is one ledger row.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from functools import partial
from typing import Any

import psycopg

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from tests.support.clips import (
    Conn,
    Row,
    call_as_user,
    create_user,
    enqueue,
    grant,
    run_concurrently,
)

WORKERS = 16


def _account(admin_conn: Conn, email: str, credits: int) -> uuid.UUID:
    """A user whose free first clip is used, holding ``credits`` credits."""
    user = create_user(admin_conn, email)
    grant(admin_conn, str(user), credits, f"grant:{email}")
    enqueue(admin_conn, user, uuid.uuid4(), "the free one")
    return user


def _balance(admin_conn: Conn, user: uuid.UUID) -> tuple[int, int, int]:
    """(balance, sum of the ledger, lowest bucket) of the user's account."""
    row = admin_conn.execute(
        "SELECT private.account_credits(%(k)s),"
        " (SELECT sum(delta) FROM public.credit_transactions WHERE user_key = %(k)s),"
        " (SELECT coalesce(min(credits), 0) FROM private.credit_buckets WHERE user_key = %(k)s)",
        {"k": str(user)},
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _buckets(admin_conn: Conn, user: uuid.UUID) -> list[int]:
    rows = admin_conn.execute(
        "SELECT credits FROM private.credit_buckets WHERE user_key = %s ORDER BY bucket",
        (str(user),),
    ).fetchall()
    return [int(credits) for (credits,) in rows]


def _row_credits(admin_conn: Conn, user: uuid.UUID) -> int:
    row = admin_conn.execute(
        "SELECT credits FROM public.credits_ledger WHERE user_key = %s", (str(user),)
    ).fetchone()
    assert row is not None
    return int(row[0])


def _credits_seen_by_owner(conn: Conn, user: uuid.UUID) -> int:
    return int(call_as_user(conn, user, "SELECT credits FROM public.get_credits()", ())["credits"])


def _enqueue_many(user: uuid.UUID, count: int, conn: Conn) -> list[Row | DirectorStudioError]:
    outcomes: list[Row | DirectorStudioError] = []
    for _ in range(count):
        try:
            outcomes.append(enqueue(conn, user, uuid.uuid4(), "racing clip"))
        except DirectorStudioError as error:
            outcomes.append(error)
    return outcomes


def _hold_account_row(database_url: str, user: uuid.UUID) -> psycopg.Connection[Any]:
    """A transaction holding the account row's lock, as a concurrent charge does."""
    holder = psycopg.connect(database_url)
    holder.execute(
        "SELECT FROM public.credits_ledger WHERE user_key = %s FOR NO KEY UPDATE", (str(user),)
    )
    return holder


def _wait_until_blocked(admin_conn: Conn, blocker: psycopg.Connection[Any]) -> None:
    """Until some backend waits for ``blocker``'s locks (polled, bounded by a statement count)."""
    for _ in range(200_000):
        row = admin_conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            (blocker.info.backend_pid,),
        ).fetchone()
        if row is not None and row[0] > 0:
            return
    raise AssertionError("the charge never waited for the account row")


def test_sixteen_workers_charging_one_account_charge_exactly_its_credits_and_never_below_zero(
    database_url: str, admin_conn: Conn
) -> None:
    credits, per_worker = 120, 12
    user = _account(admin_conn, "crowd@example.com", credits)

    outcomes = [
        outcome
        for batch in run_concurrently(
            database_url, [partial(_enqueue_many, user, per_worker)] * WORKERS
        )
        if not isinstance(batch, DirectorStudioError)
        for outcome in batch
    ]

    assert len(outcomes) == WORKERS * per_worker
    jobs = [o for o in outcomes if not isinstance(o, DirectorStudioError)]
    errors = [o for o in outcomes if isinstance(o, DirectorStudioError)]
    assert len(jobs) == min(WORKERS * per_worker, credits)
    assert Counter(job["charge"] for job in jobs) == {"credit": credits}
    assert {e.code for e in errors} == {ErrorCode.INSUFFICIENT_CREDITS}
    assert _balance(admin_conn, user) == (0, 0, 0)
    charged = admin_conn.execute(
        "SELECT count(*), count(DISTINCT clip_job_id), min(balance_after)"
        " FROM public.credit_transactions WHERE user_key = %s AND kind = 'consume'",
        (str(user),),
    ).fetchone()
    assert charged is not None
    assert charged[:2] == (credits, credits)
    assert charged[2] >= 0
    stored = admin_conn.execute(
        "SELECT count(*) FROM public.clip_jobs WHERE user_key = %s AND charge = 'credit'",
        (str(user),),
    ).fetchone()
    assert stored == (credits,)


def test_a_charge_that_waited_for_the_account_row_spreads_its_credits_over_the_buckets(
    database_url: str, admin_conn: Conn
) -> None:
    user = _account(admin_conn, "waiter@example.com", 170)
    holder = _hold_account_row(database_url, user)
    outcome: list[Row] = []

    def charge() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            outcome.append(enqueue(conn, user, uuid.uuid4(), "waited"))

    thread = threading.Thread(target=charge)
    thread.start()
    _wait_until_blocked(admin_conn, holder)
    holder.commit()
    thread.join(timeout=30)
    holder.close()

    assert [job["charge"] for job in outcome] == ["credit"]
    assert _buckets(admin_conn, user) == [10] * 16
    assert _row_credits(admin_conn, user) == 170 - 160 - 1
    assert _balance(admin_conn, user) == (169, 169, 10)
    last = admin_conn.execute(
        "SELECT balance_after FROM public.credit_transactions"
        " WHERE user_key = %s ORDER BY id DESC LIMIT 1",
        (str(user),),
    ).fetchone()
    assert last == (169,)
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert _credits_seen_by_owner(conn, user) == 169


def test_a_charge_takes_a_free_bucket_without_waiting_for_the_held_account_row(
    database_url: str, admin_conn: Conn
) -> None:
    user = _account(admin_conn, "spread@example.com", 170)
    admin_conn.execute(
        "INSERT INTO private.credit_buckets (user_key, bucket, credits) VALUES (%s, 1, 5)",
        (str(user),),
    )
    admin_conn.execute(
        "UPDATE public.credits_ledger SET credits = credits - 5 WHERE user_key = %s",
        (str(user),),
    )
    holder = _hold_account_row(database_url, user)
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("SET statement_timeout = '20s'")
            job = enqueue(conn, user, uuid.uuid4(), "no wait")
    finally:
        holder.rollback()
        holder.close()

    assert job["charge"] == "credit"
    assert _buckets(admin_conn, user) == [4]
    assert _balance(admin_conn, user) == (169, 169, 4)


def test_a_refund_of_a_job_charged_from_a_bucket_returns_its_credit_to_the_balance(
    database_url: str, admin_conn: Conn
) -> None:
    user = _account(admin_conn, "refund-bucket@example.com", 3)
    admin_conn.execute(
        "INSERT INTO private.credit_buckets (user_key, bucket, credits) VALUES (%s, 1, 2)",
        (str(user),),
    )
    admin_conn.execute(
        "UPDATE public.credits_ledger SET credits = 1 WHERE user_key = %s", (str(user),)
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        job = enqueue(conn, user, uuid.uuid4(), "taken from the bucket")
        assert _buckets(admin_conn, user) == [1]
        call_as_user(conn, user, "SELECT * FROM public.cancel_clip_job(%s)", (job["id"],))
        call_as_user(conn, user, "SELECT * FROM public.cancel_clip_job(%s)", (job["id"],))
        assert _credits_seen_by_owner(conn, user) == 3
    assert _balance(admin_conn, user) == (3, 3, 1)


RACES = 30


def test_charges_racing_for_an_accounts_last_credits_never_deadlock(
    database_url: str, admin_conn: Conn
) -> None:
    # A charge looking for a free bucket can lock one that a concurrent charge has just emptied
    # (a row locked and then found no longer matching stays locked). Waiting for the account row
    # with that lock, it would deadlock with the account row's holder waiting for any bucket.
    # The race is rare in one round, so the rounds repeat it.
    for race in range(RACES):
        user = _account(admin_conn, f"race{race}@example.com", 40)
        codes = {
            outcome.code
            for batch in run_concurrently(database_url, [partial(_enqueue_many, user, 4)] * WORKERS)
            for outcome in (batch if isinstance(batch, list) else [batch])
            if isinstance(outcome, DirectorStudioError)
        }
        assert codes == {ErrorCode.INSUFFICIENT_CREDITS}, race
        assert _balance(admin_conn, user)[:2] == (0, 0), race
