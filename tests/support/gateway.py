"""A gateway over a test database, served from a background thread on a free port."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from directorstudio.contracts.postgrest.catalog import SchemaCache
from directorstudio.pgcluster import free_port
from directorstudio.stack import keys
from directorstudio.stack.common import GatewayConfig
from directorstudio.stack.keys import StackKeys
from directorstudio.stack.runner import Gateway


@dataclass
class RunningGateway:
    """Where the test gateway listens and the keys it accepts."""

    url: str
    keys: StackKeys
    config: GatewayConfig
    loop: asyncio.AbstractEventLoop
    schema: SchemaCache


class Clock:
    """A settable clock for token issue and expiry (seconds since the epoch)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@contextmanager
def running_gateway(
    database_url: str,
    *,
    functions_url: str | None = None,
    clock: Callable[[], float] | None = None,
    stack_keys: StackKeys | None = None,
    port: int | None = None,
    render_dir: Path | None = None,
) -> Iterator[RunningGateway]:
    """Start a gateway in its own event loop thread; stop it afterwards."""
    port = port or free_port()
    stack_keys = stack_keys or keys.generate()
    config = GatewayConfig(
        keys=stack_keys,
        public_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        functions_url=functions_url,
        render_dir=render_dir,
    )
    if clock is not None:
        config.clock = clock
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    gateway = Gateway(config, "127.0.0.1", port)
    started: Future[None] = asyncio.run_coroutine_threadsafe(gateway.start(), loop)
    started.result(timeout=30)
    try:
        yield RunningGateway(config.public_url, stack_keys, config, loop, gateway.schema)
    finally:
        asyncio.run_coroutine_threadsafe(gateway.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def client_options() -> Any:
    """supabase-py options for tests: no background refresh, no stored session."""
    from supabase import ClientOptions

    return ClientOptions(auto_refresh_token=False, persist_session=False)


def async_client_options() -> Any:
    """The async client's options for tests."""
    from supabase import AClientOptions

    return AClientOptions(auto_refresh_token=False, persist_session=False)


def sync_client(gateway: RunningGateway, key: str | None = None, **headers: str) -> Any:
    """A supabase-py sync client of the gateway (anon key unless another key is given)."""
    from supabase import create_client

    options = client_options()
    options.headers.update(headers)
    return create_client(gateway.url, key or gateway.keys.anon_key, options=options)


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    """The gateway's clock, starting now; tests move it forward to expire tokens."""
    return Clock(time.time())


@pytest.fixture(name="gateway")
def gateway_fixture(database_url: str, clock: Clock) -> Iterator[RunningGateway]:
    """A gateway over this test's fresh database."""
    with running_gateway(database_url, clock=clock) as running:
        yield running


@pytest.fixture(name="functions_gateway")
def functions_gateway_fixture(database_url: str, tmp_path: Path) -> Iterator[RunningGateway]:
    """A gateway whose /functions/v1 reaches the real functions, served as ``up`` serves them."""
    from directorstudio.stack.functions import FunctionsServer
    from directorstudio.stack.stack import functions_env

    stack_keys = keys.generate()
    port = free_port()
    render_dir = tmp_path / "renders"
    env = functions_env(stack_keys, f"http://127.0.0.1:{port}", database_url, render_dir)
    server = FunctionsServer(free_port(), env, tmp_path / "functions.log")
    server.start()
    try:
        with running_gateway(
            database_url,
            functions_url=server.url,
            stack_keys=stack_keys,
            port=port,
            render_dir=render_dir,
        ) as running:
            yield running
    finally:
        server.stop()
