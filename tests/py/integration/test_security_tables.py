"""For every table: another user can neither read nor change a user's rows, and anon can do nothing.

The checks walk the catalog, so a table added later is covered without touching this file.
"""

from __future__ import annotations

import uuid
from typing import Any, LiteralString

import psycopg
import pytest
from psycopg import sql

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.users import create_user

Conn = psycopg.Connection[Any]


def _owned_tables(conn: Conn) -> list[tuple[str, str]]:
    """(table, owner column) for every table in public."""
    rows = conn.execute(
        """
        SELECT c.relname,
               CASE WHEN c.relname = 'app_users' THEN 'id' ELSE 'user_id' END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        ORDER BY 1
        """
    ).fetchall()
    return [(str(table), str(column)) for table, column in rows]


@pytest.fixture
def two_users_with_rows(admin_conn: Conn) -> tuple[uuid.UUID, uuid.UUID]:
    """User A owns one row in every table that has an owner; user B owns nothing but an account."""
    owner = create_user(admin_conn, "a@example.com")
    other = create_user(admin_conn, "b@example.com")
    project, scene, job = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    screenplay = uuid.uuid4()
    psycopg.ClientCursor(admin_conn).execute(
        """
        INSERT INTO public.project_overview (project_id, user_id, title)
        VALUES (%(p)s, %(u)s, 'A');
        INSERT INTO public.scene_drafts
            (id, user_id, project_id, order_index, prompt_text, duration)
        VALUES (%(s)s, %(u)s, %(p)s, 0, 'scene', 3);
        INSERT INTO public.screenplays (id, user_id, title, content)
        VALUES (%(sp)s, %(u)s, 'T', 'C');
        INSERT INTO public.screenplay_sections
            (id, screenplay_id, user_id, heading, content, order_index)
        VALUES (gen_random_uuid(), %(sp)s, %(u)s, 'H', 'C', 0);
        INSERT INTO public.clip_jobs (id, user_id, user_key, prompt, charge)
        VALUES (%(j)s, %(u)s, %(u)s::text, 'clip', 'free');
        INSERT INTO public.credit_transactions
            (idempotency_key, user_key, user_id, kind, delta, balance_after)
        VALUES ('grant:' || %(u)s::text, %(u)s::text, %(u)s, 'grant', 0, 0);
        INSERT INTO public.continuity_logs
            (scene_id, confidence, issues, passed, timestamp, user_id)
        VALUES (1, 0.5, '[]', true, now(), %(u)s);
        INSERT INTO public.continuity_recent_validations
            (user_id, scene_id, confidence, passed, timestamp)
        VALUES (%(u)s, 1, 0.5, true, now());
        INSERT INTO public.continuity_scene_states
            (location, characters, props, prompt, tone, timestamp, user_id)
        VALUES ('L', '[]', '[]', 'P', 'T', now(), %(u)s);
        INSERT INTO public.continuity_telemetry (element, user_id) VALUES ('e', %(u)s);
        INSERT INTO public.continuity_telemetry_performance
            (user_id, element, performance_category)
        VALUES (%(u)s, 'e', 'good');
        INSERT INTO public.continuity_daily_analytics (user_id, validation_date)
        VALUES (%(u)s, now());
        INSERT INTO public.video_uploads (project_id, user_id, filename)
        VALUES (%(p)s, %(u)s, 'f');
        INSERT INTO public.sync_metrics (user_id, day, channel, metric, bucket, count)
        VALUES (%(u)s, current_date, 'stable', 'sync_outcome', 'confirmed', 1);
        """,
        {"u": owner, "p": project, "s": scene, "j": job, "sp": screenplay},
    )
    return owner, other


def _statement(template: LiteralString, table: str, column: str) -> sql.Composed:
    """``template`` with the table and its owner column filled in as identifiers."""
    return sql.SQL(template).format(sql.Identifier("public", table), sql.Identifier(column))


def _attempt(
    conn: Conn, role: str, user: uuid.UUID | None, query: sql.Composed, owner: uuid.UUID
) -> ErrorCode | int:
    """Run ``query`` as ``role``: the error code it raised, or the number of rows it touched."""
    claims = claims_for_user(str(user)) if user else None
    try:
        with request_transaction(conn, role, claims):
            return conn.execute(query, (owner,)).rowcount
    except DirectorStudioError as error:
        return error.code


