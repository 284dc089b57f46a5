"""Users for tests: a row in auth.users, as sign-up writes it."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg


def create_user(conn: psycopg.Connection[Any], email: str | None = None) -> uuid.UUID:
    """A signed-up Supabase user; the sign-up trigger opens its app_users row, its credits
    account keyed by its id and its statistics row."""
    user_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO auth.users (id, email, aud, role)"
        " VALUES (%s, %s, 'authenticated', 'authenticated')",
        (user_id, email or f"{user_id.hex[:8]}@example.test"),
    )
    return user_id
