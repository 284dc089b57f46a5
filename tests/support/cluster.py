"""The PostgreSQL server the tests use, and fresh databases cloned from a migrated template."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from pytest_postgresql.janitor import DatabaseJanitor

from directorstudio.migrate import migrate
from directorstudio.pgcluster import LocalCluster, free_port, pg_cron_settings

HELPERS_SQL = Path(__file__).resolve().parents[1] / "sql" / "helpers.sql"
CRON_DATABASE = "ds_cron"


@dataclass(frozen=True)
class Server:
    """Where the test databases live: host, port and an administrative user."""

    host: str
    port: int
    user: str
    password: str | None

    def url(self, dbname: str) -> str:
        auth = self.user if self.password is None else f"{self.user}:{self.password}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{dbname}"

    def janitor(self, dbname: str, template: str | None = None) -> DatabaseJanitor:
        return DatabaseJanitor(
            user=self.user,
            host=self.host,
            port=self.port,
            password=self.password,
            dbname=dbname,
            template_dbname=template,
        )


@contextmanager
def test_server() -> Iterator[Server]:
    """``DATABASE_URL`` when set, else a throwaway cluster started from the local binaries."""
    if external := os.environ.get("DATABASE_URL"):
        parts = urlsplit(external)
        yield Server(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
        )
        return
    base = Path(tempfile.mkdtemp(prefix="directorstudio-test-pg-"))
    cluster = LocalCluster(base, free_port())
    cluster.start()
    try:
        yield Server(host="127.0.0.1", port=cluster.port, user=cluster.superuser, password=None)
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def cron_server() -> Iterator[Server]:
    """A throwaway cluster that preloads pg_cron for the database ``CRON_DATABASE`` (created
    empty), as hosted Supabase and the local stack run it."""
    base = Path(tempfile.mkdtemp(prefix="directorstudio-test-cron-"))
    cluster = LocalCluster(base, free_port())
    cluster.start(pg_cron_settings(CRON_DATABASE))
    try:
        server = Server(host="127.0.0.1", port=cluster.port, user=cluster.superuser, password=None)
        server.janitor(CRON_DATABASE).init()
        yield server
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


def build_template(server: Server) -> str:
    """A database with the bootstrap, every migration, pgTAP and the test helpers."""
    name = f"ds_template_{uuid.uuid4().hex[:8]}"
    janitor = server.janitor(name)
    janitor.init()
    url = server.url(name)
    migrate(url, bootstrap=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions")
        conn.execute(
            "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA extensions"
            " TO anon, authenticated, service_role"
        )
        conn.execute(HELPERS_SQL.read_text())  # type: ignore[arg-type]
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH is_template true')
    return name


@contextmanager
def fresh_database(server: Server, template: str | None) -> Iterator[str]:
    """A new database cloned from the template (empty without one); dropped afterwards."""
    name = f"ds_test_{uuid.uuid4().hex[:12]}"
    janitor = server.janitor(name, template=template)
    janitor.init()
    try:
        yield server.url(name)
    finally:
        janitor.drop()


def with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@contextmanager
def postgres_reachable_dir(prefix: str) -> Iterator[Path]:
    """A fresh folder the ``postgres`` OS user can reach, removed afterwards.

    Not pytest's tmp_path: when the tests run as root, that is private to root, and a cluster
    (or a stack's data directory) inside it would be out of the server's reach.
    """
    base = Path(tempfile.mkdtemp(prefix=prefix))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)
