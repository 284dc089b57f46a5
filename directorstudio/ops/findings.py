"""A finding of ``directorstudio check``: one object breaking one rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import psycopg

Conn = psycopg.Connection[Any]

# Schemas the platform owns (Supabase's, and PostgreSQL's own): their objects are not ours.
PLATFORM_SCHEMAS = (
    "pg_catalog",
    "information_schema",
    "pg_toast",
    "auth",
    "realtime",
    "_realtime",
    "extensions",
    "storage",
    "graphql",
    "graphql_public",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "supabase_functions",
    "supabase_migrations",
    "net",
    "cron",
    "pgbouncer",
    "_analytics",
)
# Schemas PostgREST serves (supabase/config.toml [api] schemas).
EXPOSED_SCHEMAS = ("public",)


@dataclass(frozen=True, order=True)
class Finding:
    """``object`` breaks ``rule``; ``finding`` says how."""

    object: str
    rule: str
    finding: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
