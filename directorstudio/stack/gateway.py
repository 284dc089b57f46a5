"""The one HTTP server of the local stack: auth, rest, functions, realtime and rendered clips."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from directorstudio.contracts.postgrest import errors as pgrst_errors
from directorstudio.contracts.postgrest.catalog import SchemaCache
from directorstudio.stack import admin, auth, functions, realtime, rest, tables
from directorstudio.stack.common import (
    CONFIG_KEY,
    POOL_KEY,
    SCHEMA_KEY,
    GatewayConfig,
    json_response,
)
from directorstudio.stack.db import ConnectionPool, DatabaseUnavailable

log = logging.getLogger("directorstudio.stack.gateway")
HUB_KEY = web.AppKey("realtime_hub", realtime.RealtimeHub)
RENDERS_PATH = "/storage/v1/object/public/renders"
# What hosted Supabase's API gateway answers a browser: any origin, the headers the official
# clients send, and the response headers they read (Content-Range for counts).
ALLOWED_HEADERS = (
    "authorization, x-client-info, apikey, content-type, prefer, range, accept, "
    "accept-profile, content-profile, x-supabase-api-version, x-upsert"
)
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": (
        "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, "
        "Server, Transfer-Encoding, Range-Unit, X-Supabase-Api-Version"
    ),
}
PREFLIGHT_MAX_AGE = "86400"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def preflight(request: web.Request) -> web.Response:
    """An ``OPTIONS`` preflight: 200 allowing every method and the requested headers."""
    requested = request.headers.get("Access-Control-Request-Headers")
    return web.Response(
        status=200,
        headers={
            "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": requested or ALLOWED_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        },
    )


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return preflight(request)
    try:
        return await handler(request)
    except DatabaseUnavailable as error:
        return json_response(error.body(), status=503)


@web.middleware
async def log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One log line per request (method, path, status, duration), CORS headers on every
    answer, and every refusal as JSON."""
    started = time.monotonic()
    status = 500
    try:
        response = await _answer(request, handler)
        status = response.status
        if not response.prepared:
            response.headers.update(CORS_HEADERS)
        return response
    except web.HTTPException as error:
        status = error.status
        if status < 400:
            raise
        if (request.path + "/").startswith("/auth/v1/"):
            return _with_cors(auth.refusal(error, request))
        return _as_json(request, error)
    except Exception:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            raise  # the socket's response is already under way
        log.exception("%s %s failed unexpectedly", request.method, request.path)
        body = pgrst_errors.body("XX000", "an unexpected server error", hint="internal")
        return json_response(body, status=500, headers=CORS_HEADERS)
    finally:
        elapsed = (time.monotonic() - started) * 1000
        log.info("%s %s %s %.1fms", request.method, request.path, status, elapsed)


def _router_error(request: web.Request, error: web.HTTPException) -> dict[str, object]:
    if error.status == 404:
        return pgrst_errors.body("PGRST125", "Invalid path specified in request URL")
    if error.status == 405:
        return pgrst_errors.body("PGRST117", f"Unsupported HTTP method: {request.method}")
    if error.status == 413:
        return pgrst_errors.body("PT413", error.reason, hint="payload_too_large")
    return pgrst_errors.body(f"PT{error.status}", error.reason)


def _as_json(request: web.Request, error: web.HTTPException) -> web.Response:
    """aiohttp's own refusals (no such route, wrong method, body too large) in PostgREST's
    error JSON, never text/plain."""
    headers = {**CORS_HEADERS, **{k: v for k, v in error.headers.items() if k == "Allow"}}
    return json_response(_router_error(request, error), status=error.status, headers=headers)


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
    config: GatewayConfig,
    pool: ConnectionPool,
    hub: realtime.RealtimeHub,
    schema: SchemaCache | None = None,
) -> web.Application:
    """The gateway application over ``pool``'s database (``schema``: the schema cache its
    reload listener empties; a new one when None)."""
    app = web.Application(middlewares=[log_requests])
    app[CONFIG_KEY] = config
    app[POOL_KEY] = pool
    app[SCHEMA_KEY] = schema if schema is not None else SchemaCache()
    app[HUB_KEY] = hub
    auth.add_routes(app)
    admin.add_routes(app)
    rest.add_routes(app)
    tables.add_routes(app)
    functions.add_routes(app)
    realtime.add_routes(app, hub)
    app.router.add_get(RENDERS_PATH + "/{path:.+}", rendered_clip)
    return app
