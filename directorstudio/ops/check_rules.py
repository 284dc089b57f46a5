"""The catalog rules of ``directorstudio check``: the project's security model and the
Supabase database advisor's (splinter's) rules, each a query naming the objects that break it.

Every rule reads only the catalog (and, for orphans, one anti-join per foreign key), so it is
safe to run against production. Rule names follow splinter where it has one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from psycopg import sql

from directorstudio.ops.findings import EXPOSED_SCHEMAS, PLATFORM_SCHEMAS, Conn, Finding

OURS = "n.nspname <> ALL(%(platform)s::text[]) AND n.nspname NOT LIKE 'pg\\_%%'"
EXPOSED = "n.nspname = ANY(%(exposed)s::text[])"
TABLE = "c.relkind IN ('r', 'p')"
NOT_EXTENSION = "NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
# A function by its name, with its argument types only when the name is overloaded.
FUNCTION = """CASE WHEN (SELECT count(*) FROM pg_proc q WHERE q.proname = p.proname
                          AND q.pronamespace = p.pronamespace) > 1
              THEN p.oid::regprocedure::text ELSE p.oid::regproc::text END"""
CLIENT_ROLES = "(SELECT oid FROM pg_roles WHERE rolname IN ('anon', 'authenticated'))"

QUERIES: dict[str, str] = {
    "rls_disabled_in_public": f"""
        SELECT c.oid::regclass::text, 'row level security is off on a table PostgREST serves'
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {EXPOSED} AND {TABLE} AND NOT c.relrowsecurity""",
    "rls_disabled": f"""
        SELECT c.oid::regclass::text, 'row level security is off'
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {OURS} AND NOT {EXPOSED} AND {TABLE} AND NOT c.relrowsecurity""",
    "policy_exists_rls_disabled": f"""
        SELECT c.oid::regclass::text, 'has policies but row level security is off'
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {OURS} AND {TABLE} AND NOT c.relrowsecurity
          AND EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid)""",
    # A table signed-in users or anon may query needs a policy, or they see nothing; one with
    # no grant to them (service role only) needs none.
    "rls_enabled_no_policy": f"""
        SELECT c.oid::regclass::text,
               'row level security is on and clients are granted access, but no policy exists'
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {OURS} AND {TABLE} AND c.relrowsecurity
          AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid)
          AND EXISTS (SELECT FROM {CLIENT_ROLES} AS r(oid)
                      WHERE has_table_privilege(r.oid, c.oid, 'SELECT, INSERT, UPDATE, DELETE'))""",
    "multiple_permissive_policies": """
        SELECT pol.polrelid::regclass::text,
               count(*) || ' permissive policies for ' || coalesce(r.rolname, 'public')
               || ' on ' || cmd.name || ': ' || string_agg(pol.polname, ', ' ORDER BY pol.polname)
        FROM pg_policy pol
        CROSS JOIN LATERAL unnest(pol.polroles) AS role_oid
        LEFT JOIN pg_roles r ON r.oid = role_oid
        CROSS JOIN LATERAL (VALUES ('r', 'SELECT'), ('a', 'INSERT'), ('w', 'UPDATE'),
                                   ('d', 'DELETE')) AS cmd (code, name)
        WHERE pol.polpermissive AND (pol.polcmd = '*' OR pol.polcmd = cmd.code)
        GROUP BY pol.polrelid, r.rolname, cmd.name HAVING count(*) > 1""",
    "unindexed_foreign_keys": f"""
        SELECT con.conrelid::regclass::text || '.' || quote_ident(con.conname),
               'no index starts with the foreign key''s columns'
        FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
        WHERE con.contype = 'f' AND {OURS}
          AND NOT EXISTS (
              SELECT FROM pg_index i
              WHERE i.indrelid = con.conrelid
                AND (SELECT array_agg(k ORDER BY k)
                     FROM unnest((i.indkey::int2[])[0:cardinality(con.conkey) - 1]) AS k)
                  = (SELECT array_agg(k ORDER BY k) FROM unnest(con.conkey) AS k))""",
    "function_search_path_mutable": f"""
        SELECT {FUNCTION}, 'search_path is not fixed'
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE {OURS} AND {NOT_EXTENSION.format(oid="p.oid")}
          AND NOT EXISTS (SELECT FROM unnest(coalesce(p.proconfig, '{{}}')) AS cfg
                          WHERE cfg LIKE 'search\\_path=%%')""",
    "extension_in_public": f"""
        SELECT e.extname, 'extension installed in exposed schema ' || n.nspname
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE {EXPOSED}""",
    "security_definer_exposed": f"""
        SELECT {FUNCTION},
               'SECURITY DEFINER in an exposed schema, executable by '
               || string_agg(r.rolname, ', ' ORDER BY r.rolname)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_roles r ON r.rolname IN ('anon', 'authenticated')
        WHERE {EXPOSED} AND p.prosecdef AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
          AND {NOT_EXTENSION.format(oid="p.oid")}
        GROUP BY p.oid, p.proname, p.pronamespace""",
    "anon_grants": f"""
        SELECT c.oid::regclass::text, 'anon holds privileges on this relation'
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_roles r ON r.rolname = 'anon'
        WHERE {OURS} AND CASE WHEN c.relkind = 'S'
              THEN has_sequence_privilege(r.oid, c.oid, 'USAGE, SELECT, UPDATE')
              WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f')
              THEN has_table_privilege(r.oid, c.oid,
                  'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') END
        UNION ALL
        SELECT {FUNCTION}, 'anon may execute this function'
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_roles r ON r.rolname = 'anon'
        WHERE {OURS} AND {NOT_EXTENSION.format(oid="p.oid")}
          AND has_function_privilege(r.oid, p.oid, 'EXECUTE')""",
    "constraint_not_valid": f"""
        SELECT con.conrelid::regclass::text || '.' || quote_ident(con.conname),
               'constraint is NOT VALID: existing rows were never checked'
        FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
        WHERE {OURS} AND NOT con.convalidated""",
}

FOREIGN_KEYS = f"""
    SELECT con.conrelid::regclass::text || '.' || quote_ident(con.conname),
           cn.nspname, c.relname, pn.nspname, pc.relname,
           ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(n, i)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
           ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(n, i)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
    JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
    JOIN pg_namespace n ON n.oid = con.connamespace
    WHERE con.contype = 'f' AND {OURS}
    ORDER BY 1
