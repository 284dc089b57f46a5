"""GoTrue's users, sessions and rotating refresh tokens in the ``auth`` schema.

Passwords are hashed with bcrypt by pgcrypto's ``crypt``, the hash format GoTrue stores.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from typing import Any

import psycopg
from aiohttp import web

from directorstudio.stack import tokens
from directorstudio.stack.common import GatewayConfig, json_response
from directorstudio.stack.db import AsyncConn

API_VERSION_HEADER = {"X-Supabase-Api-Version": "2024-01-01"}
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 6
MAX_PASSWORD_LENGTH = 72  # bcrypt's limit, as GoTrue enforces it
MAX_EMAIL_LENGTH = 255  # auth.users.email is varchar(255)

USER_QUERY = """
SELECT u.id, u.aud, u.role, u.email, u.phone, u.email_confirmed_at, u.confirmed_at,
       u.last_sign_in_at, u.raw_app_meta_data, u.raw_user_meta_data, u.created_at,
       u.updated_at, u.is_anonymous,
       coalesce((
           SELECT json_agg(json_build_object(
               'identity_id', i.id, 'id', i.provider_id, 'user_id', i.user_id,
               'identity_data', i.identity_data, 'provider', i.provider,
               'last_sign_in_at', i.last_sign_in_at, 'created_at', i.created_at,
               'updated_at', i.updated_at, 'email', i.email) ORDER BY i.created_at)
           FROM auth.identities AS i WHERE i.user_id = u.id
       ), '[]'::json) AS identities
