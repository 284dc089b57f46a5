"""One functions-framework target serving every function by path (the local stack runs it).

``/enqueue_clip``, ``/clip_webhook``, ``/dispatch_clip``, ``/retry_dispatch``,
``/telemetry_batch`` and ``/telemetry_rollup``, each also under ``/functions/v1/`` as
Supabase's gateway names them.
Run: ``functions-framework --source directorstudio/server/dispatcher.py --target route``.
"""

from __future__ import annotations

import flask

from directorstudio.contracts.errors import DirectorStudioError, ErrorCode
from directorstudio.server.endpoints import clips, telemetry
from directorstudio.server.http import Handler, error_response

ROUTES: dict[str, Handler] = {
    "enqueue_clip": clips.enqueue_clip,
    "clip_webhook": clips.clip_webhook,
    "dispatch_clip": clips.dispatch_clip,
    "retry_dispatch": clips.retry_dispatch,
    "telemetry_batch": telemetry.telemetry_batch,
    "telemetry_rollup": telemetry.telemetry_rollup,
}

GATEWAY_PREFIX = "functions/v1/"


def route(request: flask.Request) -> flask.Response:
    """Serve the function named by the request's path."""
    name = request.path.strip("/")
    name = name.removeprefix(GATEWAY_PREFIX)
    handler = ROUTES.get(name)
    if handler is None:
        return error_response(
            DirectorStudioError(f"no function at {request.path}", code=ErrorCode.NOT_FOUND)
        )
    return handler(request)
