"""A gateway over the benchmark database and clients that reach it through supabase-py."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.pgcluster import free_port
from directorstudio.stack import keys
from directorstudio.stack.common import GatewayConfig
from directorstudio.stack.runner import Gateway
from directorstudio_client import SQLiteStorage, SyncService
from directorstudio_client.transport.supabase import SupabaseTransport


@contextmanager
def running_gateway(database_url: str) -> Iterator[tuple[str, str]]:
    """The gateway on a free loopback port in its own event loop; yields (url, anon key)."""
    port = free_port()
    stack_keys = keys.generate()
    config = GatewayConfig(
        keys=stack_keys, public_url=f"http://127.0.0.1:{port}", database_url=database_url
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    gateway = Gateway(config, "127.0.0.1", port)
    started: Future[None] = asyncio.run_coroutine_threadsafe(gateway.start(), loop)
    started.result(timeout=30)
    try:
        yield config.public_url, stack_keys.anon_key
    finally:
        asyncio.run_coroutine_threadsafe(gateway.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


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
