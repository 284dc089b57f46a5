"""Cloud Function telemetry_batch (entry points ``telemetry_batch`` and ``telemetry_rollup``).

See docs/functions.md.
"""

import flask

from directorstudio.server.endpoints import telemetry


def telemetry_batch(request: flask.Request) -> flask.Response:
    """POST a signed-in user's buffered telemetry counts."""
    return telemetry.telemetry_batch(request)


def telemetry_rollup(request: flask.Request) -> flask.Response:
    """POST on a schedule (scheduler secret or service key): run the analytics rollups."""
    return telemetry.telemetry_rollup(request)
