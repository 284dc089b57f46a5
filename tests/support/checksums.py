"""Row checksums of a whole database, to show that a refused request wrote nothing."""

from __future__ import annotations

import psycopg
from psycopg import sql

SCHEMAS = ("public", "private", "auth", "realtime")


def database_checksums(database_url: str) -> dict[str, tuple[int, str]]:
    """``{schema.table: (row count, md5 of the sorted rows)}`` for every table of ``SCHEMAS``
    (read as the superuser, so row level security hides nothing)."""
    result: dict[str, tuple[int, str]] = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1, 2",
            (list(SCHEMAS),),
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                " FROM {}.{} AS t"
            ).format(sql.Identifier(schema), sql.Identifier(table))
            row = conn.execute(query).fetchone()
            assert row is not None
            result[f"{schema}.{table}"] = (int(row[0]), str(row[1]))
    return result
