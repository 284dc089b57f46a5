"""The gateway's ``PUT /auth/v1/user``, ``GET /auth/v1/settings`` and its JSON refusals on
every /auth/v1 path, as GoTrue answers them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from supabase_auth.errors import AuthApiError, AuthSessionMissingError, AuthWeakPasswordError

from tests.support.gateway import (  # noqa: F401 - fixtures
    RunningGateway,
    clock_fixture,
    gateway_fixture,
    sync_client,
)
from tests.support.gotrue import API_VERSION_NAME, VERSIONED, error_code

CONFIG_TOML = Path(__file__).resolve().parents[3] / "supabase" / "config.toml"


def _signed_up(gateway: RunningGateway, email: str = "ada@example.com") -> Any:
    client = sync_client(gateway)
    client.auth.sign_up({"email": email, "password": "secret-123"})
    return client


def test_a_new_password_is_the_one_a_later_password_sign_in_accepts(
    gateway: RunningGateway,
) -> None:
    client = _signed_up(gateway)
    reply = client.auth.update_user({"password": "changed-456"})
    assert reply.user.email == "ada@example.com"
    with pytest.raises(AuthApiError) as old:
        sync_client(gateway).auth.sign_in_with_password(
            {"email": "ada@example.com", "password": "secret-123"}
        )
    assert old.value.code == "invalid_credentials"
    signed_in = sync_client(gateway).auth.sign_in_with_password(
        {"email": "ada@example.com", "password": "changed-456"}
    )
    assert signed_in.user is not None
    assert signed_in.user.id == reply.user.id


def test_a_new_email_and_metadata_come_back_in_the_updated_user(
    gateway: RunningGateway, admin_conn: psycopg.Connection[Any]
) -> None:
    client = sync_client(gateway)
    client.auth.sign_up(
        {"email": "ada@example.com", "password": "secret-123", "options": {"data": {"a": 1}}}
    )
    reply = client.auth.update_user(
        {"email": "grace@example.com", "data": {"name": "Grace", "a": None}}
    )
    assert reply.user.email == "grace@example.com"
    assert reply.user.user_metadata == {"name": "Grace"}
    row = admin_conn.execute(
        "SELECT email, raw_user_meta_data FROM auth.users WHERE id = %s", (reply.user.id,)
    ).fetchone()
    assert row == ("grace@example.com", {"name": "Grace"})
    signed_in = sync_client(gateway).auth.sign_in_with_password(
        {"email": "grace@example.com", "password": "secret-123"}
    )
    assert signed_in.user is not None
    assert signed_in.user.id == reply.user.id


def test_an_anonymous_user_who_sets_email_and_password_can_sign_in_with_them(
    gateway: RunningGateway,
) -> None:
    client = sync_client(gateway)
    anonymous = client.auth.sign_in_anonymously().user
    assert anonymous is not None
    reply = client.auth.update_user({"email": "ada@example.com", "password": "secret-123"})
    assert reply.user.id == anonymous.id
    assert not reply.user.is_anonymous
    signed_in = sync_client(gateway).auth.sign_in_with_password(
        {"email": "ada@example.com", "password": "secret-123"}
    )
    assert signed_in.user is not None
    assert signed_in.user.id == anonymous.id


def test_updating_a_user_without_a_session_is_refused(gateway: RunningGateway) -> None:
    with pytest.raises(AuthSessionMissingError):
        sync_client(gateway).auth.update_user({"password": "changed-456"})
    reply = httpx.put(
        f"{gateway.url}/auth/v1/user",
        json={"password": "changed-456"},
        headers={"apikey": gateway.keys.anon_key},
    )
    assert reply.status_code == 401
    assert error_code(reply) == "no_authorization"


def test_updating_a_user_with_a_signed_out_session_is_session_not_found(
    gateway: RunningGateway,
) -> None:
    client = _signed_up(gateway)
    session = client.auth.get_session()
    assert session is not None
    client.auth.sign_out()
    reply = httpx.put(
        f"{gateway.url}/auth/v1/user",
        json={"password": "changed-456"},
        headers={
            "apikey": gateway.keys.anon_key,
            "Authorization": f"Bearer {session.access_token}",
        },
    )
    assert reply.status_code == 403
    assert error_code(reply) == "session_not_found"


def test_a_short_new_password_is_weak_password_and_changes_nothing(
    gateway: RunningGateway,
) -> None:
    client = _signed_up(gateway)
    with pytest.raises(AuthWeakPasswordError) as raised:
        client.auth.update_user({"password": "abc"})
    assert raised.value.status == 422
    signed_in = sync_client(gateway).auth.sign_in_with_password(
        {"email": "ada@example.com", "password": "secret-123"}
    )
    assert signed_in.user is not None


@pytest.mark.parametrize(
    ("attributes", "status", "code"),
    [
        ({"password": "secret-123"}, 422, "same_password"),
        ({"email": "not-an-email"}, 400, "validation_failed"),
        ({"email": "taken@example.com"}, 422, "email_exists"),
    ],
)
def test_a_refused_update_answers_gotrues_code(
    gateway: RunningGateway, attributes: dict[str, str], status: int, code: str
) -> None:
    _signed_up(gateway, "taken@example.com")
    client = _signed_up(gateway)
    with pytest.raises(AuthApiError) as raised:
        client.auth.update_user(attributes)
    assert raised.value.status == status
    assert raised.value.code == code
    assert client.auth.get_user() is not None
    user = client.auth.get_user()
    assert user is not None
    assert user.user.email == "ada@example.com"


def test_a_new_password_ends_the_users_other_sessions(gateway: RunningGateway) -> None:
    client = _signed_up(gateway)
    other = sync_client(gateway)
    other.auth.sign_in_with_password({"email": "ada@example.com", "password": "secret-123"})
    other_session = other.auth.get_session()
    assert other_session is not None
    client.auth.update_user({"password": "changed-456"})
    assert client.auth.get_user() is not None
    with pytest.raises(AuthApiError) as raised:
        sync_client(gateway).auth.get_user(other_session.access_token)
    assert raised.value.code == "session_not_found"


def test_settings_answer_as_gotrue_for_the_projects_config(gateway: RunningGateway) -> None:
    config = tomllib.loads(CONFIG_TOML.read_text())["auth"]
    reply = httpx.get(f"{gateway.url}/auth/v1/settings", headers={"apikey": gateway.keys.anon_key})
    assert reply.status_code == 200
    settings = reply.json()
    assert settings["disable_signup"] is not config["enable_signup"]
    assert settings["mailer_autoconfirm"] is not config["email"]["enable_confirmations"]
    assert settings["external"]["anonymous_users"] is config["enable_anonymous_sign_ins"]
    assert settings["external"]["email"] is config["email"]["enable_signup"]
    assert settings["external"]["google"] is False
    assert settings["external"]["phone"] is False
    assert settings["phone_autoconfirm"] is False
    assert settings["saml_enabled"] is False
    assert isinstance(settings["sms_provider"], str)


@pytest.mark.parametrize("versioned", [True, False], ids=["api-2024-01-01", "initial-api"])
@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/auth/v1/no/such/path", 404, "not_found"),
        ("GET", "/auth/v1", 404, "not_found"),
        ("DELETE", "/auth/v1/user", 405, "method_not_allowed"),
        ("POST", "/auth/v1/settings", 405, "method_not_allowed"),
        ("PATCH", "/auth/v1/token", 405, "method_not_allowed"),
    ],
)
def test_every_auth_path_refuses_in_gotrues_error_json(
    gateway: RunningGateway, method: str, path: str, status: int, code: str, versioned: bool
) -> None:
    headers = {"apikey": gateway.keys.anon_key} | (VERSIONED if versioned else {})
    reply = httpx.request(method, f"{gateway.url}{path}", headers=headers)
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("application/json")
    assert (API_VERSION_NAME in reply.headers) == versioned
    assert error_code(reply) == code
    if status == 405:
        assert reply.headers["Allow"]