"""

_WRAPPED_CALLS = re.compile(r"\b(auth\.(?:uid|jwt|role|email)\(\)|current_setting\()")


def _params() -> dict[str, list[str]]:
    return {"platform": list(PLATFORM_SCHEMAS), "exposed": list(EXPOSED_SCHEMAS)}


def _query_rule(name: str) -> Callable[[Conn], list[Finding]]:
    def run(conn: Conn) -> list[Finding]:
        rows = conn.execute(QUERIES[name], _params()).fetchall()
        return [Finding(str(obj), name, str(text)) for obj, text in rows]

    return run


def auth_rls_initplan(conn: Conn) -> list[Finding]:
    """A policy calling auth.uid() (or auth.jwt(), current_setting()) bare, evaluated per row,
    instead of once through ``(select auth.uid())``."""
    rows = conn.execute(
        "SELECT pol.polrelid::regclass::text || '.' || quote_ident(pol.polname),"
        " concat_ws(' ', pg_get_expr(pol.polqual, pol.polrelid),"
        "           pg_get_expr(pol.polwithcheck, pol.polrelid))"
        " FROM pg_policy pol"
    ).fetchall()
    findings = []
    for name, text in rows:
        calls = _WRAPPED_CALLS.findall(text)
        wrapped = re.findall(r"SELECT (auth\.(?:uid|jwt|role|email)\(\)|current_setting\()", text)
        if len(calls) > len(wrapped):
            findings.append(
                Finding(name, "auth_rls_initplan", "calls auth functions per row, not in a select")
            )
    return findings


def fk_orphans(conn: Conn) -> list[Finding]:
    """Rows whose foreign key points at no row (possible under NOT VALID or disabled triggers)."""
    findings = []
    for name, schema, table, ref_schema, ref_table, columns, ref_columns in conn.execute(
        FOREIGN_KEYS,
        _params(),
    ).fetchall():
        child = sql.Identifier(schema, table)
        parent = sql.Identifier(ref_schema, ref_table)
        not_null = sql.SQL(" AND ").join(
            sql.SQL("c.{} IS NOT NULL").format(sql.Identifier(col)) for col in columns
        )
        match = sql.SQL(" AND ").join(
            sql.SQL("p.{} = c.{}").format(sql.Identifier(ref), sql.Identifier(col))
            for col, ref in zip(columns, ref_columns, strict=True)
        )
        query = sql.SQL(
            "SELECT count(*) FROM {child} AS c WHERE {not_null}"
            " AND NOT EXISTS (SELECT FROM {parent} AS p WHERE {match})"
        ).format(child=child, parent=parent, not_null=not_null, match=match)
        row = conn.execute(query).fetchone()
        if row and row[0]:
            findings.append(
                Finding(
                    name,
                    "fk_orphans",
                    f"{row[0]} {'row points' if row[0] == 1 else 'rows point'}"
                    f" at no {ref_schema}.{ref_table} row",
                )
            )
    return findings


RULES: dict[str, Callable[[Conn], list[Finding]]] = {
    **{name: _query_rule(name) for name in QUERIES},
    "auth_rls_initplan": auth_rls_initplan,
    "fk_orphans": fk_orphans,
}


def catalog_findings(conn: Conn, rules: list[str] | None = None) -> list[Finding]:
    """What the catalog rules (all, or those named) find in the database of ``conn``."""
    found: list[Finding] = []
    with conn.transaction():
        conn.execute("SET LOCAL search_path = ''")  # every name comes out schema-qualified
        for name in rules or list(RULES):
            found += RULES[name](conn)
    return sorted(found)
