"""Migrations apply to plain PostgreSQL with only the bootstrap, twice, and match the sources."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from directorstudio import paths, sqlsource
from directorstudio.migrate import migrate, migration_files
from directorstudio.routines.catalog import read_snapshot
from directorstudio.routines.compare import differences
from tests.support.cluster import Server, fresh_database


@pytest.fixture
def empty_database(pg_server: Server) -> Iterator[str]:
    with fresh_database(pg_server, None) as url:
        yield url


def _psql(url: str, path: Path) -> subprocess.CompletedProcess[str]:
    psql = shutil.which("psql")
    assert psql, "psql is required"
    return subprocess.run(
        [psql, url, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_migrations_apply_with_psql_after_the_bootstrap_and_again(empty_database: str) -> None:
    assert _psql(empty_database, paths.BOOTSTRAP_FILE).returncode == 0
    for attempt in (1, 2):
        for path in migration_files():
            result = _psql(empty_database, path)
            assert result.returncode == 0, f"pass {attempt}, {path.name}: {result.stderr}"


def test_migration_file_names_follow_the_supabase_cli_pattern() -> None:
    names = [p.name for p in paths.MIGRATIONS_DIR.glob("*.sql")]
    assert names
    assert all(len(n.split("_", 1)[0]) == 14 and n.split("_", 1)[0].isdigit() for n in names)


def test_migrate_is_idempotent_and_records_what_it_applied(empty_database: str) -> None:
    first = migrate(empty_database)
    second = migrate(empty_database)
    assert first.applied == [p.name for p in migration_files()]
    assert second.applied == []
    with psycopg.connect(empty_database) as conn:
        versions = [
            r[0]
            for r in conn.execute(
                "SELECT version FROM supabase_migrations.schema_migrations ORDER BY version"
            )
        ]
    assert versions == [p.name.split("_", 1)[0] for p in migration_files()]


def test_applying_the_sources_to_a_migrated_database_changes_nothing(database_url: str) -> None:
    before = read_snapshot(database_url)
    sqlsource.apply_sources(database_url, sqlsource.source_files())
    after = read_snapshot(database_url)
    assert differences(before, after) == [], "run `directorstudio routines write`"


def test_every_function_in_the_database_is_defined_in_the_sources(admin_conn: Any) -> None:
    source_text = "\n".join(p.read_text() for p in sqlsource.source_files())
    names = [
        f"{schema}.{name}"
        for schema, name in admin_conn.execute(
            """
            SELECT n.nspname, p.proname FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname IN ('public', 'private')
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
            """
        ).fetchall()
    ]
    assert names
    missing = [n for n in names if f"FUNCTION {n}(" not in source_text]
    assert missing == []
