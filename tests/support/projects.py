"""Helpers for the project and scene draft tests: users, calls as a user, snapshots."""

from __future__ import annotations

import uuid
from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row

from directorstudio.db.context import claims_for_user, request_transaction
from tests.support.users import create_user as create_user

Conn = psycopg.Connection[Any]
Row = dict[str, Any]


def call_as(conn: Conn, user_id: uuid.UUID, query: LiteralString, params: Any = None) -> list[Row]:
    """Runs one statement as ``user_id`` in its own API request; errors come out translated."""
    claims = claims_for_user(str(user_id))
    with (
        request_transaction(conn, "authenticated", claims),
        conn.cursor(row_factory=dict_row) as cur,
    ):
        cur.execute(query, params)
        return cur.fetchall() if cur.description else []


def create_project(conn: Conn, user_id: uuid.UUID, title: str = "Project") -> uuid.UUID:
    """A new project of ``user_id``, created through the contract function."""
    project_id = uuid.uuid4()
    call_as(
        conn, user_id, "SELECT * FROM public.upsert_project_overview(%s, %s)", (project_id, title)
    )
    return project_id


def create_scene(
    conn: Conn, user_id: uuid.UUID, project_id: uuid.UUID, prompt: str, duration: float = 3.0
) -> Row:
    """A new scene appended to the project, created through the contract function."""
    rows = call_as(
        conn,
        user_id,
        "SELECT * FROM public.create_scene_draft(%s, %s, %s, %s)",
        (uuid.uuid4(), project_id, prompt, duration),
    )
    return rows[0]


def live_scenes(admin_conn: Conn, project_id: uuid.UUID) -> list[Row]:
    """The project's live scenes in order, read as superuser."""
    with admin_conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT id, order_index, prompt_text FROM public.scene_drafts"
            " WHERE project_id = %s AND NOT archived AND deleted_at IS NULL"
            " ORDER BY order_index, id",
            (project_id,),
        )
        return cur.fetchall()


def snapshot_of_user(admin_conn: Conn, user_id: uuid.UUID) -> list[Any]:
    """Every project and scene row of ``user_id`` as JSON, read as superuser."""
    rows = admin_conn.execute(
        "SELECT to_jsonb(p) FROM public.project_overview AS p WHERE user_id = %(u)s"
        " UNION ALL"
        " SELECT to_jsonb(s) FROM public.scene_drafts AS s WHERE user_id = %(u)s"
        " ORDER BY 1",
        {"u": user_id},
    ).fetchall()
    return [row[0] for row in rows]
