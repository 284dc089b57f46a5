"""The real Supabase CLI applies, lists and lints our migrations on a bootstrapped PostgreSQL.

The CLI (npm ``supabase``, pinned in tools/package.json, installed by scripts/setup.sh) works
without Docker for commands that take ``--db-url``. Plain PostgreSQL has no TLS, hence
``sslmode=disable``.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import psycopg
import pytest

from directorstudio import paths
from directorstudio.migrate import apply_bootstrap, migrate, migration_files, version_of
from tests.support.cluster import Server, fresh_database

SUPABASE_CLI = paths.PROJECT_ROOT / ".tools" / "node_modules" / ".bin" / "supabase"
LINTED_SCHEMAS = "public,private"


def supabase(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the Supabase CLI in the project folder (it reads supabase/migrations there)."""
    return subprocess.run(
        [str(SUPABASE_CLI), *args],
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        text=True,
        input="y\n",
        timeout=240,
        check=False,
    )


@pytest.fixture
def bootstrapped_url(pg_server: Server) -> Iterator[str]:
    """A database holding only the platform bootstrap, as the CLI's URL."""
    with fresh_database(pg_server, None) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            apply_bootstrap(conn)
        yield url + "?sslmode=disable"


@pytest.fixture
def migrated_url(pg_server: Server) -> Iterator[str]:
    """A database with the bootstrap and every migration, as the CLI's URL."""
    with fresh_database(pg_server, None) as url:
        migrate(url, bootstrap=True)
        yield url + "?sslmode=disable"


def test_supabase_db_push_applies_every_migration_and_a_second_push_has_nothing_to_do(
    bootstrapped_url: str,
) -> None:
    first = supabase("db", "push", "--db-url", bootstrapped_url, "--yes")
    assert first.returncode == 0, first.stderr + first.stdout
    output = first.stdout + first.stderr
    for path in migration_files():
        assert f"Applying migration {path.name}" in output

    second = supabase("db", "push", "--db-url", bootstrapped_url, "--yes")
    assert second.returncode == 0, second.stderr + second.stdout
    assert "Remote database is up to date" in second.stdout + second.stderr
    assert "Applying migration" not in second.stdout + second.stderr


def test_supabase_migration_list_shows_every_local_migration_applied_remotely(
    bootstrapped_url: str,
) -> None:
    pushed = supabase("db", "push", "--db-url", bootstrapped_url, "--yes")
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout

    listed = supabase("migration", "list", "--db-url", bootstrapped_url)
    assert listed.returncode == 0, listed.stderr + listed.stdout
    pairs = re.findall(r"`?(\d{14})?`?\s*\|\s*`?(\d{14})?`?\s*\|", listed.stdout)
    assert sorted(pairs) == sorted((version_of(p), version_of(p)) for p in migration_files())


def test_supabase_db_lint_reports_no_issue_in_our_schemas(migrated_url: str) -> None:
    linted = supabase(
        "db", "lint", "--db-url", migrated_url, "--schema", LINTED_SCHEMAS, "--level", "warning"
    )
    assert linted.returncode == 0, linted.stderr + linted.stdout
    report = linted.stdout.strip()
    issues = json.loads(report) if report.startswith("[") else []
    assert issues == [], json.dumps(issues, indent=2)
    assert "No schema errors found" in linted.stdout + linted.stderr or report == ""
