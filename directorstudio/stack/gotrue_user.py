"""GoTrue's ``PUT /user`` (the signed-in user changes email, password or metadata) and its
``GET /settings``.

Email changes are confirmed at once (``mailer_autoconfirm``, as ``supabase/config.toml`` sets
``enable_confirmations = false``); an anonymous user who sets an email becomes an email user.
A new password ends every other session of the user, as GoTrue does.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from directorstudio.stack.db import AsyncConn
from directorstudio.stack.gotrue import AuthError, load_user, valid_email, valid_password

EXTERNAL_PROVIDERS = (
    "apple", "azure", "bitbucket", "discord", "facebook", "figma", "fly", "github", "gitlab",
    "google", "keycloak", "kakao", "linkedin", "linkedin_oidc", "notion", "spotify", "slack",
    "slack_oidc", "workos", "twitch", "twitter", "zoom",
)  # fmt: skip

# What supabase/config.toml's [auth] sets: sign-up open, anonymous sign-ins on, email
# confirmations off; no OAuth provider, phone or SAML.
SETTINGS: dict[str, Any] = {
    "external": {
        "anonymous_users": True,
        **dict.fromkeys(EXTERNAL_PROVIDERS, False),
        "email": True,
        "phone": False,
    },
    "disable_signup": False,
    "mailer_autoconfirm": True,
    "phone_autoconfirm": False,
    "sms_provider": "twilio",
    "saml_enabled": False,
}


async def update_user(
    conn: AsyncConn, user_id: str, session_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Apply ``email``, ``password`` and ``data`` of ``body`` to the user; the updated user."""
    email = None if body.get("email") is None else valid_email(body["email"])
    password = None if body.get("password") is None else valid_password(body["password"])
    if body.get("phone"):
        raise AuthError(422, "phone_provider_disabled", "Unsupported phone provider")
    cursor = await conn.execute(
        "SELECT email,"
        " encrypted_password IS NOT NULL AND encrypted_password = extensions.crypt(%s,"
        " encrypted_password) FROM auth.users WHERE id = %s FOR UPDATE",
        (password or "", user_id),
    )
    row = await cursor.fetchone()
    if row is None:
        raise AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")
    current_email, same_password = row
    if password is not None and same_password:
        raise AuthError(
            422, "same_password", "New password should be different from the old password."
        )
    if isinstance(body.get("data"), dict):
        await _merge_metadata(conn, user_id, body["data"])
    if email is not None and email != current_email:
        await _change_email(conn, user_id, email)
    if password is not None:
        await conn.execute(
            "UPDATE auth.users SET encrypted_password ="
            " extensions.crypt(%s, extensions.gen_salt('bf', 10)), updated_at = now()"
            " WHERE id = %s",
            (password, user_id),
        )
        await conn.execute(
            "DELETE FROM auth.sessions WHERE user_id = %s AND id IS DISTINCT FROM %s::uuid",
            (user_id, session_id),
        )
    user = await load_user(conn, user_id)
    if user is None:
        raise AuthError(403, "user_not_found", "User from sub claim in JWT does not exist")
    return user


async def _merge_metadata(conn: AsyncConn, user_id: str, data: dict[str, Any]) -> None:
    """GoTrue merges ``data`` into user_metadata; a key set to null is removed."""
    removed = [key for key, value in data.items() if value is None]
    kept = {key: value for key, value in data.items() if value is not None}
    await conn.execute(
        "UPDATE auth.users SET raw_user_meta_data ="
        " (coalesce(raw_user_meta_data, '{}'::jsonb) - %s::text[]) || %s::jsonb,"
        " updated_at = now() WHERE id = %s",
        (removed, json.dumps(kept), user_id),
    )


async def _change_email(conn: AsyncConn, user_id: str, email: str) -> None:
    """Confirmed at once; an anonymous user becomes an email user with an email identity."""
    try:
        async with conn.transaction():
            await conn.execute(
                "UPDATE auth.users SET email = %s, email_confirmed_at = now(),"
                " confirmed_at = coalesce(confirmed_at, now()), is_anonymous = false,"
                " raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb)"
                ' || \'{"provider": "email", "providers": ["email"]}\'::jsonb,'
                " updated_at = now() WHERE id = %s",
                (email, user_id),
            )
    except psycopg.errors.UniqueViolation as error:
        raise AuthError(
            422, "email_exists", "A user with this email address has already been registered"
        ) from error
    identity = {"sub": user_id, "email": email, "email_verified": True, "phone_verified": False}
    await conn.execute(
        "INSERT INTO auth.identities (provider_id, user_id, identity_data, provider,"
        " last_sign_in_at, created_at, updated_at)"
        " VALUES (%s, %s, %s, 'email', now(), now(), now())"
        " ON CONFLICT (provider_id, provider) DO UPDATE SET"
        " identity_data = auth.identities.identity_data || excluded.identity_data,"
        " updated_at = now()",
        (user_id, user_id, json.dumps(identity)),
    )
