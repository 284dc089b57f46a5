"""Database fixtures shared by every test layer.

One PostgreSQL server per test session (started from the local binaries, or ``DATABASE_URL``),
one migrated template built once, and a fresh database cloned from it for every test that asks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pytest_pgtap.pgtap import Runner

from tests.support.cluster import Server, build_template, fresh_database, test_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    with test_server() as server:
        yield server


@pytest.fixture(scope="session")
def template_db(pg_server: Server) -> Iterator[str]:
    name = build_template(pg_server)
    yield name
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH is_template false')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_server: Server, template_db: str) -> Iterator[str]:
    """A fresh, fully migrated database for this test alone."""
    with fresh_database(pg_server, template_db) as url:
        yield url


@pytest.fixture
def admin_conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection (autocommit) to this test's database."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def pgtap_connection(pg_server: Server, template_db: str) -> Iterator[psycopg.Connection[Any]]:
    """pytest-pgtap runs every tests/sql/test*.sql file (each rolls back) on this connection."""
    with fresh_database(pg_server, template_db) as url, psycopg.connect(url) as conn:
        yield conn


# What pgTAP itself prints: results, the plan, diagnostics and bail-outs.
_TAP_LINE = re.compile(r"^(ok |not ok |1\.\.\d+$|\s*#|Bail out!)")


class TapOnlyRunner(Runner):
    """Keeps only the rows pgTAP printed.

    A test file's set-up statements print rows too (a generated id, a function's result, NULL
    from a void helper); pytest-pgtap would hand them to the TAP parser, whose plan pattern
    mistakes e.g. an id starting with ``1e253`` for a plan of 53 tests.
    """

    def run(self, query: Any) -> list[str]:
        rows = super().run(query)
        return [row for row in rows if isinstance(row, str) and _TAP_LINE.match(row)]


@pytest.fixture(scope="session")
def _pgtap_runner(pgtap_connection: psycopg.Connection[Any]) -> Runner:
    return TapOnlyRunner(pgtap_connection)
