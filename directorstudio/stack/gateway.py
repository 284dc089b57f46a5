"""The one HTTP server of the local stack: auth, rest, functions, realtime and rendered clips."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from directorstudio.stack import admin, auth, functions, realtime, rest
from directorstudio.stack.common import CONFIG_KEY, POOL_KEY, GatewayConfig, json_response
from directorstudio.stack.db import ConnectionPool, DatabaseUnavailable

log = logging.getLogger("directorstudio.stack.gateway")
HUB_KEY = web.AppKey("realtime_hub", realtime.RealtimeHub)
RENDERS_PATH = "/storage/v1/object/public/renders"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": (
        "authorization, apikey, content-type, x-client-info, prefer, accept-profile, "
        "content-profile, range, x-supabase-api-version"
    ),
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Expose-Headers": "Content-Range, X-Supabase-Api-Version",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One log line per request: method, path, status and duration."""
    started = time.monotonic()
    status = 500
    try:
        if request.method == "OPTIONS":
            response: web.StreamResponse = web.Response(status=204)
        else:
            try:
                response = await handler(request)
            except DatabaseUnavailable as error:
                response = json_response(error.body(), status=503)
        status = response.status
        if not response.prepared:
            response.headers.update(CORS_HEADERS)
        return response
    except web.HTTPException as error:
        status = error.status
        if status < 400:
            raise
        if (request.path + "/").startswith("/auth/v1/"):
            return _with_cors(auth.refusal(error))
        return _as_json(error)
    except Exception:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            raise  # the socket's response is already under way
        log.exception("%s %s failed unexpectedly", request.method, request.path)
        return json_response(
            {"code": "internal", "message": "an unexpected server error"},
            status=500,
            headers=CORS_HEADERS,
        )
    finally:
        elapsed = (time.monotonic() - started) * 1000
        log.info("%s %s %s %.1fms", request.method, request.path, status, elapsed)


HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def _as_json(error: web.HTTPException) -> web.Response:
    """aiohttp's own refusals (no such route, wrong method, body too large) as JSON, never
    text/plain."""
    body = {"code": HTTP_ERROR_CODES.get(error.status, "invalid_input"), "message": error.reason}
    headers = {**CORS_HEADERS, **{k: v for k, v in error.headers.items() if k == "Allow"}}
    return json_response(body, status=error.status, headers=headers)


def _with_cors(response: web.Response) -> web.Response:
    response.headers.update(CORS_HEADERS)
    return response


async def rendered_clip(request: web.Request) -> web.StreamResponse:
    """A rendered clip from the render output folder, as a public storage object."""
    folder = request.app[CONFIG_KEY].render_dir
    if folder is not None:
        root = folder.resolve()
        path = (root / request.match_info["path"]).resolve()
        if path.is_relative_to(root) and path.is_file():
            return web.FileResponse(path)
    return json_response(
        {"statusCode": "404", "error": "not_found", "message": "Object not found"}, status=404
    )


def build_app(
    config: GatewayConfig, pool: ConnectionPool, hub: realtime.RealtimeHub
) -> web.Application:
    """The gateway application over ``pool``'s database."""
    app = web.Application(middlewares=[log_requests])
    app[CONFIG_KEY] = config
    app[POOL_KEY] = pool
    app[HUB_KEY] = hub
    auth.add_routes(app)
    admin.add_routes(app)
    rest.add_routes(app)
    functions.add_routes(app)
    realtime.add_routes(app, hub)
    app.router.add_get(RENDERS_PATH + "/{path:.+}", rendered_clip)
    return app
