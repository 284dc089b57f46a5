"""``grant_type=refresh_token``: refresh-token rotation with GoTrue's reuse rules.

Each refresh revokes the token used and issues its child. A revoked token may still be used:

- when it is the parent of the session's active token (the client lost the reply of its last
  refresh), the reply carries that same active token again, not a new one;
- within the reuse interval (10 s, ``GatewayConfig.refresh_token_reuse_interval``) after it was
  rotated, it is rotated again (concurrent refreshes of one session all succeed).

Any other use of a revoked token is taken as theft: every token of the session is revoked (the
whole family, so a token revoked that way is never accepted again) and the answer is 400
``refresh_token_already_used`` "Invalid Refresh Token: Already Used". The revocation is kept
although the request is refused, so :func:`refresh_grant` returns that refusal instead of
raising it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from directorstudio.stack.common import GatewayConfig
from directorstudio.stack.db import AsyncConn
from directorstudio.stack.gotrue import AuthError
from directorstudio.stack.gotrue_sessions import new_refresh_token, session_reply

REFRESH_ROW_QUERY = """
SELECT r.user_id, r.session_id, r.revoked,
       coalesce(extract(epoch FROM r.updated_at), 0)::float8, u.is_anonymous,
       EXISTS (SELECT 1 FROM auth.refresh_tokens AS c WHERE c.parent = r.token) AS rotated
FROM auth.refresh_tokens AS r
JOIN auth.sessions AS s ON s.id = r.session_id
JOIN auth.users AS u ON u.id = s.user_id
WHERE r.token = %s AND u.deleted_at IS NULL
FOR UPDATE OF r, s
"""
ACTIVE_CHILD_QUERY = """
SELECT token, parent FROM auth.refresh_tokens
WHERE session_id = %s AND NOT revoked
ORDER BY id DESC
LIMIT 1
"""


@dataclass(frozen=True)
class _Token:
    value: str
    user_id: str
    session_id: str
    revoked: bool
    revoked_at: float
    rotated: bool
    method: str


def already_used() -> AuthError:
    """GoTrue's refusal of a refresh token reused outside its allowances."""
    return AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")


async def _find(conn: AsyncConn, value: str) -> _Token:
    # Locks the token and its session: concurrent refreshes of one session run one at a time.
    cursor = await conn.execute(REFRESH_ROW_QUERY, (value,))
    row = await cursor.fetchone()
    if row is None:
        raise AuthError(
            400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
        )
    user_id, session_id, revoked, updated_at, is_anonymous, rotated = row
    return _Token(
        value=value,
        user_id=str(user_id),
        session_id=str(session_id),
        revoked=bool(revoked),
        revoked_at=float(updated_at),
        rotated=bool(rotated),
        method="anonymous" if is_anonymous else "password",
    )


async def _active_child(conn: AsyncConn, token: _Token) -> str | None:
    """The session's active token when ``token`` is its parent."""
    cursor = await conn.execute(ACTIVE_CHILD_QUERY, (token.session_id,))
    row = await cursor.fetchone()
    if row is not None and row[1] == token.value:
        return str(row[0])
    return None


async def _rotate(conn: AsyncConn, config: GatewayConfig, token: _Token) -> str:
    """Revoke ``token`` (if it is not yet) and issue its child."""
    if not token.revoked:
        await conn.execute(
            "UPDATE auth.refresh_tokens SET revoked = true, updated_at = to_timestamp(%s)"
            " WHERE token = %s",
            (config.clock(), token.value),
        )
    await conn.execute(
        "UPDATE auth.sessions SET refreshed_at = to_timestamp(%s) AT TIME ZONE 'UTC',"
        " updated_at = now() WHERE id = %s",
        (config.clock(), token.session_id),
    )
    return await new_refresh_token(conn, config, token.user_id, token.session_id, token.value)


async def revoke_family(conn: AsyncConn, config: GatewayConfig, session_id: str) -> None:
    """Revoke every token of the session (what reuse detection does)."""
    await conn.execute(
        "UPDATE auth.refresh_tokens SET revoked = true, updated_at = to_timestamp(%s)"
        " WHERE session_id = %s AND NOT revoked",
        (config.clock(), session_id),
    )


async def refresh_grant(
    conn: AsyncConn, config: GatewayConfig, body: dict[str, Any]
) -> dict[str, Any] | AuthError:
    """A new session reply for the refresh token of ``body``, or the refusal to answer once the
    transaction (which keeps a family revocation) has committed."""
    value = body.get("refresh_token")
    if not isinstance(value, str) or not value:
        raise AuthError(400, "validation_failed", "Refresh token is required")
    token = await _find(conn, value)
    issued: str | None = None
    if token.revoked:
        issued = await _active_child(conn, token)
        reusable = (
            token.rotated
            and config.clock() <= token.revoked_at + config.refresh_token_reuse_interval
        )
        if issued is None and not reusable:
            await revoke_family(conn, config, token.session_id)
            return already_used()
    if issued is None:
        issued = await _rotate(conn, config, token)
    return await session_reply(conn, config, token.user_id, token.session_id, issued, token.method)
