"""GoTrue's sessions: sign-up (email or anonymous) and password sign-in open one, with an access
token signed by the stack's key and a refresh token; logout ends them.

Sessions live in ``auth.sessions``, refresh tokens in ``auth.refresh_tokens`` (rotated by
``gotrue_refresh``). Token timestamps come from the gateway's clock, so the refresh-token reuse
interval can be tested without waiting.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

import psycopg

from directorstudio.stack import tokens
from directorstudio.stack.common import GatewayConfig
from directorstudio.stack.db import AsyncConn
from directorstudio.stack.gotrue import AuthError, load_user, valid_email, valid_password

INSTANCE_ID = "00000000-0000-0000-0000-000000000000"
LOGOUT_SCOPES = ("global", "local", "others")


async def issue_session(
    conn: AsyncConn, config: GatewayConfig, user_id: str, method: str
) -> dict[str, Any]:
    """Open a session with a fresh refresh token; the session reply GoTrue sends."""
    session_id = str(uuid.uuid4())
    await conn.execute(
        "INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal)"
        " VALUES (%s, %s, now(), now(), 'aal1')",
        (session_id, user_id),
    )
    refresh_token = await new_refresh_token(conn, config, user_id, session_id, parent=None)
    return await session_reply(conn, config, user_id, session_id, refresh_token, method)


async def new_refresh_token(
    conn: AsyncConn, config: GatewayConfig, user_id: str, session_id: str, parent: str | None
) -> str:
    """A new active refresh token of the session (the child of ``parent``, if given)."""
    token = secrets.token_urlsafe(9)
    await conn.execute(
        "INSERT INTO auth.refresh_tokens"
        " (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)"
        " VALUES (%s, %s, %s, false, to_timestamp(%s), to_timestamp(%s), %s, %s)",
        (INSTANCE_ID, token, user_id, config.clock(), config.clock(), parent, session_id),
    )
    return token


async def session_reply(
    conn: AsyncConn,
    config: GatewayConfig,
    user_id: str,
    session_id: str,
    refresh_token: str,
    method: str,
) -> dict[str, Any]:
    """GoTrue's session JSON: a new access token (ES256, GoTrue's claims), the refresh token
    and the user."""
    user = await load_user(conn, user_id)
    if user is None:
        raise AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")
    now = int(config.clock())
    expires_at = now + config.access_token_ttl
    claims = {
        "iss": config.auth_issuer,
        "sub": user["id"],
        "aud": "authenticated",
        "exp": expires_at,
        "iat": now,
        "email": user["email"],
        "phone": user["phone"],
        "app_metadata": user["app_metadata"],
        "user_metadata": user["user_metadata"],
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": method, "timestamp": now}],
        "session_id": session_id,
        "is_anonymous": user["is_anonymous"],
    }
    return {
        "access_token": tokens.sign_access_token(claims, config.keys),
        "token_type": "bearer",
        "expires_in": config.access_token_ttl,
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": user,
    }


async def signup(conn: AsyncConn, config: GatewayConfig, body: dict[str, Any]) -> dict[str, Any]:
    """Email/password sign-up (confirmed at once), or an anonymous sign-in without either."""
    email = body.get("email")
    password = body.get("password")
    metadata = body.get("data") if isinstance(body.get("data"), dict) else {}
    user_id = str(uuid.uuid4())
    if not email and not body.get("phone"):
        await conn.execute(
            "INSERT INTO auth.users (instance_id, id, aud, role, raw_app_meta_data,"
            " raw_user_meta_data, created_at, updated_at, last_sign_in_at, is_anonymous)"
            " VALUES (%s, %s, 'authenticated', 'authenticated', '{}', %s, now(), now(), now(),"
            " true)",
            (INSTANCE_ID, user_id, json.dumps(metadata)),
        )
        return await issue_session(conn, config, user_id, "anonymous")
    email = valid_email(email)
    password = valid_password(password)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password,"
                " email_confirmed_at, confirmed_at, last_sign_in_at, raw_app_meta_data,"
                " raw_user_meta_data, created_at, updated_at, is_anonymous)"
                " VALUES (%s, %s, 'authenticated',"
                " 'authenticated', %s, extensions.crypt(%s, extensions.gen_salt('bf', 10)),"
                ' now(), now(), now(), \'{"provider": "email", "providers": ["email"]}\','
                " %s, now(), now(), false)",
                (INSTANCE_ID, user_id, email, password, json.dumps(metadata)),
            )
    except psycopg.errors.UniqueViolation as error:
        raise AuthError(422, "user_already_exists", "User already registered") from error
    identity = {"sub": user_id, "email": email, "email_verified": False, "phone_verified": False}
    await conn.execute(
        "INSERT INTO auth.identities (provider_id, user_id, identity_data, provider,"
        " last_sign_in_at, created_at, updated_at)"
        " VALUES (%s, %s, %s, 'email', now(), now(), now())",
        (user_id, user_id, json.dumps(identity)),
    )
    return await issue_session(conn, config, user_id, "password")


async def password_grant(
    conn: AsyncConn, config: GatewayConfig, body: dict[str, Any]
) -> dict[str, Any]:
    """``grant_type=password``: email and password."""
    email = body.get("email")
    password = body.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not password:
        raise AuthError(400, "validation_failed", "missing email or phone")
    cursor = await conn.execute(
        "SELECT id FROM auth.users WHERE lower(email) = lower(%s) AND NOT is_anonymous"
        " AND deleted_at IS NULL AND encrypted_password = extensions.crypt(%s, encrypted_password)",
        (email.strip(), password),
    )
    row = await cursor.fetchone()
    if row is None:
        raise AuthError(400, "invalid_credentials", "Invalid login credentials")
    user_id = str(row[0])
    await conn.execute("UPDATE auth.users SET last_sign_in_at = now() WHERE id = %s", (user_id,))
    return await issue_session(conn, config, user_id, "password")


async def logout(conn: AsyncConn, claims: dict[str, Any], scope: str) -> None:
    """End sessions, and with them every refresh token they hold (the foreign key cascades):
    ``global`` all of the user's, ``local`` this one, ``others`` all but this one."""
    if scope not in LOGOUT_SCOPES:
        raise AuthError(400, "validation_failed", "Unsupported logout scope")
    session_id = claims.get("session_id")
    if scope == "global":
        await conn.execute("DELETE FROM auth.sessions WHERE user_id = %s", (claims["sub"],))
    elif scope == "local":
        await conn.execute(
            "DELETE FROM auth.sessions WHERE id = %s::uuid AND user_id = %s",
            (session_id, claims["sub"]),
        )
    else:
        await conn.execute(
            "DELETE FROM auth.sessions WHERE user_id = %s AND id IS DISTINCT FROM %s::uuid",
            (claims["sub"], session_id),
        )
