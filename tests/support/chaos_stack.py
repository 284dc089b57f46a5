"""A stack whose parts can be restarted one by one: its own PostgreSQL cluster, a migrated
database, the gateway on a fixed port and a fault proxy in front of it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from directorstudio.migrate import migrate
from directorstudio.pgcluster import LocalCluster, free_port
from directorstudio.stack import keys
from directorstudio.stack.keys import StackKeys
from tests.support.fault_proxy import FaultProxy
from tests.support.gateway import running_gateway

DATABASE = "chaos"


@dataclass
class ChaosStack:
    """PostgreSQL, gateway and proxy; ``restart_*`` keep ports, keys and data."""

    cluster: LocalCluster
    keys: StackKeys
    gateway_port: int
    proxy: FaultProxy
    restarts: dict[str, int] = field(default_factory=lambda: {"gateway": 0, "database": 0})
    _gateway: ExitStack | None = None

    @property
    def database_url(self) -> str:
        return self.cluster.url(DATABASE)

    @property
    def url(self) -> str:
        """Where clients connect: the proxy."""
        return self.proxy.url

    def start_gateway(self) -> None:
        gateway = ExitStack()
        gateway.enter_context(
            running_gateway(self.database_url, stack_keys=self.keys, port=self.gateway_port)
        )
        self._gateway = gateway

    def stop_gateway(self) -> None:
        if self._gateway is not None:
            self._gateway.close()
            self._gateway = None

    def restart_gateway(self) -> None:
        self.stop_gateway()
        self.start_gateway()
        self.restarts["gateway"] += 1

    def stop_database(self) -> None:
        self.cluster.stop()

    def start_database(self) -> None:
        self.cluster.start()
        self.restarts["database"] += 1

    def admin(self) -> psycopg.Connection[Any]:
        """A superuser connection to the stack's database (autocommit)."""
        return psycopg.connect(self.database_url, autocommit=True)


@contextmanager
def chaos_stack(seed: int) -> Iterator[ChaosStack]:
    """Start a cluster with a migrated database, the gateway and the fault proxy."""
    # Not pytest's tmp_path: when run as root, the postgres OS user must own this folder.
    base = Path(tempfile.mkdtemp(prefix="directorstudio-chaos-"))
    base.chmod(0o755)
    cluster = LocalCluster(base / "pg", free_port())
    cluster.start()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        migrate(cluster.url(DATABASE), bootstrap=True)
        gateway_port = free_port()
        proxy = FaultProxy(gateway_port, seed).start()
        stack = ChaosStack(cluster, keys.generate(), gateway_port, proxy)
        stack.start_gateway()
        try:
            yield stack
        finally:
            stack.stop_gateway()
            proxy.stop()
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
