"""What the fuzz and authorization suites read from the catalog: the rpc functions of the
exposed schema with their arguments, the exposed tables, and a digest of every table's rows.

Everything is enumerated at run time, so a function or table added later is covered without
editing a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

EXPOSED_SCHEMA = "public"
DIGESTED_SCHEMAS = ("public", "private", "auth", "realtime")

_FUNCTIONS = """
SELECT
    p.proname,
    coalesce(p.proargnames, ARRAY[]::text[]),
    ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) AS t),
    p.pronargdefaults,
    has_function_privilege('authenticated', p.oid, 'EXECUTE')
FROM pg_proc AS p
WHERE p.pronamespace = %s::regnamespace AND p.prokind = 'f'
  AND p.prorettype <> 'trigger'::regtype
ORDER BY p.proname, p.oid
"""

_TABLES = """
SELECT c.relname
FROM pg_class AS c
WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY c.relname
"""

_DIGESTED = """
SELECT c.relnamespace::regnamespace::text, c.relname,
    EXISTS (
        SELECT 1 FROM pg_attribute AS a
        WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
    )
FROM pg_class AS c
WHERE c.relkind IN ('r', 'p') AND c.relnamespace::regnamespace::text = ANY(%s)
ORDER BY 1, 2
"""

# Tables whose owner is not a user_id column: the row is the user, or names the user's topic.
_OWNER_EXPRESSIONS = {
    ("auth", "users"): "t.id::text",
    ("public", "app_users"): "t.id::text",
    ("realtime", "messages"): "substr(t.topic, length('user:') + 1)",
}


@dataclass(frozen=True)
class Argument:
    """One input argument of an rpc function."""

    name: str
    type: str
    has_default: bool


@dataclass(frozen=True)
class RpcFunction:
    """A function of the exposed schema, callable as ``/rest/v1/rpc/<name>``."""

    name: str
    arguments: tuple[Argument, ...]
    user_callable: bool

    @property
    def service_only(self) -> bool:
        """Whether only the service role may execute it."""
        return not self.user_callable

    @property
    def required(self) -> tuple[Argument, ...]:
        return tuple(arg for arg in self.arguments if not arg.has_default)


def rpc_functions(conn: psycopg.Connection[Any]) -> list[RpcFunction]:
    """Every function of the exposed schema with named arguments (what rpc can call)."""
    functions = []
    for name, names, types, n_defaults, user_callable in conn.execute(
        _FUNCTIONS, (EXPOSED_SCHEMA,)
    ):
        first_default = len(types) - int(n_defaults)
        arguments = tuple(
            Argument(arg_name, arg_type, index >= first_default)
            for index, (arg_name, arg_type) in enumerate(zip(names, types, strict=False))
        )
        functions.append(RpcFunction(str(name), arguments, bool(user_callable)))
    return functions


def exposed_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """The tables and views of the exposed schema (PostgREST's table endpoints)."""
    return [str(row[0]) for row in conn.execute(_TABLES, (EXPOSED_SCHEMA,))]


@dataclass(frozen=True)
class DigestQuery:
    """One statement that digests every table: all rows, or only the rows a user does not own."""

    tables: tuple[str, ...]
    statement: sql.Composed

    def run(
        self, conn: psycopg.Connection[Any], *, except_owner: str | None = None
    ) -> dict[str, str]:
        rows = conn.execute(self.statement, {"owner": except_owner}).fetchall()
        return {str(table): str(digest) for table, digest in rows}


def digest_query(conn: psycopg.Connection[Any]) -> DigestQuery:
    """A digest (md5 over the sorted row texts) of every table of the schemas the API writes."""
    parts = []
    names = []
    for schema, table, has_user_id in conn.execute(_DIGESTED, (list(DIGESTED_SCHEMAS),)):
        owner = _OWNER_EXPRESSIONS.get((schema, table))
        if owner is None:
            owner = "t.user_id::text" if has_user_id else "NULL::text"
        names.append(f"{schema}.{table}")
        parts.append(
            sql.SQL(
                "SELECT {label}, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                " FROM {table} AS t WHERE %(owner)s::text IS NULL"
                " OR {owner} IS DISTINCT FROM %(owner)s::text"
            ).format(
                label=sql.Literal(f"{schema}.{table}"),
                table=sql.Identifier(schema, table),
                owner=sql.SQL(owner),
            )
        )
    return DigestQuery(tuple(names), sql.SQL(" UNION ALL ").join(parts))


def changed_tables(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """The tables whose digest differs."""
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
