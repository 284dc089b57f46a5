"""A gateway over the benchmark database and clients that reach it through supabase-py."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.pgcluster import free_port
from directorstudio.stack import keys
from directorstudio_client import SQLiteStorage, SyncService
from directorstudio_client.transport.supabase import SupabaseTransport


@contextmanager
def running_gateway(database_url: str) -> Iterator[tuple[str, str]]:
    """The gateway on a free loopback port in a process of its own (so its work does not
    compete with the measured client for one interpreter); yields (url, anon key)."""
    port = free_port()
    stack_keys = keys.generate()
    settings = {"database_url": database_url, "port": port, "keys": asdict(stack_keys)}
    process = subprocess.Popen(
        [sys.executable, "-m", "directorstudio.bench.gateway_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write(json.dumps(settings) + "\n")
        process.stdin.flush()
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the benchmark gateway did not start")
        yield f"http://127.0.0.1:{port}", stack_keys.anon_key
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Switch:
    """A network that can be cut (the only fake: what lies between the client and the server)."""

    inner: SupabaseTransport
    online: bool = True

    def rpc(self, name: str, args: Mapping[str, Any]) -> Any:
        if not self.online:
            raise DirectorStudioError("offline", code=ErrorCode.UNAVAILABLE)
        return self.inner.rpc(name, args)

    def subscribe_hints(self, user_id: str, on_hint: Callable[[str], None]) -> Any:
        raise DirectorStudioError("hints are not measured here", code=ErrorCode.UNAVAILABLE)

    def close(self) -> None:
        self.inner.close()


def signed_in_client(
    url: str, anon_key: str, path: Path, **options: Any
) -> tuple[SyncService, Switch]:
    """A new anonymous user's client on the cache file ``path``, over supabase-py."""
    transport = SupabaseTransport(url, anon_key, auto_refresh_token=False)
    user_id = transport.sign_in_anonymously()
    network = Switch(transport)
    sync = SyncService(
        SQLiteStorage(path), network, user_id=user_id, client_id=str(uuid.uuid4()), **options
    )
    sync.realtime_enabled = False
    return sync, network
