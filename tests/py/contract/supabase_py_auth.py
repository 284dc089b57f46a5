"""The auth contract scenarios written with supabase-py's async client."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from supabase_auth.errors import AuthApiError, AuthError

from tests.py.contract.supabase_py_scenarios import Context

PASSWORD = "correct horse battery"


async def _auth_error(call: Awaitable[Any]) -> str | None:
    """The error code of an auth call that must fail (None when it succeeded)."""
    try:
        await call
    except AuthApiError as error:
        return error.code
    return None


async def password_sign_up_sign_in_update_refresh_and_sign_out(ctx: Context) -> dict[str, Any]:
    sb = await ctx.client()
    address = f"{uuid.uuid4()}@example.com"
    new_password = f"{PASSWORD} again"
    signed_up = await sb.auth.sign_up({"email": address, "password": PASSWORD})
    user_id = signed_up.user.id if signed_up.user else None
    await sb.auth.sign_out()
    wrong = await _auth_error(
        sb.auth.sign_in_with_password({"email": address, "password": "not it at all"})
    )
    signed_in = await sb.auth.sign_in_with_password({"email": address, "password": PASSWORD})
    got = await sb.auth.get_user()
    updated = await sb.auth.update_user({"data": {"display_name": "Ada"}})
    await sb.auth.update_user({"password": new_password})
    old_password = await _auth_error(
        sb.auth.sign_in_with_password({"email": address, "password": PASSWORD})
    )
    new_sign_in = await sb.auth.sign_in_with_password({"email": address, "password": new_password})
    first = new_sign_in.session
    refreshed = await sb.auth.refresh_session()
    second = refreshed.session
    assert first is not None
    assert second is not None
    with_refreshed = await sb.auth.get_user(second.access_token)
    await sb.auth.sign_out()
    reused = await _auth_error(sb.auth.refresh_session(second.refresh_token))
    try:
        after_sign_out = await sb.auth.get_user(second.access_token)
        refused = after_sign_out is None or after_sign_out.user is None
    except AuthError:
        refused = True
    return {
        "sign_up_opens_a_session": signed_up.session is not None,
        "wrong_password_error": wrong,
        "sign_in_is_the_signed_up_user": signed_in.user is not None
        and signed_in.user.id == user_id,
        "get_user_email_matches": got is not None and got.user.email == address,
        "updated_user_metadata": updated.user.user_metadata,
        "old_password_after_update_error": old_password,
        "new_password_signs_in": new_sign_in.user is not None and new_sign_in.user.id == user_id,
        "refresh_rotates_the_refresh_token": second.refresh_token != first.refresh_token,
        "refreshed_access_token_is_accepted": with_refreshed is not None
        and with_refreshed.user.id == user_id,
        "refreshed_user_is_the_same": refreshed.user is not None and refreshed.user.id == user_id,
        "refresh_after_sign_out_error": reused,
        "get_user_after_sign_out_refused": refused,
    }


async def anonymous_sign_in_and_get_user(ctx: Context) -> dict[str, Any]:
    sb = await ctx.client()
    reply = await sb.auth.sign_in_anonymously()
    assert reply.user is not None
    assert reply.session is not None
    got = await sb.auth.get_user()
    await sb.auth.sign_out()
    return {
        "is_anonymous": reply.user.is_anonymous,
        "role": reply.user.role,
        "aud": reply.user.aud,
        "token_type": reply.session.token_type,
        "expires_in": reply.session.expires_in,
        "get_user_is_the_same_user": got is not None and got.user.id == reply.user.id,
        "get_user_is_anonymous": got.user.is_anonymous if got else None,
    }


def _forge(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = json.dumps({**claims, "role": "service_role"}).encode()
    return ".".join([header, base64.urlsafe_b64encode(forged).rstrip(b"=").decode(), signature])


async def access_tokens_verify_through_the_jwks_and_refresh_tokens_allow_reuse_within_the_interval(
    ctx: Context,
) -> dict[str, Any]:
    sb = await ctx.client()
    signed_in = await sb.auth.sign_in_anonymously()
    assert signed_in.user is not None
    assert signed_in.session is not None
    verified = await sb.auth.get_claims()
    assert verified is not None
    try:
        await sb.auth.get_claims(_forge(signed_in.session.access_token))
        forged_refused = False
    except AuthError:
        forged_refused = True
    first = await sb.auth.refresh_session()
    reused = await sb.auth.refresh_session(signed_in.session.refresh_token)
    await sb.auth.sign_out()
    return {
        "alg": verified["headers"]["alg"],
        "has_kid": isinstance(verified["headers"].get("kid"), str),
        "claims_are_the_user": verified["claims"]["sub"] == signed_in.user.id,
        "claims_role": verified["claims"]["role"],
        "forged_token_refused": forged_refused,
        "refresh_succeeds": first.session is not None,
        "reuse_within_interval_is_the_same_user": reused.user is not None
        and reused.user.id == signed_in.user.id,
    }


AUTH_SCENARIOS: dict[str, Callable[[Context], Awaitable[dict[str, Any]]]] = {
    scenario.__name__: scenario
    for scenario in (
        password_sign_up_sign_in_update_refresh_and_sign_out,
        anonymous_sign_in_and_get_user,
        access_tokens_verify_through_the_jwks_and_refresh_tokens_allow_reuse_within_the_interval,
    )
}
