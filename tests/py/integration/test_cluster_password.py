"""A cluster with a password refuses TCP connections without it, also one an older release
created trusting every local connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from directorstudio.pgcluster import LocalCluster, free_port
from tests.support.cluster import postgres_reachable_dir

PASSWORD = "correct horse battery staple"


@pytest.fixture
def base_dir() -> Iterator[Path]:
    with postgres_reachable_dir("directorstudio-pw-") as base:
        yield base / "cluster"


def _refuses_without_password(port: int) -> None:
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres").close()


def test_a_new_cluster_with_a_password_needs_it_over_tcp(base_dir: Path) -> None:
    cluster = LocalCluster(base_dir, free_port(), password=PASSWORD)
    cluster.start()
    try:
        _refuses_without_password(cluster.port)
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
        cluster.require_password()  # already secured: changes nothing
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        cluster.stop()


def test_a_trusting_cluster_of_an_older_release_is_given_the_password(base_dir: Path) -> None:
    port = free_port()
    old = LocalCluster(base_dir, port)
    old.start()
    try:
        with psycopg.connect(old.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        secured = LocalCluster(base_dir, port, password=PASSWORD)
        secured.require_password()
        _refuses_without_password(port)
        with psycopg.connect(secured.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        old.stop()