FROM auth.users AS u
WHERE u.id = %s AND u.deleted_at IS NULL
"""


class AuthError(Exception):
    """A GoTrue error reply: HTTP status, error code and message."""

    def __init__(
        self, status: int, code: str, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}

    def response(self) -> web.Response:
        body = {"code": self.code, "error_code": self.code, "message": self.message}
        body.update(self.extra)
        return json_response(body, status=self.status, headers=API_VERSION_HEADER)


def _timestamp(value: Any) -> str | None:
    if value is None:
        return None
    text: str = value.isoformat()
    return text.replace("+00:00", "Z")


def user_json(row: tuple[Any, ...]) -> dict[str, Any]:
    """A user object as GoTrue returns it."""
    (
        user_id,
        aud,
        role,
        email,
        phone,
        email_confirmed_at,
        confirmed_at,
        last_sign_in_at,
        app_metadata,
        user_metadata,
        created_at,
        updated_at,
        is_anonymous,
        identities,
    ) = row
    return {
        "id": str(user_id),
        "aud": aud or "authenticated",
        "role": role or "authenticated",
        "email": email or "",
        "email_confirmed_at": _timestamp(email_confirmed_at),
        "phone": phone or "",
        "confirmed_at": _timestamp(confirmed_at),
        "last_sign_in_at": _timestamp(last_sign_in_at),
        "app_metadata": app_metadata or {},
        "user_metadata": user_metadata or {},
        "identities": identities or [],
        "created_at": _timestamp(created_at),
        "updated_at": _timestamp(updated_at),
        "is_anonymous": bool(is_anonymous),
    }


async def load_user(conn: AsyncConn, user_id: str) -> dict[str, Any] | None:
    cursor = await conn.execute(USER_QUERY, (user_id,))
    row = await cursor.fetchone()
    return None if row is None else user_json(row)


async def _issue_session(
    conn: AsyncConn, config: GatewayConfig, user_id: str, method: str
) -> dict[str, Any]:
    """Open a session with a fresh refresh token; the session reply GoTrue sends."""
    session_id = str(uuid.uuid4())
    await conn.execute(
        "INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal)"
        " VALUES (%s, %s, now(), now(), 'aal1')",
        (session_id, user_id),
    )
    refresh_token = await _new_refresh_token(conn, user_id, session_id, parent=None)
    return await _session_reply(conn, config, user_id, session_id, refresh_token, method)


async def _new_refresh_token(
    conn: AsyncConn, user_id: str, session_id: str, parent: str | None
) -> str:
    token = secrets.token_urlsafe(9)
    await conn.execute(
        "INSERT INTO auth.refresh_tokens"
        " (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)"
        " VALUES ('00000000-0000-0000-0000-000000000000', %s, %s, false, now(), now(), %s, %s)",
        (token, user_id, parent, session_id),
    )
    return token


async def _session_reply(
    conn: AsyncConn,
    config: GatewayConfig,
    user_id: str,
    session_id: str,
    refresh_token: str,
    method: str,
) -> dict[str, Any]:
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
        "access_token": tokens.encode(claims, config.keys.jwt_secret),
        "token_type": "bearer",
        "expires_in": config.access_token_ttl,
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": user,
    }


def valid_email(email: Any) -> str:
    """``email`` normalised as GoTrue stores it, or its ``validation_failed`` refusal."""
    if (
        not isinstance(email, str)
        or len(email) > MAX_EMAIL_LENGTH
        or not EMAIL_PATTERN.match(email)
    ):
        raise AuthError(
            400, "validation_failed", "Unable to validate email address: invalid format"
        )
    return email.strip().lower()


def valid_password(password: Any) -> str:
    """``password`` if GoTrue accepts it, else its ``weak_password`` refusal (422)."""
    if isinstance(password, str) and len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(
            422,
            "weak_password",
            f"Password cannot be longer than {MAX_PASSWORD_LENGTH} characters.",
            {"weak_password": {"reasons": ["length"]}},
        )
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(
            422,
            "weak_password",
            f"Password should be at least {MIN_PASSWORD_LENGTH} characters.",
            {"weak_password": {"reasons": ["length"]}},
        )
    return password


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
            " VALUES ('00000000-0000-0000-0000-000000000000', %s, 'authenticated',"
            " 'authenticated', '{}', %s, now(), now(), now(), true)",
            (user_id, json.dumps(metadata)),
        )
        return await _issue_session(conn, config, user_id, "anonymous")
    email = valid_email(email)
    password = valid_password(password)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password,"
                " email_confirmed_at, confirmed_at, last_sign_in_at, raw_app_meta_data,"
                " raw_user_meta_data, created_at, updated_at, is_anonymous)"
                " VALUES ('00000000-0000-0000-0000-000000000000', %s, 'authenticated',"
                " 'authenticated', %s, extensions.crypt(%s, extensions.gen_salt('bf', 10)),"
                ' now(), now(), now(), \'{"provider": "email", "providers": ["email"]}\','
                " %s, now(), now(), false)",
                (user_id, email, password, json.dumps(metadata)),
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
    return await _issue_session(conn, config, user_id, "password")


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
    return await _issue_session(conn, config, user_id, "password")


async def refresh_grant(
    conn: AsyncConn, config: GatewayConfig, body: dict[str, Any]
) -> dict[str, Any]:
    """``grant_type=refresh_token``: rotate the refresh token of a live session."""
    token = body.get("refresh_token")
    if not isinstance(token, str) or not token:
        raise AuthError(400, "validation_failed", "Refresh token is required")
    cursor = await conn.execute(
        "SELECT r.user_id, r.session_id, r.revoked, u.is_anonymous FROM auth.refresh_tokens AS r"
        " JOIN auth.sessions AS s ON s.id = r.session_id"
        " JOIN auth.users AS u ON u.id = s.user_id"
        " WHERE r.token = %s FOR UPDATE OF r",
        (token,),
    )
    row = await cursor.fetchone()
    if row is None:
        raise AuthError(
            400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
        )
    user_id, session_id, revoked, is_anonymous = str(row[0]), str(row[1]), row[2], row[3]
    if revoked:
        raise AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
    await conn.execute(
        "UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE token = %s",
        (token,),
    )
    await conn.execute(
        "UPDATE auth.sessions SET refreshed_at = now() AT TIME ZONE 'UTC', updated_at = now()"
        " WHERE id = %s",
        (session_id,),
    )
    new_token = await _new_refresh_token(conn, user_id, session_id, parent=token)
    method = "anonymous" if is_anonymous else "password"
    return await _session_reply(conn, config, user_id, session_id, new_token, method)


async def logout(conn: AsyncConn, claims: dict[str, Any], scope: str) -> None:
    """Revoke sessions (their refresh tokens go with them): global, local or others."""
    if scope not in ("global", "local", "others"):
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
