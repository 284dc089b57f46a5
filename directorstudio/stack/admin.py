"""``/auth/v1/admin``: the part of GoTrue's admin API the tooling uses (deleting a user).

Only a token whose role is ``service_role`` (the service key) is an admin, as in GoTrue. A hard
delete removes the ``auth.users`` row, and every row of the user goes with it by cascade; a soft
delete (``should_soft_delete``) keeps the row, marks it deleted and removes its identities and
sessions, as GoTrue does.
"""

from __future__ import annotations

import uuid

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
from directorstudio.stack.gotrue import API_VERSION_HEADER, AuthError
from directorstudio.stack.gotrue_body import read_auth_json

ADMIN_ROLES = frozenset({"service_role", "supabase_admin"})


def _require_admin(request: web.Request, config: GatewayConfig) -> None:
    token = bearer_token(request)
    if token is None:
        raise AuthError(401, "no_authorization", "This endpoint requires a Bearer token")
    try:
        claims = tokens.decode(token, config.keys, now=config.clock())
    except tokens.TokenError as error:
        raise AuthError(
            403, "bad_jwt", f"invalid JWT: unable to parse or verify signature, {error.message}"
        ) from error
    if claims.get("role") not in ADMIN_ROLES:
        raise AuthError(403, "not_admin", "User not allowed")


async def _soft_delete_requested(request: web.Request) -> bool:
    body = await read_auth_json(request)
    return body.get("should_soft_delete") is True


async def _delete_user(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    if (refusal := api_key_error(request, config)) is not None:
        return refusal
    try:
        _require_admin(request, config)
        try:
            user_id = str(uuid.UUID(request.match_info["user_id"]))
        except ValueError as error:
            raise AuthError(400, "validation_failed", "user_id must be an UUID") from error
        soft = await _soft_delete_requested(request)
        async with request.app[POOL_KEY].connection() as conn, conn.transaction():
            if soft:
                cursor = await conn.execute(
                    "UPDATE auth.users SET deleted_at = now(), email = NULL, phone = NULL,"
                    " encrypted_password = '', updated_at = now()"
                    " WHERE id = %s AND deleted_at IS NULL",
                    (user_id,),
                )
                await conn.execute("DELETE FROM auth.identities WHERE user_id = %s", (user_id,))
                await conn.execute("DELETE FROM auth.sessions WHERE user_id = %s", (user_id,))
            else:
                cursor = await conn.execute("DELETE FROM auth.users WHERE id = %s", (user_id,))
            if cursor.rowcount == 0:
                raise AuthError(404, "user_not_found", "User not found")
        return json_response({}, headers=API_VERSION_HEADER)
    except AuthError as error:
        return error.response(request)


def add_routes(app: web.Application) -> None:
    """Register the admin endpoints on ``app``."""
    app.router.add_delete("/auth/v1/admin/users/{user_id}", _delete_user)
