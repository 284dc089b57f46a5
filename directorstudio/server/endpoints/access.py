"""Who may call what: signed-in users, and the scheduler (or anything holding the service key)."""

from __future__ import annotations

import flask

from directorstudio.server.auth import Caller, bearer_token, not_authenticated, secrets_equal
from directorstudio.server.runtime import ServerContext

SCHEDULER_HEADER = "X-DirectorStudio-Scheduler-Secret"


def signed_in_user(request: flask.Request, ctx: ServerContext) -> Caller:
    """The user of the request's bearer access token, or ``not_authenticated``."""
    return ctx.verifier.verify_user(bearer_token(request.headers.get("Authorization")))


def require_scheduler(request: flask.Request, ctx: ServerContext) -> None:
    """Accept the scheduler secret header, the service role key, or a service-role JWT."""
    settings = ctx.settings
    if secrets_equal(request.headers.get(SCHEDULER_HEADER), settings.scheduler_secret):
        return
    header = request.headers.get("Authorization")
    if header:
        token = bearer_token(header)
        if secrets_equal(token, settings.service_role_key) or ctx.verifier.is_service_token(token):
            return
    raise not_authenticated("scheduler credentials required")


def sibling_url(request: flask.Request, name: str) -> str:
    """The URL of function ``name`` served next to this one (same host and path prefix)."""
    prefix = request.path.rstrip("/").rsplit("/", 1)[0]
    return f"{request.host_url.rstrip('/')}{prefix}/{name}"
