"""Catalog checks: the security and performance rules hold for every object, present and future."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import psycopg

from directorstudio import paths
from directorstudio.contracts.postgrest.context import EXPOSED_SCHEMA
from directorstudio.ops.check_rules import catalog_findings

Conn = psycopg.Connection[Any]
TEST_HELPERS = "tests."  # the pgTAP helpers' schema, in the test template only
EXPOSED = ("public", "private")
# The schemas PostgREST serves: hosted Supabase's [api] schemas, which the local gateway mirrors.
API_SCHEMAS: list[str] = tomllib.loads((paths.PROJECT_ROOT / "supabase/config.toml").read_text())[
    "api"
]["schemas"]
# Roles that may hold EXECUTE on a SECURITY DEFINER function (besides its owner).
DEFINER_CALLERS = {"authenticated", "service_role"}


def _names(conn: Conn, query: str) -> list[str]:
    return [str(row[0]) for row in conn.execute(query).fetchall()]


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


def test_the_gateway_exposes_exactly_the_schemas_hosted_supabase_exposes() -> None:
    assert API_SCHEMAS == [EXPOSED_SCHEMA]
    assert "private" not in API_SCHEMAS


def test_every_function_in_an_exposed_schema_is_security_invoker(admin_conn: Conn) -> None:
    definers = admin_conn.execute(
        """
        SELECT p.oid::regprocedure::text
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY(%s) AND p.prosecdef
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
        """,
        (API_SCHEMAS,),
    ).fetchall()
    assert definers == []


def test_no_security_definer_function_in_an_exposed_schema_is_executable_by_api_roles(
    admin_conn: Conn,
) -> None:
    # The advisor's anon_/authenticated_security_definer_function_executable rules.
    executable = admin_conn.execute(
        """
        SELECT p.oid::regprocedure::text, r.role
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
             unnest(ARRAY['anon', 'authenticated']) AS r(role)
        WHERE n.nspname = ANY(%s) AND p.prosecdef
          AND has_function_privilege(r.role, p.oid, 'EXECUTE')
        """,
        (API_SCHEMAS,),
    ).fetchall()
    assert executable == []


def _definer_functions(conn: Conn) -> list[tuple[str, bool, list[str] | None, str, list[str]]]:
    """(signature, is a trigger, proconfig, body, roles holding EXECUTE) of every definer."""
    rows = conn.execute(
        """
        SELECT p.oid::regprocedure::text,
               p.prorettype = 'trigger'::regtype,
               p.proconfig,
               p.prosrc,
               ARRAY(
                   SELECT CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
                   FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                   WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'private') AND p.prosecdef
        ORDER BY 1
        """
    ).fetchall()
    return [(str(a), bool(b), c, str(d), list(e)) for a, b, c, d, e in rows]


def test_every_security_definer_function_has_an_empty_search_path(admin_conn: Conn) -> None:
    definers = _definer_functions(admin_conn)
    assert definers
    assert [sig for sig, _, config, _, _ in definers if config != ['search_path=""']] == []


def test_security_definer_functions_are_executable_only_by_the_roles_that_call_them(
    admin_conn: Conn,
) -> None:
    too_wide = [
        (sig, roles)
        for sig, trigger, _, _, roles in _definer_functions(admin_conn)
        if not set(roles) <= (set() if trigger else DEFINER_CALLERS)
    ]
    assert too_wide == []


def test_every_callable_security_definer_function_checks_the_caller_itself(
    admin_conn: Conn,
) -> None:
    unchecked = [
        sig
        for sig, trigger, _, body, _ in _definer_functions(admin_conn)
        if not trigger and not re.search(r"private\.require_user\(\)|auth\.uid\(\)", body)
    ]
    assert unchecked == []


def test_signed_in_users_may_only_use_the_private_schema_and_anon_not_even_that(
    admin_conn: Conn,
) -> None:
    rows = admin_conn.execute(
        """
        SELECT r.role, has_schema_privilege(r.role, 'private', 'USAGE'),
               has_schema_privilege(r.role, 'private', 'CREATE')
        FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r(role)
        ORDER BY 1
        """
    ).fetchall()
    assert rows == [
        ("anon", False, False),
        ("authenticated", True, False),
        ("service_role", True, False),
    ]


def test_no_extension_is_installed_in_an_exposed_schema(admin_conn: Conn) -> None:
    installed = admin_conn.execute(
        """
        SELECT e.extname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE n.nspname = ANY(%s)
        """,
        (API_SCHEMAS,),
    ).fetchall()
    assert installed == []


def test_no_view_in_an_exposed_schema_bypasses_row_level_security(admin_conn: Conn) -> None:
    # The advisor's security_definer_view and materialized_view_in_api rules.
    views = admin_conn.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%s)
          AND (c.relkind = 'm'
               OR (c.relkind = 'v'
                   AND NOT coalesce('security_invoker=true' = ANY(c.reloptions), false)))
        """,
        (API_SCHEMAS,),
    ).fetchall()
    assert views == []


def test_no_policy_table_role_and_action_has_two_permissive_policies_counting_for_all(
    admin_conn: Conn,
) -> None:
    # FOR ALL counts for each action, as the advisor's multiple_permissive_policies rule does.
    duplicates = admin_conn.execute(
        """
        SELECT schemaname, tablename, r.role, a.action, count(*)
        FROM pg_policies, unnest(roles) AS r(role),
             unnest(CASE cmd WHEN 'ALL' THEN ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']
                    ELSE ARRAY[cmd] END) AS a(action)
        WHERE permissive = 'PERMISSIVE'
        GROUP BY 1, 2, 3, 4 HAVING count(*) > 1
        """
    ).fetchall()
    assert duplicates == []


def test_policies_evaluate_every_auth_function_once_per_statement(admin_conn: Conn) -> None:
    # The advisor's auth_rls_initplan rule: auth.uid(), auth.jwt(), auth.role() and
    # current_setting() in a policy only inside a sub-select.
    rows = admin_conn.execute(
        "SELECT schemaname || '.' || policyname, coalesce(qual, '') || ' ' ||"
        " coalesce(with_check, '') FROM pg_policies"
    ).fetchall()
    calls = r"(auth\.(?:uid|jwt|role)\(\)|current_setting\()"
    bare = [
        name
        for name, text in rows
        if len(re.findall(calls, text)) != len(re.findall(r"SELECT " + calls, text))
    ]
    assert bare == []


def test_no_two_indexes_of_a_table_are_identical(admin_conn: Conn) -> None:
    duplicates = admin_conn.execute(
        """
        SELECT indrelid::regclass::text, array_agg(indexrelid::regclass::text)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'private')
        GROUP BY indrelid, indkey::text, indclass::text, indcollation::text,
                 coalesce(pg_get_expr(indexprs, indrelid), ''),
                 coalesce(pg_get_expr(indpred, indrelid), '')
        HAVING count(*) > 1
        """
    ).fetchall()
    assert duplicates == []
