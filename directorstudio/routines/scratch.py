"""Throwaway databases on a given PostgreSQL server, or on one started just for them."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from directorstudio.pgcluster import LocalCluster, free_port


def with_dbname(url: str, dbname: str) -> str:
    """``url`` pointing at another database of the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@dataclass(frozen=True)
class ScratchServer:
    """A server where databases may be created and dropped (``admin_url``: a superuser's)."""

    admin_url: str

    def create(self, prefix: str, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); returns its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)
        return with_dbname(self.admin_url, name)

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    @contextmanager
    def database(self, prefix: str, template: str | None = None) -> Iterator[str]:
        """A database for the duration of the block."""
        url = self.create(prefix, template)
        try:
            yield url
        finally:
            self.drop(url)


@contextmanager
def scratch_server(admin_url: str | None = None) -> Iterator[ScratchServer]:
    """The server at ``admin_url``, else a PostgreSQL started from the local binaries for now."""
    if admin_url:
        yield ScratchServer(admin_url)
        return
    base = Path(tempfile.mkdtemp(prefix="directorstudio-scratch-"))
    cluster = LocalCluster(base, free_port())
    cluster.start()
    try:
        yield ScratchServer(cluster.url("postgres"))
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
