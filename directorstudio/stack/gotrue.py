"""GoTrue's users in the ``auth`` schema: the user object GoTrue returns, and the validation of
emails and passwords (sessions and tokens: ``gotrue_sessions``, ``gotrue_refresh``).

Passwords are hashed with bcrypt by pgcrypto's ``crypt``, the hash format GoTrue stores.
"""

from __future__ import annotations

import re
from typing import Any

from directorstudio.stack.db import AsyncConn
from directorstudio.stack.gotrue_errors import API_VERSION_HEADER, AuthError

__all__ = ["API_VERSION_HEADER", "AuthError", "load_user", "valid_email", "valid_password"]

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
    """The user as GoTrue returns it, or None when there is no such (undeleted) user."""
    cursor = await conn.execute(USER_QUERY, (user_id,))
    row = await cursor.fetchone()
    return None if row is None else user_json(row)


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
