"""``/auth/v1``: the GoTrue subset supabase-py and supabase-js use, with GoTrue's shapes, claims
and errors (every refusal in GoTrue's error JSON, ``gotrue_errors``).

Users live in ``auth.users`` (so the database's sign-up trigger runs), sessions in
``auth.sessions`` and rotating refresh tokens in ``auth.refresh_tokens``. Passwords are hashed
with bcrypt by pgcrypto's ``crypt``, the hash format GoTrue stores. Access tokens are ES256
with the stack's key; ``/.well-known/jwks.json`` publishes its public half.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from directorstudio.stack import tokens
from directorstudio.stack.common import (
    CONFIG_KEY,
    POOL_KEY,
    GatewayConfig,
    api_key_error,
    bearer_token,
    json_response,
)
from directorstudio.stack.db import AsyncConn, DatabaseUnavailable
from directorstudio.stack.gotrue import API_VERSION_HEADER, AuthError, load_user
from directorstudio.stack.gotrue_body import read_auth_json
from directorstudio.stack.gotrue_errors import refusal, unexpected_failure
from directorstudio.stack.gotrue_limits import RateLimiter
from directorstudio.stack.gotrue_refresh import refresh_grant
from directorstudio.stack.gotrue_sessions import logout, password_grant, signup
from directorstudio.stack.gotrue_user import SETTINGS, update_user

__all__ = ["add_routes", "refusal", "verified_claims"]

log = logging.getLogger("directorstudio.stack.auth")
LIMITER_KEY = web.AppKey("auth_rate_limiter", RateLimiter)


def verified_claims(request: web.Request, config: GatewayConfig) -> dict[str, Any]:
    """The claims of the request's user access token, or GoTrue's ``bad_jwt`` refusal."""
    token = bearer_token(request)
    if token is None:
        raise AuthError(401, "no_authorization", "This endpoint requires a Bearer token")
    try:
        claims = tokens.decode(token, config.keys, now=config.clock())
    except tokens.TokenError as error:
        detail = "token has invalid claims: token is expired" if error.expired else error.message
        raise AuthError(
            403, "bad_jwt", f"invalid JWT: unable to parse or verify signature, {detail}"
        ) from error
    if not claims.get("sub"):
        raise AuthError(403, "bad_jwt", "invalid claim: missing sub claim")
    return claims


async def _require_session(conn: AsyncConn, claims: dict[str, Any]) -> None:
    session_id = claims.get("session_id")
    cursor = await conn.execute(
        "SELECT 1 FROM auth.sessions WHERE id = %s::uuid AND user_id = %s::uuid",
        (session_id, claims["sub"]),
    )
    if session_id is None or await cursor.fetchone() is None:
        raise AuthError(
            403, "session_not_found", "Session from session_id claim in JWT does not exist"
        )


def _rate_limit(
    request: web.Request,
    config: GatewayConfig,
    action: str,
    grant: str | None,
    body: dict[str, Any],
) -> None:
    """Count the call against its GoTrue rate limit (429 past it)."""
    if action == "signup":
        anonymous = not body.get("email") and not body.get("phone")
        bucket = "anonymous_users" if anonymous else "sign_in_sign_ups"
    elif grant in ("password", "refresh_token"):
        bucket = "sign_in_sign_ups" if grant == "password" else "token_refresh"
    else:
        return
    limiter = request.app[LIMITER_KEY]
    limiter.check(config.auth_rate_limits, bucket, request.remote or "", config.clock())


async def _respond(
    request: web.Request, conn: AsyncConn, config: GatewayConfig, action: str
) -> web.StreamResponse | AuthError:
    """The reply to one auth call inside its transaction, or a refusal to send once the
    transaction has committed (a refresh-token reuse revokes the session's tokens)."""
    if action == "logout":
        claims = verified_claims(request, config)
        await logout(conn, claims, request.query.get("scope", "global"))
        return web.Response(status=204, headers=API_VERSION_HEADER)
    if action == "user":
        claims = verified_claims(request, config)
        user = await load_user(conn, str(claims["sub"]))
        if user is None:
            raise AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")
        await _require_session(conn, claims)
        if request.method == "PUT":
            body = await read_auth_json(request)
            user = await update_user(conn, user["id"], str(claims["session_id"]), body)
        return json_response(user, headers=API_VERSION_HEADER)
    body = await read_auth_json(request)
    reply: dict[str, Any] | AuthError
    grant = request.query.get("grant_type")
    _rate_limit(request, config, action, grant, body)
    if action == "signup":
        reply = await signup(conn, config, body)
    elif grant == "password":
        reply = await password_grant(conn, config, body)
    elif grant == "refresh_token":
        reply = await refresh_grant(conn, config, body)
    else:
        raise AuthError(400, "validation_failed", "unsupported_grant_type")
    if isinstance(reply, AuthError):
        return reply
    return json_response(reply, headers=API_VERSION_HEADER)


async def _handle(request: web.Request, action: str) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    if (api_key_refusal := api_key_error(request, config)) is not None:
        return api_key_refusal
    try:
        async with request.app[POOL_KEY].connection() as conn, conn.transaction():
            outcome = await _respond(request, conn, config, action)
        if isinstance(outcome, AuthError):
            raise outcome
        return outcome
    except AuthError as error:
        return error.response(request)
    except DatabaseUnavailable as error:
        log.warning("%s %s: %s", request.method, request.path, error.message)
        return AuthError(503, "unexpected_failure", error.message).response(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s %s failed unexpectedly", request.method, request.path)
        return unexpected_failure().response(request)


async def _signup(request: web.Request) -> web.StreamResponse:
    return await _handle(request, "signup")


async def _token(request: web.Request) -> web.StreamResponse:
    return await _handle(request, "token")


async def _user(request: web.Request) -> web.StreamResponse:
    return await _handle(request, "user")


async def _logout(request: web.Request) -> web.StreamResponse:
    return await _handle(request, "logout")


async def _health(request: web.Request) -> web.StreamResponse:
    return json_response({"version": "local", "name": "GoTrue", "description": "local stack"})


async def _settings(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    if (refusal := api_key_error(request, config)) is not None:
        return refusal
    return json_response(SETTINGS, headers=API_VERSION_HEADER)


async def _jwks(request: web.Request) -> web.StreamResponse:
    # Public, like hosted (verifiers fetch it without an API key): the access-token signing
    # key's public half; the legacy JWT secret is never listed.
    return json_response(request.app[CONFIG_KEY].keys.jwks)


def add_routes(app: web.Application) -> None:
    """Register the auth endpoints on ``app``."""
    app[LIMITER_KEY] = RateLimiter()
    app.router.add_post("/auth/v1/signup", _signup)
    app.router.add_post("/auth/v1/token", _token)
    app.router.add_get("/auth/v1/user", _user)
    app.router.add_put("/auth/v1/user", _user)
    app.router.add_get("/auth/v1/settings", _settings)
    app.router.add_post("/auth/v1/logout", _logout)
    app.router.add_get("/auth/v1/health", _health)
    app.router.add_get("/auth/v1/.well-known/jwks.json", _jwks)
