"""Run the gateway on a port: database pool, realtime listener, schema cache (and its reload
listener) and the HTTP server together."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from directorstudio.contracts.postgrest.catalog import SchemaCache
from directorstudio.stack.common import GatewayConfig
from directorstudio.stack.db import ConnectionPool
from directorstudio.stack.gateway import build_app
from directorstudio.stack.realtime import RealtimeHub
from directorstudio.stack.schema_listener import listen_for_reloads


class Gateway:
    """The gateway of one stack, started and stopped inside a running event loop."""

    def __init__(self, config: GatewayConfig, host: str, port: int) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.hub = RealtimeHub()
        self.pool = ConnectionPool(config.database_url)
        self.schema = SchemaCache()
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Task[None] | None = None
        self._schema_listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen for realtime messages, then accept HTTP connections."""
        ready = asyncio.Event()
        self._listener = asyncio.create_task(
            self.hub.listen(self.config.database_url, self.pool, ready)
        )
        schema_ready = asyncio.Event()
        self._schema_listener = asyncio.create_task(
            listen_for_reloads(self.config.database_url, self.schema, schema_ready)
        )
        await asyncio.wait_for(ready.wait(), timeout=30)
        await asyncio.wait_for(schema_ready.wait(), timeout=30)
        app = build_app(self.config, self.pool, self.hub, self.schema)

        async def close_sockets(_: web.Application) -> None:
            await self.hub.close_all()

        app.on_shutdown.append(close_sockets)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()

    async def stop(self) -> None:
        """Stop accepting requests, close sockets and database connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for task in (self._listener, self._schema_listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._listener = self._schema_listener = None
        await self.pool.close()
