"""telemetry_batch and telemetry_rollup."""

from __future__ import annotations

from typing import Any

import flask
from psycopg.types.json import Jsonb

from directorstudio.contracts.telemetry import (
    MAX_BATCH_BYTES,
    MAX_SCHEDULER_BODY_BYTES,
    RollupRequest,
    TelemetryBatchRequest,
    TelemetryBatchResult,
)
from directorstudio.server import runtime
from directorstudio.server.endpoints.access import require_scheduler, signed_in_user
from directorstudio.server.http import (
    endpoint,
    json_response,
    read_model,
    read_optional_model,
    require_method,
)


@endpoint
def telemetry_batch(request: flask.Request) -> flask.Response:
    """Add a signed-in user's buffered counts (a replayed batch id adds nothing)."""
    ctx = runtime.current()
    require_method(request)
    caller = signed_in_user(request, ctx)
    body = read_model(request, TelemetryBatchRequest, MAX_BATCH_BYTES)
    result = ctx.db.call_as_user(
        caller,
        "batch_upsert_telemetry",
        {"p_batch_id": body.batch_id, "p_events": Jsonb(body.events_json())},
        shape="value",
    )
    return json_response(TelemetryBatchResult.model_validate(result).model_dump(mode="json"))


@endpoint
def telemetry_rollup(request: flask.Request) -> flask.Response:
    """Scheduled: recompute the rollups of one day, or of every day that is due."""
    ctx = runtime.current()
    require_method(request)
    require_scheduler(request, ctx)
    body = read_optional_model(request, RollupRequest, MAX_SCHEDULER_BODY_BYTES)
    result: Any
    if body.day is not None:
        result = ctx.db.call_as_service("run_daily_rollups", {"p_day": body.day}, shape="value")
    else:
        result = ctx.db.call_as_service("run_due_rollups", {}, shape="value")
    return json_response(result)
