"""The SECURITY DEFINER steps in schema private guard themselves, whoever calls them.

The public API functions are SECURITY INVOKER wrappers; the privileged steps behind them check
the caller (``auth.uid()``) and every argument themselves, so calling a step directly, past its
wrapper, grants nothing. The checks walk the catalog, so a step added later is covered too.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.users import create_user

Conn = psycopg.Connection[Any]

CHECKSUM = """
SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
    SELECT 'clip_jobs:' || count(*) AS t FROM public.clip_jobs
    UNION ALL SELECT 'ledger:' || string_agg(credits::text || first_clip_consumed::text, ',')
        FROM public.credits_ledger
    UNION ALL SELECT 'transactions:' || count(*) FROM public.credit_transactions
    UNION ALL SELECT 'telemetry:' || count(*) FROM public.continuity_telemetry
    UNION ALL SELECT 'validations:' || count(*) FROM public.continuity_recent_validations
    UNION ALL SELECT 'analytics:' || count(*) FROM public.continuity_daily_analytics
    UNION ALL SELECT 'mutations:' || count(*) FROM private.sync_mutations
) AS s
"""


def _callable_steps(conn: Conn) -> list[tuple[str, str]]:
    """(signature, argument types) of every callable SECURITY DEFINER function in private."""
    rows = conn.execute(
        """
        SELECT p.oid::regprocedure::text,
               coalesce(array_to_string(ARRAY(
                   SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t), ','), '')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'private' AND p.prosecdef AND p.prorettype <> 'trigger'::regtype
        ORDER BY 1
        """
    ).fetchall()
    return [(str(signature), str(types)) for signature, types in rows]


def _call(signature: str, types: str) -> sql.Composed:
    name = signature.split("(", 1)[0]
    args = ", ".join(f"NULL::{t}" for t in types.split(",")) if types else ""
    return sql.SQL("SELECT {}(" + args + ")").format(sql.SQL(name))


def test_the_five_api_writes_run_their_privileged_step_in_private(admin_conn: Conn) -> None:
    names = {signature.split("(", 1)[0] for signature, _ in _callable_steps(admin_conn)}
    assert {
        "private.enqueue_clip_job",
        "private.cancel_clip_job",
        "private.batch_upsert_telemetry",
        "private.upsert_recent_validation",
        "private.append_daily_analytics",
    } <= names


def test_a_privileged_step_called_directly_without_a_signed_in_user_is_refused(
    admin_conn: Conn,
) -> None:
    steps = _callable_steps(admin_conn)
    assert steps
    create_user(admin_conn, "owner@example.com")
    admin_conn.commit()
    before = admin_conn.execute(CHECKSUM).fetchone()
    with psycopg.connect(admin_conn.info.dsn) as conn:
        for signature, types in steps:
            with (
                pytest.raises(DirectorStudioError) as caught,
                request_transaction(conn, "authenticated", {"role": "authenticated"}),
            ):
                conn.execute(_call(signature, types))
            assert caught.value.code is ErrorCode.NOT_AUTHENTICATED, signature
    assert admin_conn.execute(CHECKSUM).fetchone() == before


def test_a_privileged_step_called_directly_applies_every_check_of_its_api(
    admin_conn: Conn,
) -> None:
    owner = create_user(admin_conn, "owner@example.com")
    other = create_user(admin_conn, "other@example.com")
    job = uuid.uuid4()
    admin_conn.execute(
        "INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)"
        " VALUES (%s, %s, %s, 'clip', 'free')",
        (job, owner, str(owner)),
    )
    admin_conn.commit()
    before = admin_conn.execute(CHECKSUM).fetchone()
    attempts: list[tuple[str, tuple[Any, ...], ErrorCode]] = [
        # Another user's account and job are invisible to the caller.
        (
            "SELECT private.enqueue_clip_job(%s, %s, 'clip', NULL, NULL)",
            (uuid.uuid4(), str(owner)),
            ErrorCode.NOT_FOUND,
        ),
        ("SELECT private.cancel_clip_job(%s)", (job,), ErrorCode.NOT_FOUND),
        # Input is validated by the step, not only by its wrapper.
        (
            "SELECT private.enqueue_clip_job(%s, %s, '', NULL, NULL)",
            (uuid.uuid4(), str(other)),
            ErrorCode.INVALID_INPUT,
        ),
        (
            "SELECT private.batch_upsert_telemetry(%s, '{}'::jsonb)",
            (uuid.uuid4(),),
            ErrorCode.INVALID_INPUT,
        ),
        (
            "SELECT private.upsert_recent_validation(1, 2.0, true, 0, now())",
            (),
            ErrorCode.INVALID_INPUT,
        ),
        (
            "SELECT private.append_daily_analytics(%s, now(), -1, 0.5, 0, 0, 0, 1, 0)",
            (uuid.uuid4(),),
            ErrorCode.INVALID_INPUT,
        ),
    ]
    with psycopg.connect(admin_conn.info.dsn) as conn:
        for statement, params, code in attempts:
            with (
                pytest.raises(DirectorStudioError) as caught,
                request_transaction(conn, "authenticated", claims_for_user(str(other))),
            ):
                conn.execute(statement, params)
            assert caught.value.code is code, statement
    assert admin_conn.execute(CHECKSUM).fetchone() == before
