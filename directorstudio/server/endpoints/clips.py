"""enqueue_clip, clip_webhook and retry_dispatch."""

from __future__ import annotations

import logging
from typing import Any

import flask

from directorstudio.contracts.clips import (
    MAX_CLIP_BODY_BYTES,
    ClipEvent,
    ClipEventResult,
    ClipJob,
    EnqueueClipRequest,
    RetryDispatchRequest,
)
from directorstudio.contracts.errors import DirectorStudioError
from directorstudio.contracts.telemetry import MAX_SCHEDULER_BODY_BYTES
from directorstudio.server import runtime, webhook_signing
from directorstudio.server.endpoints.access import require_scheduler, sibling_url, signed_in_user
from directorstudio.server.http import (
    endpoint,
    json_response,
    parse_body,
    read_body,
    read_model,
    read_optional_model,
    require_method,
)

log = logging.getLogger("directorstudio.server")


def _job_json(job: dict[str, Any]) -> dict[str, Any]:
    return ClipJob.model_validate(job).model_dump(mode="json")


def _callback_url(request: flask.Request, ctx: runtime.ServerContext) -> str:
    return ctx.settings.clip_webhook_url or sibling_url(request, "clip_webhook")


@endpoint
def enqueue_clip(request: flask.Request) -> flask.Response:
    """Create and charge a clip job as the signed-in user, then hand it to the renderer.

    201 with the job when it was created, 200 with the same job on a replay.
    """
    ctx = runtime.current()
    require_method(request)
    caller = signed_in_user(request, ctx)
    body = read_model(request, EnqueueClipRequest, MAX_CLIP_BODY_BYTES)
    with ctx.db.transaction("authenticated", caller.claims) as conn:
        job: dict[str, Any] = ctx.db.call(
            conn,
            "enqueue_clip_job",
            {
                "p_job_id": body.job_id,
                "p_user_key": body.user_key,
                "p_prompt": body.prompt,
                "p_project_id": body.project_id,
                "p_scene_draft_id": body.scene_draft_id,
            },
        )
        row = conn.execute("SELECT %s::timestamptz = now()", (job["created_at"],)).fetchone()
        created = bool(row and row[0])
    try:
        job = ctx.dispatcher.dispatch(job, _callback_url(request, ctx))
    except DirectorStudioError as error:
        # The job is committed and awaits dispatch; retry_dispatch picks it up.
        log.warning("dispatch of clip job %s deferred: %s", body.job_id, error.message)
    return json_response(_job_json(job), 201 if created else 200)


@endpoint
def clip_webhook(request: flask.Request) -> flask.Response:
    """Apply one Standard Webhooks render-provider event to its job.

    The ``webhook-id`` is the event's idempotency key: a replay is a ``duplicate`` no-op, an
    event arriving after the job is final is ``stale``.
    """
    ctx = runtime.current()
    require_method(request)
    secrets = ctx.settings.require("clip_webhook_secret")
    raw = read_body(request, MAX_CLIP_BODY_BYTES)
    event_id = webhook_signing.verify(secrets, raw, dict(request.headers), clock=ctx.clock)
    event = parse_body(raw, ClipEvent)
    result = ctx.db.call_as_service(
        "apply_clip_event",
        {
            "p_event_id": event_id,
            "p_job_id": event.job_id,
            "p_status": event.status,
            "p_progress": event.progress,
            "p_download_url": event.download_url,
            "p_error": event.error,
            "p_provider_job_id": event.provider_job_id,
        },
        shape="value",
    )
    return json_response(ClipEventResult.model_validate(result).model_dump(mode="json"))


@endpoint
def retry_dispatch(request: flask.Request) -> flask.Response:
    """Scheduled: dispatch again the jobs the render provider has not accepted yet."""
    ctx = runtime.current()
    require_method(request)
    require_scheduler(request, ctx)
    read_optional_model(request, RetryDispatchRequest, MAX_SCHEDULER_BODY_BYTES)
    summary = ctx.dispatcher.retry_awaiting_dispatch(_callback_url(request, ctx))
    return json_response(summary.model_dump(mode="json"))
