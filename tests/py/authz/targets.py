"""Arguments that aim an rpc call at the victim's rows, derived from the catalog and the
victim's rows themselves (so a new function or table is aimed at without editing a test).

For each of the victim's rows (one per table), an argument ``p_<column>`` takes that row's
column, else the column of any victim row; ``p_id`` and ``p_..._id`` without a column take the
row's id; what remains gets a plain valid value of its type.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from directorstudio.contracts.sync import OPERATIONS
from tests.support.catalog import RpcFunction

Row = dict[str, Any]

_OWNED_TABLES = """
SELECT c.relname,
    CASE WHEN c.relname = 'app_users' THEN 'id' ELSE 'user_id' END
FROM pg_class AS c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
  AND (c.relname = 'app_users' OR EXISTS (
      SELECT 1 FROM pg_attribute AS a
      WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped))
ORDER BY 1
"""


def victim_rows(conn: psycopg.Connection[Any], user_id: str) -> list[tuple[str, Row]]:
    """One row of each public table the victim owns a row in: (table, row as JSON values)."""
    rows = []
    for table, owner in conn.execute(_OWNED_TABLES).fetchall():
        with conn.cursor(row_factory=dict_row) as cursor:
            found = cursor.execute(
                sql.SQL("SELECT to_jsonb(t) AS r FROM {} AS t WHERE {}::text = %s LIMIT 1").format(
                    sql.Identifier("public", table), sql.Identifier(owner)
                ),
                (user_id,),
            ).fetchone()
        if found is not None:
            rows.append((str(table), dict(found["r"])))
    return rows


def _plain(sql_type: str, name: str, table: str, row: Row) -> Any:
    if sql_type.endswith("[]"):
        return [_plain(sql_type[:-2], name, table, row)]
    if name == "p_table":
        return table
    if name == "p_resolution":
        return "keep_remote"
    if name == "p_mutations":
        op = sorted(OPERATIONS.get(table, {"upsert"}))[0]
        return [
            {
                "mutation_id": 1,
                "table": table,
                "op": op,
                "id": row.get("id"),
                "args": {"title": "taken over", "prompt_text": "taken over"},
            }
        ]
    if name == "p_patch":
        return {"prompt_text": "taken over"}
    if name == "p_events":
        return [{"element": "taken over", "attempts": 1, "successes": 1}]
    return {
        "uuid": str(uuid.uuid4()),
        "text": "taken over",
        "integer": 1,
        "bigint": 1,
        "smallint": 1,
        "double precision": 0.5,
        "boolean": True,
        "jsonb": [],
        "date": dt.date.today().isoformat(),
        "timestamp with time zone": dt.datetime.now(dt.UTC).isoformat(),
    }.get(sql_type)


def _value(name: str, sql_type: str, table: str, row: Row, rows: list[tuple[str, Row]]) -> Any:
    column = name.removeprefix("p_")
    if column in row:
        value = row[column]
    elif any(column in other for _, other in rows):
        value = next(other[column] for _, other in rows if column in other)
    elif column.endswith("id") and "id" in row and sql_type.startswith("uuid"):
        value = row["id"] if "project_id" not in column else row.get("project_id", row["id"])
    else:
        return _plain(sql_type, name, table, row)
    if sql_type.endswith("[]"):
        return [value]
    if sql_type == "text" and not isinstance(value, str):
        return json.dumps(value)
    return value


def aimed_arguments(
    function: RpcFunction, rows: list[tuple[str, Row]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """For each victim row: (its table, arguments aiming ``function`` at it)."""
    for table, row in rows:
        yield (
            table,
            {arg.name: _value(arg.name, arg.type, table, row, rows) for arg in function.arguments},
        )
