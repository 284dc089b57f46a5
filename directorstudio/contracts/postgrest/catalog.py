"""PostgREST's schema cache, read from the catalog: the functions of the exposed schema
(``pg_proc``) and its tables and views with their columns.

Each lookup is one catalog query, the same text for sync and async connections, so a function
or table created by a migration is seen at once. :class:`SchemaCache` keeps the functions'
lookups between requests, as PostgREST's schema cache does (reloaded on ``NOTIFY pgrst``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import psycopg

from directorstudio.contracts.postgrest.context import EXPOSED_SCHEMA
from directorstudio.contracts.postgrest.errors import PostgrestError

INPUT_MODES = frozenset({"i", "b", "v"})

FUNCTIONS_QUERY = """
SELECT
    p.proretset,
    t.typname = 'void' AND t.typnamespace = 'pg_catalog'::regnamespace AS returns_void,
    coalesce(p.proargnames, ARRAY[]::text[]) AS arg_names,
    coalesce(p.proargmodes::text[], ARRAY[]::text[]) AS arg_modes,
    ARRAY(
        SELECT format_type(u.type_oid, NULL)
        FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]))
            WITH ORDINALITY AS u (type_oid, position)
        ORDER BY u.position
    ) AS arg_types,
    p.pronargdefaults,
    t.typtype = 'c' OR t.oid = 'pg_catalog.record'::regtype AS returns_rows
FROM pg_proc AS p
JOIN pg_type AS t ON t.oid = p.prorettype
WHERE p.pronamespace = %s::regnamespace AND p.proname = %s AND p.prokind = 'f'
"""

# A relation is exposed when an API role holds a privilege on it (PostgREST's schema cache
# lists what its roles can reach; anything else is PGRST205).
RELATION_QUERY = """
SELECT
    c.relkind,
    ARRAY(
        SELECT a.attname FROM pg_attribute AS a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
    ) AS columns,
    ARRAY(
        SELECT a.attname
        FROM pg_index AS i
        CROSS JOIN LATERAL unnest(i.indkey::smallint[]) WITH ORDINALITY AS k (attnum, position)
        JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE i.indrelid = c.oid AND i.indisprimary
        ORDER BY k.position
    ) AS primary_key
FROM pg_class AS c
WHERE c.relnamespace = %s::regnamespace AND c.relname = %s
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND EXISTS (
      SELECT 1 FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r (role_name)
      WHERE has_table_privilege(r.role_name, c.oid, 'SELECT, INSERT, UPDATE, DELETE')
  )
