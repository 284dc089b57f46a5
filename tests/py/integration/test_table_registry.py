"""The shared table registry agrees with the database it describes."""

from __future__ import annotations

from typing import Any

import psycopg

from directorstudio.contracts.tables import SYNCED, TABLES

Conn = psycopg.Connection[Any]
_TYPES = {
    "text": {"text", "uuid", "timestamp with time zone"},
    "integer": {"integer", "bigint", "smallint"},
    "real": {"double precision"},
    "boolean": {"boolean"},
}


def _columns(conn: Conn, table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = %s",
        (table,),
    ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def test_every_registered_field_is_a_column_of_that_type_on_the_server(admin_conn: Conn) -> None:
    wrong = [
        (spec.name, field.name, field.type)
        for spec in SYNCED
        for field in spec.fields
        if _columns(admin_conn, spec.name).get(field.name) not in _TYPES[field.type]
    ]
    assert wrong == []


def test_every_registered_id_column_is_its_tables_primary_key(admin_conn: Conn) -> None:
    keys = {
        str(table): str(column)
        for table, column in admin_conn.execute(
            "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc"
            " JOIN information_schema.key_column_usage kcu USING (constraint_schema,"
            " constraint_name) WHERE tc.table_schema = 'public'"
            " AND tc.constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    }
    assert {name: keys.get(name) for name in TABLES} == {
        name: spec.id_column for name, spec in TABLES.items()
    }
