"""Apply the platform bootstrap and pending migrations to a database.

Applied migrations are recorded in ``supabase_migrations.schema_migrations``, the table the
Supabase CLI uses, so a database migrated here and one migrated by ``supabase db push`` agree on
what has been applied. A transaction-level advisory lock serialises concurrent migrators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from directorstudio import paths

ADVISORY_LOCK_KEY = 5_414_239_771
HISTORY_DDL = """
CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (
    version text PRIMARY KEY,
    statements text[],
    name text
);
"""


@dataclass
class MigrationReport:
    """What one run of :func:`migrate` did."""

    bootstrapped: bool = False
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def migration_files(migrations_dir: Path = paths.MIGRATIONS_DIR) -> list[Path]:
    """Migrations in the order the Supabase CLI applies them (by file name)."""
    return sorted(migrations_dir.glob("[0-9]*_*.sql"))


def _name(path: Path) -> str:
    return path.name


def version_of(path: Path) -> str:
    return path.name.split("_", 1)[0]


def is_hosted_supabase(conn: psycopg.Connection[object]) -> bool:
    """A real Supabase database already has the platform; only plain PostgreSQL needs it."""
    row = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'supabase_admin'").fetchone()
    return row is not None


def apply_bootstrap(conn: psycopg.Connection[object]) -> None:
    conn.execute(sql.SQL(paths.BOOTSTRAP_FILE.read_text()))


def migrate(
    database_url: str,
    *,
    bootstrap: bool | None = None,
    migrations_dir: Path = paths.MIGRATIONS_DIR,
    files: list[Path] | None = None,
) -> MigrationReport:
    """Bring the database at ``database_url`` up to date; safe to run any number of times.

    ``bootstrap`` None means: apply the platform bootstrap unless the database is a Supabase one.
    ``files`` (default: every migration in ``migrations_dir``) are applied in name order.
    """
    report = MigrationReport()
    with psycopg.connect(database_url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            if bootstrap is None:
                bootstrap = not is_hosted_supabase(conn)
            if bootstrap:
                apply_bootstrap(conn)
                report.bootstrapped = True
            conn.execute(HISTORY_DDL)
        applied = {
            row[0]
            for row in conn.execute("SELECT version FROM supabase_migrations.schema_migrations")
        }
        chosen = migration_files(migrations_dir) if files is None else sorted(files, key=_name)
        for path in chosen:
            version = version_of(path)
            if version in applied:
                report.skipped.append(path.name)
                continue
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
                already = conn.execute(
                    "SELECT 1 FROM supabase_migrations.schema_migrations WHERE version = %s",
                    (version,),
                ).fetchone()
                if already:
                    report.skipped.append(path.name)
                    continue
                text = path.read_text()
                conn.execute(sql.SQL(text))
                conn.execute(
                    "INSERT INTO supabase_migrations.schema_migrations (version, statements, name)"
                    " VALUES (%s, ARRAY[%s], %s)",
                    (version, text, path.stem.split("_", 1)[1]),
                )
            report.applied.append(path.name)
    return report