"""


@dataclass(frozen=True)
class Routine:
    """One candidate function: its input arguments and how it returns."""

    name: str
    arguments: list[tuple[str, str]]
    required: frozenset[str]
    returns_set: bool
    returns_void: bool
    returns_rows: bool = False


@dataclass(frozen=True)
class Relation:
    """A table or view of the exposed schema: its columns (in order) and primary key."""

    name: str
    kind: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]


def _routine_from_row(name: str, row: tuple[Any, ...]) -> Routine:
    returns_set, returns_void, names, modes, types, n_defaults, returns_rows = row
    modes = modes or ["i"] * len(types)
    arguments = [
        (arg_name, arg_type)
        for arg_name, arg_type, mode in zip(names or [""] * len(types), types, modes, strict=False)
        if mode in INPUT_MODES
    ]
    required_count = len(arguments) - int(n_defaults)
    return Routine(
        name=name,
        arguments=arguments,
        required=frozenset(arg for arg, _ in arguments[:required_count]),
        returns_set=bool(returns_set),
        returns_void=bool(returns_void),
        returns_rows=bool(returns_rows),
    )


def load_routines(conn: psycopg.Connection[Any], name: str) -> list[Routine]:
    """Every function of the exposed schema named ``name`` (sync connection)."""
    rows = conn.execute(FUNCTIONS_QUERY, (EXPOSED_SCHEMA, name)).fetchall()
    return [_routine_from_row(name, row) for row in rows]


async def load_routines_async(conn: psycopg.AsyncConnection[Any], name: str) -> list[Routine]:
    """Every function of the exposed schema named ``name`` (async connection)."""
    cursor = await conn.execute(FUNCTIONS_QUERY, (EXPOSED_SCHEMA, name))
    return [_routine_from_row(name, row) for row in await cursor.fetchall()]


class SchemaCache:
    """The exposed functions by name, read from the catalog once and kept until :meth:`reload`
    (PostgREST reloads its schema cache on ``NOTIFY pgrst, 'reload schema'``).

    A name with no function is never kept, so a function created later is found on its first
    call; :meth:`forget` drops one name whose kept candidates turned out stale (its call named a
    function that no longer exists).
    """

    def __init__(self) -> None:
        self._routines: dict[str, list[Routine]] = {}
        self._reloaded = threading.Condition()
        self.reloads = 0
        """How many times the cache was emptied as a whole."""

    def __contains__(self, name: object) -> bool:
        return name in self._routines

    async def routines_async(
        self, conn: psycopg.AsyncConnection[Any], name: str, *, fresh: bool = False
    ) -> list[Routine]:
        """The candidates named ``name``: kept ones, or (``fresh``, or none kept) the catalog's."""
        kept = None if fresh else self._routines.get(name)
        if kept is not None:
            return kept
        loaded = await load_routines_async(conn, name)
        if loaded:
            self._routines[name] = loaded
        else:
            self._routines.pop(name, None)
        return loaded

    def forget(self, name: str) -> None:
        """Read ``name`` from the catalog again on its next call."""
        self._routines.pop(name, None)

    def reload(self) -> None:
        """Read every function from the catalog again on its next call."""
        self._routines.clear()
        with self._reloaded:
            self.reloads += 1
            self._reloaded.notify_all()

    def wait_for_reload(self, after: int, timeout: float) -> bool:
        """Block (another thread than the one reloading) until :attr:`reloads` exceeds
        ``after``; whether it did within ``timeout`` seconds."""
        with self._reloaded:
            return self._reloaded.wait_for(lambda: self.reloads > after, timeout)


def choose_routine(name: str, candidates: list[Routine], given: set[str]) -> Routine:
    """The candidate whose argument names fit ``given`` (PGRST202 when none does)."""
    fitting = [
        routine
        for routine in candidates
        if routine.required <= given <= {arg for arg, _ in routine.arguments}
        and all(arg for arg, _ in routine.arguments)
    ]
    if fitting:
        return min(fitting, key=lambda routine: len(routine.arguments))
    listed = ", ".join(sorted(given))
    signature = f"{EXPOSED_SCHEMA}.{name}({listed})" if given else f"{EXPOSED_SCHEMA}.{name}"
    suffix = "" if given else " without parameters"
    raise PostgrestError(
        404,
        "PGRST202",
        f"Could not find the function {signature}{suffix} in the schema cache",
        details=(
            f"Searched for the function {EXPOSED_SCHEMA}.{name} with parameters {listed} or "
            "with a single unnamed json/jsonb parameter, but no matches were found in the "
            "schema cache."
            if given
            else f"Searched for the function {EXPOSED_SCHEMA}.{name} without parameters, but "
            "no matches were found in the schema cache."
        ),
    )


def _relation(name: str, row: tuple[Any, ...] | None) -> Relation:
    if row is None:
        raise PostgrestError(
            404,
            "PGRST205",
            f"Could not find the table '{EXPOSED_SCHEMA}.{name}' in the schema cache",
        )
    kind, columns, primary_key = row
    return Relation(name, str(kind), tuple(columns), tuple(primary_key))


def load_relation(conn: psycopg.Connection[Any], name: str) -> Relation:
    """The exposed table or view ``name`` (404 ``PGRST205`` when there is none)."""
    return _relation(name, conn.execute(RELATION_QUERY, (EXPOSED_SCHEMA, name)).fetchone())


async def load_relation_async(conn: psycopg.AsyncConnection[Any], name: str) -> Relation:
    """The exposed table or view ``name`` (404 ``PGRST205`` when there is none)."""
    cursor = await conn.execute(RELATION_QUERY, (EXPOSED_SCHEMA, name))
    return _relation(name, await cursor.fetchone())
