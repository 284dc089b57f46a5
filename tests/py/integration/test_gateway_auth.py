"""The gateway's /auth/v1 answers supabase-py's auth client as GoTrue does."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from directorstudio.stack import tokens
from tests.support.gateway import (  # noqa: F401 - fixtures
    Clock,
    RunningGateway,
    clock_fixture,
    gateway_fixture,
    sync_client,
)


def test_an_anonymous_sign_in_creates_a_user_with_credits_and_a_real_jwt(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    client = sync_client(gateway)
    reply = client.auth.sign_in_anonymously()
    assert reply.user is not None
    assert reply.session is not None
    assert reply.user.is_anonymous
    claims = tokens.decode(reply.session.access_token, gateway.keys)
    assert claims["sub"] == reply.user.id
    assert claims["role"] == "authenticated"
    assert claims["aud"] == "authenticated"
    assert claims["is_anonymous"] is True
    assert claims["amr"][0]["method"] == "anonymous"
    assert claims["session_id"]
    assert reply.session.expires_in == 3600
    ledger = admin_conn.execute(
        "SELECT user_key FROM public.credits_ledger WHERE user_id = %s", (reply.user.id,)
    ).fetchone()
    assert ledger == (reply.user.id,)


def test_an_email_sign_up_returns_a_session_and_stores_an_email_identity(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    client = sync_client(gateway)
    reply = client.auth.sign_up({"email": "Ada@Example.com", "password": "secret-123"})
    assert reply.user is not None
    assert reply.session is not None
    assert reply.user.email == "ada@example.com"
    assert not reply.user.is_anonymous
    assert reply.user.app_metadata == {"provider": "email", "providers": ["email"]}
    assert [identity.provider for identity in reply.user.identities or []] == ["email"]
    stored = admin_conn.execute(
        "SELECT encrypted_password LIKE '$2%%' FROM auth.users WHERE id = %s", (reply.user.id,)
    ).fetchone()
    assert stored == (True,)


def test_signing_up_twice_with_one_email_is_user_already_exists(gateway: RunningGateway) -> None:
    client = sync_client(gateway)
    client.auth.sign_up({"email": "ada@example.com", "password": "secret-123"})
    with pytest.raises(AuthApiError) as raised:
        client.auth.sign_up({"email": "ada@example.com", "password": "another-123"})
    assert raised.value.status == 422
    assert raised.value.code == "user_already_exists"


def test_a_short_password_is_weak_password(gateway: RunningGateway) -> None:
    with pytest.raises(AuthWeakPasswordError) as raised:
        sync_client(gateway).auth.sign_up({"email": "ada@example.com", "password": "123"})
    assert raised.value.status == 422
    assert raised.value.reasons == ["length"]


def test_signing_in_with_the_right_password_returns_the_same_user(
    gateway: RunningGateway,
) -> None:
    client = sync_client(gateway)
    created = client.auth.sign_up({"email": "ada@example.com", "password": "secret-123"})
    signed_in = sync_client(gateway).auth.sign_in_with_password(
        {"email": "ada@example.com", "password": "secret-123"}
    )
    assert created.user is not None
    assert signed_in.user is not None
    assert signed_in.user.id == created.user.id
    assert signed_in.session is not None
    claims = tokens.decode(signed_in.session.access_token, gateway.keys)
    assert claims["email"] == "ada@example.com"
    assert claims["amr"][0]["method"] == "password"


def test_a_wrong_password_is_invalid_credentials(gateway: RunningGateway) -> None:
    sync_client(gateway).auth.sign_up({"email": "ada@example.com", "password": "secret-123"})
    with pytest.raises(AuthApiError) as raised:
        sync_client(gateway).auth.sign_in_with_password(
            {"email": "ada@example.com", "password": "wrong-123"}
        )
    assert raised.value.status == 400
    assert raised.value.code == "invalid_credentials"
    assert str(raised.value) == "Invalid login credentials"


def test_a_refresh_rotates_the_refresh_token_and_a_grandparent_is_spent(
    gateway: RunningGateway, clock: Clock
) -> None:
    client = sync_client(gateway)
    first = client.auth.sign_in_anonymously().session
    assert first is not None
    refreshed = client.auth.refresh_session().session
    assert refreshed is not None
    assert refreshed.refresh_token != first.refresh_token
    assert refreshed.user.id == first.user.id
    assert client.auth.refresh_session().session is not None
    clock.now += 11
    with pytest.raises(AuthApiError) as raised:
        sync_client(gateway).auth.refresh_session(first.refresh_token)
    assert raised.value.status == 400
    assert raised.value.code == "refresh_token_already_used"


def test_an_unknown_refresh_token_is_refresh_token_not_found(gateway: RunningGateway) -> None:
    with pytest.raises(AuthApiError) as raised:
        sync_client(gateway).auth.refresh_session("not-a-token")
    assert raised.value.status == 400
    assert raised.value.code == "refresh_token_not_found"


def test_get_user_returns_the_signed_in_user(gateway: RunningGateway) -> None:
    client = sync_client(gateway)
    session = client.auth.sign_up({"email": "ada@example.com", "password": "secret-123"})
    fetched = client.auth.get_user()
    assert fetched is not None
    assert session.user is not None
    assert fetched.user.id == session.user.id
    assert fetched.user.email == "ada@example.com"


def test_get_user_with_a_badly_signed_token_is_bad_jwt(gateway: RunningGateway) -> None:
    forged = tokens.encode({"sub": "x", "role": "authenticated"}, "not-the-secret")
    with pytest.raises(AuthApiError) as raised:
        sync_client(gateway).auth.get_user(forged)
    assert raised.value.status == 403
    assert raised.value.code == "bad_jwt"


def test_sign_out_revokes_the_session_and_its_refresh_token(gateway: RunningGateway) -> None:
    client = sync_client(gateway)
    session = client.auth.sign_in_anonymously().session
    assert session is not None
    client.auth.sign_out()
    assert client.auth.get_session() is None
    with pytest.raises(AuthApiError) as user_error:
        sync_client(gateway).auth.get_user(session.access_token)
    assert user_error.value.code == "session_not_found"
    with pytest.raises(AuthApiError) as refresh_error:
        sync_client(gateway).auth.refresh_session(session.refresh_token)
    assert refresh_error.value.code == "refresh_token_not_found"


def test_logout_answers_204(gateway: RunningGateway) -> None:
    session = sync_client(gateway).auth.sign_in_anonymously().session
    assert session is not None
    reply = httpx.post(
        f"{gateway.url}/auth/v1/logout?scope=global",
        headers={
            "apikey": gateway.keys.anon_key,
            "Authorization": f"Bearer {session.access_token}",
        },
    )
    assert reply.status_code == 204


def test_auth_without_an_api_key_is_refused(gateway: RunningGateway) -> None:
    reply = httpx.post(f"{gateway.url}/auth/v1/signup", json={})
    assert reply.status_code == 401
    assert reply.json()["message"] == "No API key found in request"


def test_an_access_token_expires_after_an_hour_of_the_gateway_clock(
    gateway: RunningGateway, clock: Clock
) -> None:
    session = sync_client(gateway).auth.sign_in_anonymously().session
    assert session is not None
    clock.now += 3601
    with pytest.raises(AuthApiError) as raised:
        sync_client(gateway).auth.get_user(session.access_token)
    assert raised.value.code == "bad_jwt"
