"""Catalog checks: the security and performance rules hold for every object, present and future."""

from __future__ import annotations

from typing import Any

import psycopg

from directorstudio.ops.check_rules import catalog_findings

Conn = psycopg.Connection[Any]
TEST_HELPERS = "tests."  # the pgTAP helpers' schema, in the test template only


def test_every_table_in_public_has_row_level_security_enabled(admin_conn: Conn) -> None:
    rules = ["rls_disabled_in_public", "rls_disabled", "policy_exists_rls_disabled"]
    assert catalog_findings(admin_conn, rules) == []


def test_every_function_has_a_fixed_search_path(admin_conn: Conn) -> None:
    assert catalog_findings(admin_conn, ["function_search_path_mutable"]) == []


def test_every_foreign_key_has_an_index_starting_with_its_columns(admin_conn: Conn) -> None:
    assert catalog_findings(admin_conn, ["unindexed_foreign_keys"]) == []


def test_anon_has_no_privilege_on_any_table_sequence_or_function(admin_conn: Conn) -> None:
    granted = [
        f
        for f in catalog_findings(admin_conn, ["anon_grants"])
        if not f.object.startswith(TEST_HELPERS)
    ]
    assert granted == []


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
    assert catalog_findings(admin_conn, ["multiple_permissive_policies"]) == []


def test_policies_call_auth_uid_through_a_subselect(admin_conn: Conn) -> None:
    assert catalog_findings(admin_conn, ["auth_rls_initplan"]) == []


def test_every_policy_is_for_signed_in_users_only(admin_conn: Conn) -> None:
    roles = {
        role
        for (role_list,) in admin_conn.execute(
            "SELECT roles FROM pg_policies WHERE schemaname = 'public'"
        ).fetchall()
        for role in role_list
    }
    assert roles == {"authenticated"}
