"""Catalog checks: the security and performance rules hold for every object, present and future."""

from __future__ import annotations

import re
from typing import Any

import psycopg

Conn = psycopg.Connection[Any]
EXPOSED = ("public", "private")


def _names(conn: Conn, query: str) -> list[str]:
    return [str(row[0]) for row in conn.execute(query).fetchall()]


def test_every_table_in_public_has_row_level_security_enabled(admin_conn: Conn) -> None:
    missing = _names(
        admin_conn,
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'private') AND c.relkind IN ('r', 'p')
          AND NOT c.relrowsecurity
        """,
    )
    assert missing == []


def test_every_function_has_a_fixed_search_path(admin_conn: Conn) -> None:
    missing = _names(
        admin_conn,
        """
        SELECT n.nspname || '.' || p.proname
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'private')
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
          AND NOT EXISTS (
              SELECT FROM unnest(coalesce(p.proconfig, '{}')) AS cfg
              WHERE cfg LIKE 'search_path=%')
        """,
    )
    assert missing == []


def test_every_foreign_key_has_an_index_starting_with_its_columns(admin_conn: Conn) -> None:
    missing = _names(
        admin_conn,
        """
        SELECT con.conrelid::regclass::text || '.' || con.conname
        FROM pg_constraint con
        JOIN pg_namespace n ON n.oid = con.connamespace
        WHERE con.contype = 'f' AND n.nspname IN ('public', 'private')
          AND NOT EXISTS (
              SELECT FROM pg_index i
              WHERE i.indrelid = con.conrelid
                AND (SELECT array_agg(k ORDER BY k)
                     FROM unnest((i.indkey::int2[])[0:cardinality(con.conkey) - 1]) AS k)
                  = (SELECT array_agg(k ORDER BY k) FROM unnest(con.conkey) AS k))
        """,
    )
    assert missing == []


def test_anon_has_no_privilege_on_any_table_or_sequence(admin_conn: Conn) -> None:
    granted = _names(
        admin_conn,
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'private')
          AND CASE WHEN c.relkind IN ('r', 'p', 'v', 'm') THEN has_table_privilege('anon', c.oid,
              'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') END
        UNION ALL
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'private')
          AND CASE WHEN c.relkind = 'S'
              THEN has_sequence_privilege('anon', c.oid, 'USAGE, SELECT, UPDATE') END
        """,
    )
    assert granted == []


def test_anon_cannot_execute_any_function(admin_conn: Conn) -> None:
    executable = _names(
        admin_conn,
        """
        SELECT n.nspname || '.' || p.proname
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'private')
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
          AND has_function_privilege('anon', p.oid, 'EXECUTE')
        """,
    )
    assert executable == []


def test_security_definer_functions_are_few_and_never_public(admin_conn: Conn) -> None:
    rows = admin_conn.execute(
        """
        SELECT n.nspname || '.' || p.proname,
               has_function_privilege('anon', p.oid, 'EXECUTE'),
               p.proacl IS NULL
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'private') AND p.prosecdef
        """
    ).fetchall()
    assert all(not anon and not default_acl for _, anon, default_acl in rows), rows


def test_at_most_one_permissive_policy_per_table_role_and_action(admin_conn: Conn) -> None:
    duplicates = admin_conn.execute(
        """
        SELECT schemaname, tablename, r.role, cmd, count(*)
        FROM pg_policies, unnest(roles) AS r(role)
        WHERE permissive = 'PERMISSIVE'
        GROUP BY 1, 2, 3, 4 HAVING count(*) > 1
        """
    ).fetchall()
    assert duplicates == []


def test_policies_call_auth_uid_through_a_subselect(admin_conn: Conn) -> None:
    rows = admin_conn.execute(
        "SELECT policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '')"
        " FROM pg_policies WHERE schemaname IN ('public', 'realtime')"
    ).fetchall()
    assert rows, "expected policies"
    bare = [
        name
        for name, text in rows
        if len(re.findall(r"auth\.uid\(\)", text)) != len(re.findall(r"SELECT auth\.uid\(\)", text))
    ]
    assert bare == []


def test_every_policy_is_for_signed_in_users_only(admin_conn: Conn) -> None:
    roles = {
        role
        for (role_list,) in admin_conn.execute(
            "SELECT roles FROM pg_policies WHERE schemaname = 'public'"
        ).fetchall()
        for role in role_list
    }
    assert roles == {"authenticated"}
