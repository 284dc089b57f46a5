"""The gateway's routes, read from the application it really builds (no server started)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from directorstudio.server import dispatcher
from directorstudio.stack import keys, realtime
from directorstudio.stack.common import GatewayConfig
from directorstudio.stack.db import ConnectionPool
from directorstudio.stack.gateway import build_app


@dataclass(frozen=True)
class Route:
    """One registered route: its method and its path template."""

    method: str
    path: str


def _app() -> web.Application:
    config = GatewayConfig(
        keys=keys.generate(), public_url="http://127.0.0.1:9", database_url="postgresql://"
    )
    # The pool connects lazily and the hub holds only sockets: building the app opens nothing.
    return build_app(config, ConnectionPool(config.database_url), realtime.RealtimeHub())


def gateway_routes() -> list[Route]:
    """Every route the gateway registers (HEAD twins of GET left out)."""
    routes = []
    for route in _app().router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = str(info.get("path") or info.get("formatter") or "")
        if route.method != "HEAD":
            routes.append(Route(route.method, path))
    return sorted(set(routes), key=lambda route: (route.path, route.method))


def serves(method: str, path: str) -> bool:
    """Whether the gateway has a handler for ``method path`` (not a 404/405 of the router)."""
    app = _app()
    request = make_mocked_request(method, path, app=app)

    async def resolve() -> bool:
        match = await app.router.resolve(request)
        return match.http_exception is None

    return asyncio.run(resolve())


def function_names() -> list[str]:
    """The HTTP functions the functions server routes (``/functions/v1/<name>``)."""
    return sorted(dispatcher.ROUTES)