def _count_rows(conn: Conn, table: str, column: str, owner: uuid.UUID) -> int:
    row = conn.execute(
        _statement("SELECT count(*) FROM {} WHERE {} = %s", table, column), (owner,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_every_owned_table_has_a_row_for_the_owner_in_this_fixture(
    admin_conn: Conn, two_users_with_rows: tuple[uuid.UUID, uuid.UUID]
) -> None:
    owner, _ = two_users_with_rows
    empty = [
        table
        for table, column in _owned_tables(admin_conn)
        if _count_rows(admin_conn, table, column, owner) == 0
    ]
    assert empty == []


def test_the_owner_reads_their_rows_in_every_table(
    admin_conn: Conn, two_users_with_rows: tuple[uuid.UUID, uuid.UUID]
) -> None:
    owner, _ = two_users_with_rows
    tables = _owned_tables(admin_conn)
    with psycopg.connect(admin_conn.info.dsn) as conn:
        for table, column in tables:
            with request_transaction(conn, "authenticated", claims_for_user(str(owner))):
                assert _count_rows(conn, table, column, owner) >= 1, table


def test_another_user_reads_none_of_the_owners_rows_in_any_table(
    admin_conn: Conn, two_users_with_rows: tuple[uuid.UUID, uuid.UUID]
) -> None:
    owner, other = two_users_with_rows
    tables = _owned_tables(admin_conn)
    with psycopg.connect(admin_conn.info.dsn) as conn:
        for table, column in tables:
            with request_transaction(conn, "authenticated", claims_for_user(str(other))):
                assert _count_rows(conn, table, column, owner) == 0, table


def test_another_user_changes_none_of_the_owners_rows_in_any_table(
    admin_conn: Conn, two_users_with_rows: tuple[uuid.UUID, uuid.UUID]
) -> None:
    owner, other = two_users_with_rows
    tables = _owned_tables(admin_conn)
    before = {t: _count_rows(admin_conn, t, c, owner) for t, c in tables}
    with psycopg.connect(admin_conn.info.dsn) as conn:
        for table, column in tables:
            for template in (
                "UPDATE {0} SET {1} = {1} WHERE {1} = %s",
                "DELETE FROM {0} WHERE {1} = %s",
            ):
                outcome = _attempt(
                    conn, "authenticated", other, _statement(template, table, column), owner
                )
                assert outcome in (0, ErrorCode.FORBIDDEN), f"{table}: {template}"
    after = {t: _count_rows(admin_conn, t, c, owner) for t, c in tables}
    assert after == before


def test_another_user_cannot_insert_rows_owned_by_the_owner(
    admin_conn: Conn, two_users_with_rows: tuple[uuid.UUID, uuid.UUID]
) -> None:
    owner, other = two_users_with_rows
    with psycopg.connect(admin_conn.info.dsn) as conn:
        for table, column in _owned_tables(admin_conn):
            query = _statement("INSERT INTO {} ({}) VALUES (%s)", table, column)
            outcome = _attempt(conn, "authenticated", other, query, owner)
            # A NOT NULL column may fire before the policy; the next test shows the policy.
            assert outcome in (ErrorCode.FORBIDDEN, ErrorCode.INVALID_INPUT), table


def test_row_level_security_rejects_a_complete_row_written_for_another_user(
    admin_conn: Conn, two_users_with_rows: tuple[uuid.UUID, uuid.UUID]
) -> None:
    owner, other = two_users_with_rows
    with psycopg.connect(admin_conn.info.dsn) as conn:
        with (
            pytest.raises(DirectorStudioError) as caught,
            request_transaction(conn, "authenticated", claims_for_user(str(other))),
        ):
            conn.execute(
                "INSERT INTO public.project_overview (project_id, user_id, title)"
                " VALUES (gen_random_uuid(), %s, 'stolen')",
                (owner,),
            )
        assert caught.value.code is ErrorCode.FORBIDDEN


def test_anon_can_neither_read_nor_write_any_table(
    admin_conn: Conn, two_users_with_rows: tuple[uuid.UUID, uuid.UUID]
) -> None:
    owner, _ = two_users_with_rows
    with psycopg.connect(admin_conn.info.dsn) as conn:
        for table, column in _owned_tables(admin_conn):
            for template in (
                "SELECT 1 FROM {0} WHERE {1} = %s",
                "UPDATE {0} SET {1} = {1} WHERE {1} = %s",
                "DELETE FROM {0} WHERE {1} = %s",
                "INSERT INTO {0} ({1}) VALUES (%s)",
            ):
                outcome = _attempt(conn, "anon", None, _statement(template, table, column), owner)
                assert outcome is ErrorCode.FORBIDDEN, f"{table}: {template}"


def test_anon_cannot_call_any_function(admin_conn: Conn) -> None:
    functions = admin_conn.execute(
        """
        SELECT p.oid::regprocedure::text, p.pronargs,
               coalesce(array_to_string(ARRAY(
                   SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t), ','), '')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'private') AND p.prokind = 'f'
          AND p.prorettype <> 'trigger'::regtype
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
        """
    ).fetchall()
    assert functions
    with psycopg.connect(admin_conn.info.dsn) as conn:
        for signature, _, types in functions:
            name = signature.split("(", 1)[0]
            args = ", ".join(f"NULL::{t}" for t in types.split(",")) if types else ""
            query = sql.SQL("SELECT {}(" + args + ")").format(sql.SQL(name))
            with pytest.raises(DirectorStudioError) as caught, request_transaction(conn, "anon"):
                conn.execute(query)
            assert caught.value.code is ErrorCode.FORBIDDEN, signature
